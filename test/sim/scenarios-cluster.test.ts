// Named scenarios, part 4: membership changes under faults, leadership transfer under load, and
// linearizable reads (ReadIndex and lease) under partitions.
import { describe, expect, it } from 'vitest';
import type { ClusterConfig, ConfChange, NodeId } from '../../src/core/types.js';
import { SimViolation } from './checker.js';
import type { Cluster } from './cluster.js';
import { commitOne, converged, electionBoundMs, electionTimeoutMaxMs, others, scenarioCluster, waitLeader } from './helpers.js';
import { reliableNetwork, unreliableNetwork } from './network.js';
import { livenessBoundMs } from './workload.js';

const modes = [
  { label: 'log only', snapshots: false },
  { label: 'snapshots', snapshots: true },
] as const;

const snapshotRaft = { snapshotThreshold: 8, maxSnapshotChunkBytes: 8 };

function sameMembers(config: ClusterConfig, voters: NodeId[], learners: NodeId[]): boolean {
  const sort = (a: NodeId[]): string => [...a].sort().join(',');
  return sort(config.voters) === sort(voters) && sort(config.learners) === sort(learners);
}

/** Proposes `change` on whoever leads until the leader has applied it. */
function changeMembership(c: Cluster, change: ConfChange, voters: NodeId[], learners: NodeId[]): void {
  const deadline = c.nowMs + 4 * electionBoundMs;
  while (c.nowMs <= deadline) {
    const leader = c.leader();
    if (leader !== undefined && sameMembers(leader.sm!.config, voters, learners)) return;
    if (leader !== undefined) {
      const r = c.proposeConfChange(leader.id, change);
      if (r.ok) c.runUntil(() => c.leader() !== leader || leader.sm!.appliedIndex >= r.index, 2 * electionTimeoutMaxMs);
      else c.runFor(c.tickMs * 5);
    } else {
      c.runFor(c.tickMs);
    }
  }
  c.checker.fail('scenario', `membership change ${change.type} ${change.nodeId} did not take effect in time`);
}

describe.each(modes)('cluster operations ($label)', ({ label, snapshots }) => {
  const raft = snapshots ? snapshotRaft : {};
  const name = (s: string): string => `cluster operations (${label}) ${s}`;

  it('membership changes under faults', () => {
    const c = scenarioCluster(name('membership changes under faults'), {
      seed: 31, nodeIds: ['n1', 'n2', 'n3', 'n4', 'n5'], voters: ['n1', 'n2', 'n3'], snapshots, raft, network: unreliableNetwork,
    });
    const p = c.prng.fork();
    waitLeader(c, ['n1', 'n2', 'n3']);
    for (let i = 0; i < 10; i++) commitOne(c, ['n1', 'n2', 'n3']);
    // n4 and n5 run but are not members: they must not disturb the cluster.
    const steps: [ConfChange, NodeId[], NodeId[]][] = [
      [{ type: 'addLearner', nodeId: 'n4' }, ['n1', 'n2', 'n3'], ['n4']],
      [{ type: 'promoteLearner', nodeId: 'n4' }, ['n1', 'n2', 'n3', 'n4'], []],
      [{ type: 'addVoter', nodeId: 'n5' }, ['n1', 'n2', 'n3', 'n4', 'n5'], []],
      [{ type: 'removeNode', nodeId: 'n1' }, ['n2', 'n3', 'n4', 'n5'], []],
      [{ type: 'removeNode', nodeId: 'n2' }, ['n3', 'n4', 'n5'], []],
      [{ type: 'addVoter', nodeId: 'n1' }, ['n1', 'n3', 'n4', 'n5'], []],
    ];
    for (const [change, voters, learners] of steps) {
      // A fault between every step: a crash and restart of a random member, or a partition.
      const victim = p.pick(voters);
      if (p.chance(0.5)) {
        c.crash(victim);
        c.runFor(p.int(electionTimeoutMaxMs));
        c.restart(victim);
      } else {
        c.isolate(victim);
        c.runFor(p.int(electionTimeoutMaxMs));
        c.reconnect(victim);
      }
      for (let i = 0; i < 5; i++) {
        const leader = c.leader();
        if (leader !== undefined) c.propose(leader.id);
      }
      changeMembership(c, change, voters, learners);
      for (let i = 0; i < 3; i++) commitOne(c, voters);
    }
    c.setNetwork(reliableNetwork);
    const members = ['n1', 'n3', 'n4', 'n5'];
    commitOne(c, members);
    expect(c.runUntil(() => converged(c, members) && members.every((id) => sameMembers(c.node(id).sm!.config, members, [])), 2_000)).toBe(true);
    // The removed n2 stays up and must not disrupt: the leader keeps its term.
    const leader = waitLeader(c, members);
    c.runFor(20 * electionTimeoutMaxMs);
    expect(c.leader()).toBe(leader);
    commitOne(c, members);
  });

  it('leadership transfer under load', () => {
    const c = scenarioCluster(name('leadership transfer under load'), { seed: 32, nodes: 5, snapshots, raft });
    const p = c.prng.fork();
    waitLeader(c);
    let transfers = 0;
    for (let round = 0; round < 8; round++) {
      const from = waitLeader(c);
      const target = p.pick(others(c, from.id));
      const acked = c.checker.proposalsAcked;
      expect(c.transferLeader(from.id, target).ok).toBe(true);
      // Keep proposing to whoever leads while the transfer runs.
      const moved = c.runUntilWith(() => {
        const leader = c.leader();
        if (leader !== undefined) c.propose(leader.id);
      }, () => c.leader()?.id === target, 2 * electionBoundMs);
      expect(moved).toBe(true);
      transfers++;
      for (let i = 0; i < 5; i++) commitOne(c);
      expect(c.checker.proposalsAcked).toBeGreaterThan(acked);
      // A transfer to a node that is cut off must not leave the cluster leaderless for long.
      if (round % 3 === 2) {
        const leader = waitLeader(c);
        const cut = p.pick(others(c, leader.id));
        c.isolate(cut);
        c.transferLeader(leader.id, cut);
        c.runFor(3 * electionTimeoutMaxMs);
        c.reconnect(cut);
        commitOne(c);
      }
    }
    expect(transfers).toBe(8);
    c.healAndCheckLiveness(livenessBoundMs);
  });

  it('ReadIndex and lease reads never return stale data under partitions', () => {
    for (const network of [reliableNetwork, unreliableNetwork]) {
      const c = scenarioCluster(name('ReadIndex and lease reads never return stale data under partitions'), { seed: 33, nodes: 5, snapshots, raft, network });
      const p = c.prng.fork();
      waitLeader(c);
      for (let iter = 0; iter < 200; iter++) {
        const leader = c.leader();
        const target = leader !== undefined && p.chance(0.8) ? leader.id : p.pick(c.ids);
        c.propose(target);
        c.read(target, false);
        c.read(target, true);
        // Every so often the leader is cut off with a minority; reads keep coming at both sides.
        if (leader !== undefined && p.chance(0.08)) {
          const buddy = p.pick(others(c, leader.id));
          c.partition([leader.id, buddy], others(c, leader.id, buddy));
        }
        if (p.chance(0.05)) c.heal();
        if (p.chance(0.03)) {
          const id = p.pick(c.ids);
          c.crash(id);
          c.restart(id);
        }
        c.runFor(p.int(5 * c.tickMs));
      }
      c.healAndCheckLiveness(livenessBoundMs);
      for (let i = 0; i < 20; i++) {
        const leader = waitLeader(c);
        c.read(leader.id, i % 2 === 0);
        c.runFor(c.tickMs * 2);
      }
      c.runFor(electionTimeoutMaxMs);
      // The checker verified each released read; make sure there were plenty.
      expect(c.checker.readsChecked).toBeGreaterThan(50);
    }
  });

  it('lease reads after a process pause are safe only when the driver catches up missed ticks', () => {
    // The leader is paused (SIGSTOP, a long GC pause) long enough for the others to elect a new
    // leader and commit; it resumes cut off from them and is asked for a lease read at once.
    const run = (resumeWithoutCatchUp: boolean): SimViolation | undefined => {
      const c = scenarioCluster(name('lease reads after a process pause are safe only when the driver catches up missed ticks'), {
        seed: 34, nodes: 3, snapshots, raft, resumeWithoutCatchUp,
      });
      try {
        for (let iter = 0; iter < 20; iter++) {
          const leader = waitLeader(c);
          commitOne(c);
          c.pause(leader.id);
          c.runFor(4 * electionTimeoutMaxMs);
          commitOne(c, others(c, leader.id));
          c.isolate(leader.id);
          c.node(leader.id).held = []; // what it was sent while stopped is lost with the connections
          c.resume(leader.id);
          c.read(leader.id, true);
          c.runFor(3 * c.tickMs);
          c.heal();
        }
      } catch (e) {
        if (e instanceof SimViolation) return e;
        throw e;
      }
      return undefined;
    };
    expect(run(false)).toBeUndefined();
    // A driver that counts timer callbacks instead of measuring elapsed time lets the old leader
    // believe its lease still holds: the checker must catch the stale read.
    expect(run(true)?.invariant).toBe('lease read not stale');
  });

  it('lease reads stay safe when the leader\'s clock runs a few percent slow, not when it runs far slower', () => {
    // The leader's lease and the followers' promise not to elect anyone else are both measured
    // in ticks, each on its own clock. A slow leader clock stretches its lease in real time; the
    // one-tick margin (leaseValid) absorbs drift up to about 1 / electionTimeoutMinTicks.
    const run = (leaderRate: number): SimViolation | undefined => {
      const c = scenarioCluster(name(`lease reads with the leader's clock at ${leaderRate}x`), { seed: 35, nodes: 3, snapshots, raft });
      try {
        for (let iter = 0; iter < 30; iter++) {
          const leader = waitLeader(c);
          c.setClockRate(leader.id, leaderRate);
          commitOne(c);
          c.read(leader.id, true); // a fresh lease
          c.runFor(c.tickMs);
          c.isolate(leader.id);
          // The others elect a leader and commit as soon as their clocks allow; the old leader,
          // cut off, keeps being asked for lease reads all the while.
          const deadline = c.nowMs + 4 * electionTimeoutMaxMs;
          while (c.nowMs < deadline && (c.leader() === undefined || c.leader()!.id === leader.id)) {
            c.read(leader.id, true);
            c.runFor(c.tickMs);
          }
          commitOne(c, others(c, leader.id));
          for (let i = 0; i < 5; i++) {
            c.read(leader.id, true);
            c.runFor(c.tickMs);
          }
          c.setClockRate(leader.id, 1);
          c.heal();
        }
      } catch (e) {
        if (e instanceof SimViolation) return e;
        throw e;
      }
      return undefined;
    };
    expect(run(0.97)).toBeUndefined();
    expect(run(0.6)?.invariant).toBe('lease read not stale');
  });
});
