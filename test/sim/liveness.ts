/**
 * Liveness: once every fault heals, a leader is elected and a proposal commits on every member
 * within a bounded virtual time.
 */
import type { Cluster } from './cluster.js';
import { reliableNetwork } from './network.js';
import type { SimNode } from './sim-node.js';

export interface LivenessResult {
  electedAfterMs: number;
  committedAfterMs: number;
}

/**
 * Heals every fault (network reliable, every node up) and asserts that within `boundMs` of
 * virtual time a leader is elected, a fresh proposal commits on it, and every member applies it.
 */
export function healAndCheckLiveness(cluster: Cluster, boundMs: number): LivenessResult {
  cluster.network.heal();
  cluster.network.profile = { ...reliableNetwork };
  for (const node of cluster.nodes.values()) {
    node.tornCrash = false;
    if (node.paused) cluster.resume(node.id);
    if (!node.up) cluster.restart(node.id);
  }
  const start = cluster.nowMs;
  const deadline = start + boundMs;
  let electedAfterMs = -1;
  let pending: { leader: SimNode; term: number; proposalId: number; index: number } | undefined;
  // A refused proposal (e.g. during a leadership transfer) is retried once per tick, as a client
  // with a backoff would, not on every event.
  let lastAttemptAt = -1;
  while (cluster.nowMs <= deadline) {
    const leader = cluster.leader();
    if (leader !== undefined) {
      if (electedAfterMs < 0) electedAfterMs = cluster.nowMs - start;
      const stale = pending === undefined || pending.leader !== leader || pending.term !== leader.term;
      if (stale && cluster.nowMs >= lastAttemptAt + cluster.tickMs) {
        lastAttemptAt = cluster.nowMs;
        const r = cluster.propose(leader.id);
        pending = r.ok ? { leader, term: leader.term, proposalId: r.proposalId, index: r.index } : undefined;
      }
    }
    if (pending !== undefined && allMembersApplied(cluster, pending.leader, pending.index) && cluster.checker.isAcked(pending.proposalId)) {
      cluster.checker.checkAcknowledgedDurable();
      const committedAfterMs = cluster.nowMs - start;
      checkReadsAnswered(cluster, pending.leader, deadline);
      return { electedAfterMs, committedAfterMs };
    }
    cluster.step();
  }
  return cluster.checker.fail(
    'liveness',
    `after healing every fault, ${electedAfterMs < 0 ? 'no leader was elected' : 'no proposal committed on every member'} within ${boundMs} ms of virtual time`,
  );
}

function allMembersApplied(cluster: Cluster, leader: SimNode, index: number): boolean {
  const config = leader.sm!.config;
  for (const id of [...config.voters, ...config.learners]) {
    const node = cluster.nodes.get(id);
    if (node === undefined || node.sm === null || node.sm.appliedIndex < index) return false;
  }
  return true;
}

/**
 * On a healthy cluster, a ReadIndex read and a lease read are both answered (released to the
 * caller) before `deadline`. A message sent before the heal may still move leadership after it (a
 * TimeoutNow delayed past the transfer's abandonment, seed 2001344 with async writes): reads the
 * old leader held are then lost with its leadership, as a real node fails them (`NotLeaderError`),
 * and the reads are asked again of the new leader, within the same deadline.
 */
function checkReadsAnswered(cluster: Cluster, leader: SimNode, deadline: number): void {
  for (let asked = leader; ; ) {
    const contexts: number[] = [];
    for (const lease of [false, true]) {
      const r = cluster.read(asked.id, lease);
      if (!r.ok) cluster.checker.fail('reads answered', `the healed leader ${asked.id} refused a ${lease ? 'lease' : 'ReadIndex'} read (${r.code})`);
      contexts.push(r.proposalId);
    }
    const answered = (): boolean => contexts.every((context) => !asked.pendingReads.has(context));
    const term = asked.term;
    const moved = (): boolean => asked.role !== 'leader' || asked.term !== term;
    if (cluster.runUntil(() => answered() || moved(), Math.max(0, deadline - cluster.nowMs)) && answered()) return;
    const next = moved() && cluster.runUntil(() => cluster.leader() !== undefined, Math.max(0, deadline - cluster.nowMs)) ? cluster.leader() : undefined;
    if (next === undefined) {
      cluster.checker.fail('reads answered', `the healed leader ${asked.id} did not answer reads ${contexts.join(', ')} in time (leader now ${cluster.leader()?.id ?? 'none'})`);
    }
    asked = next!;
  }
}
