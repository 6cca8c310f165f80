/**
 * Small drivers shared by the named scenarios: wait for a leader, commit a write everywhere,
 * count messages. Every wait is bounded in virtual time and fails with the cluster dump.
 */
import type { Message, NodeId } from '../../src/core/types.js';
import { Cluster, type ClusterOptions, type SimNode } from './cluster.js';

/** Default election timeout upper bound (core default 300 ms). */
export const electionTimeoutMaxMs = 300;
/** How long a healthy cluster may take to elect a leader: a few split votes' worth. */
export const electionBoundMs = 10 * electionTimeoutMaxMs;
/** How long a healthy cluster may take to commit one proposal everywhere. */
export const commitBoundMs = 2_000;

export function scenarioCluster(name: string, options: ClusterOptions): Cluster {
  return new Cluster({ ...options, replay: `npx vitest run test/sim/scenarios -t ${JSON.stringify(name)} (cluster seed ${options.seed})` });
}

export function fail(cluster: Cluster, what: string): never {
  return cluster.checker.fail('scenario', what);
}

/** Waits for a leader every other live node in `among` agrees on. */
export function waitLeader(cluster: Cluster, among?: NodeId[], boundMs = electionBoundMs): SimNode {
  const ids = among ?? cluster.ids;
  const agreed = (): SimNode | undefined => {
    const leader = cluster.leader();
    if (leader === undefined || !ids.includes(leader.id)) return undefined;
    for (const id of ids) {
      const n = cluster.node(id);
      if (n.up && cluster.network.connected(leader.id, id) && n.id !== leader.id && (n.leaderId !== leader.id || n.term !== leader.term)) return undefined;
    }
    return leader;
  };
  if (!cluster.runUntil(() => agreed() !== undefined, boundMs)) fail(cluster, `no leader agreed on among ${ids.join(',')} within ${boundMs} ms`);
  return agreed()!;
}

/** Whether every node in `ids` has applied `index`. */
export function appliedOn(cluster: Cluster, ids: NodeId[], index: number): boolean {
  return ids.every((id) => (cluster.node(id).sm?.appliedIndex ?? -1) >= index);
}

/**
 * Proposes on the current leader (re-proposing if leadership moves) until the write is applied on
 * every node in `ids`. Returns the index.
 */
export function commitOne(cluster: Cluster, ids: NodeId[] = cluster.ids, boundMs = commitBoundMs + electionBoundMs): number {
  const deadline = cluster.nowMs + boundMs;
  while (cluster.nowMs <= deadline) {
    const leader = waitLeader(cluster, ids, deadline - cluster.nowMs + 1);
    const r = cluster.propose(leader.id);
    if (!r.ok) {
      cluster.runFor(cluster.tickMs);
      continue;
    }
    const done = cluster.runUntil(
      () => cluster.checker.isAcked(r.proposalId) && appliedOn(cluster, ids, r.index),
      Math.min(commitBoundMs, deadline - cluster.nowMs + 1),
    );
    if (done) return r.index;
  }
  return fail(cluster, `no proposal applied on ${ids.join(',')} within ${boundMs} ms`);
}

/** Counts sent messages by type while `fn` runs. */
export function countMessages(cluster: Cluster, fn: () => void): Map<Message['type'], number> & { total: number; rejects: number } {
  const counts = new Map<Message['type'], number>() as Map<Message['type'], number> & { total: number; rejects: number };
  counts.total = 0;
  counts.rejects = 0;
  const previous = cluster.onSend;
  cluster.onSend = (m) => {
    counts.total++;
    counts.set(m.type, (counts.get(m.type) ?? 0) + 1);
    if (m.type === 'AppendEntriesResponse' && !m.success) counts.rejects++;
    previous?.(m);
  };
  try {
    fn();
  } finally {
    cluster.onSend = previous;
  }
  return counts;
}

/** The nodes other than `id`. */
export function others(cluster: Cluster, ...ids: NodeId[]): NodeId[] {
  return cluster.ids.filter((x) => !ids.includes(x));
}

/** The applied state (index, hash) of every live node, for convergence checks. */
export function converged(cluster: Cluster, ids: NodeId[] = cluster.ids): boolean {
  const states = ids.map((id) => cluster.node(id).sm);
  if (states.some((s) => s === null)) return false;
  const first = states[0]!;
  return states.every((s) => s!.appliedIndex === first.appliedIndex && s!.hash === first.hash);
}
