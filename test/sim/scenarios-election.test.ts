// Named scenarios, part 1: elections. Each runs with and without snapshots; the checker asserts
// every safety invariant after every event, and each test asserts its own liveness claim.
import { describe, expect, it } from 'vitest';
import { commitOne, countMessages, electionTimeoutMaxMs, others, scenarioCluster, waitLeader } from './helpers.js';

const modes = [
  { label: 'log only', snapshots: false },
  { label: 'snapshots', snapshots: true },
] as const;

const snapshotRaft = { snapshotThreshold: 8, maxSnapshotChunkBytes: 8 };

describe.each(modes)('elections ($label)', ({ label, snapshots }) => {
  const raft = snapshots ? snapshotRaft : {};
  const name = (s: string): string => `elections (${label}) ${s}`;

  it('initial election', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const c = scenarioCluster(name('initial election'), { seed, nodes: 3, snapshots, raft });
      const leader = waitLeader(c);
      const term = leader.term;
      expect(term).toBeGreaterThan(0);
      // With no faults the leader stays and the term does not move.
      c.runFor(10 * electionTimeoutMaxMs);
      expect(c.leader()).toBe(leader);
      expect(leader.term).toBe(term);
      for (const id of others(c, leader.id)) {
        expect(c.node(id).leaderId).toBe(leader.id);
        expect(c.node(id).term).toBe(term);
      }
    }
  });

  it('re-election after the leader is lost', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const c = scenarioCluster(name('re-election after the leader is lost'), { seed, nodes: 3, snapshots, raft });
      const first = waitLeader(c);
      c.isolate(first.id);
      const second = waitLeader(c, others(c, first.id));
      expect(second.id).not.toBe(first.id);
      expect(second.term).toBeGreaterThan(first.term);
      // The old leader rejoins as a follower of the new one (or a later) term.
      c.reconnect(first.id);
      const third = waitLeader(c);
      expect(c.node(first.id).term).toBe(third.term);
      expect(third.term).toBeGreaterThanOrEqual(second.term);
      // And once more by crash instead of partition.
      c.crash(third.id);
      const fourth = waitLeader(c, others(c, third.id));
      expect(fourth.term).toBeGreaterThan(third.term);
      c.restart(third.id);
      waitLeader(c);
      commitOne(c);
    }
  });

  it('no leader without a quorum', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const c = scenarioCluster(name('no leader without a quorum'), { seed, nodes: 5, snapshots, raft });
      const leader = waitLeader(c);
      const followers = others(c, leader.id);
      // Leave the leader with one follower: it must step down (check quorum) and nobody may win.
      for (const id of followers.slice(0, 3)) c.isolate(id);
      c.runFor(3 * electionTimeoutMaxMs);
      const electionsBefore = c.checker.elections;
      c.runFor(20 * electionTimeoutMaxMs);
      expect(c.checker.elections).toBe(electionsBefore);
      expect(c.upNodes().filter((n) => n.role === 'leader')).toEqual([]);
      // A quorum back: a leader again.
      c.reconnect(followers[0]!);
      waitLeader(c, [leader.id, followers[0]!, followers[3]!]);
      c.heal();
      commitOne(c);
    }
  });

  it('many elections in a row', () => {
    const c = scenarioCluster(name('many elections in a row'), { seed: 11, nodes: 7, snapshots, raft });
    const p = c.prng.fork();
    waitLeader(c);
    const rounds = 12;
    const electionsBefore = c.checker.elections;
    for (let round = 0; round < rounds; round++) {
      // Cut the leader and two others off (a minority of seven): the other four must elect.
      const leader = waitLeader(c);
      const followers = others(c, leader.id);
      const cut = [leader.id, p.pick(followers)];
      cut.push(p.pick(followers.filter((id) => !cut.includes(id))));
      for (const id of cut) c.isolate(id);
      const next = waitLeader(c, others(c, ...cut));
      expect(next.term).toBeGreaterThan(leader.term);
      c.heal();
      if (round % 3 === 0) commitOne(c);
    }
    expect(c.checker.elections - electionsBefore).toBeGreaterThanOrEqual(rounds);
    commitOne(c);
  });

  it('message count stays bounded (no storms)', () => {
    const c = scenarioCluster(name('message count stays bounded (no storms)'), { seed: 3, nodes: 5, snapshots, raft });
    waitLeader(c);
    commitOne(c);
    const ticks = 1000;
    const heartbeatTicks = 5; // 50 ms / 10 ms, the defaults
    const peers = 4;
    const idle = countMessages(c, () => c.runFor(ticks * c.tickMs));
    // Heartbeats to each peer and their answers, plus a little slack; nothing else when idle.
    const bound = (ticks / heartbeatTicks) * peers * 2 * 1.05 + 20;
    expect(idle.total).toBeLessThanOrEqual(bound);
    expect(idle.total).toBeGreaterThan(0);
    expect(idle.get('RequestVote') ?? 0).toBe(0);
    // Under load: a bounded number of messages per committed entry.
    const busy = countMessages(c, () => {
      for (let i = 0; i < 100; i++) commitOne(c);
    });
    expect(busy.total).toBeLessThanOrEqual(100 * peers * 2 * 3 + bound);
    expect(busy.get('RequestVote') ?? 0).toBe(0);
  });
});
