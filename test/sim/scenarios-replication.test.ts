// Named scenarios, part 2: replication. Each runs with and without snapshots (with snapshots on,
// the leader compacts every few entries, so lagging followers catch up by InstallSnapshot in
// several chunks).
import { describe, expect, it } from 'vitest';
import { appliedOn, commitBoundMs, commitOne, converged, countMessages, electionBoundMs, electionTimeoutMaxMs, others, scenarioCluster, waitLeader } from './helpers.js';

const modes = [
  { label: 'log only', snapshots: false },
  { label: 'snapshots', snapshots: true },
] as const;

const snapshotRaft = { snapshotThreshold: 8, maxSnapshotChunkBytes: 8 };

describe.each(modes)('replication ($label)', ({ label, snapshots }) => {
  const raft = snapshots ? snapshotRaft : {};
  const name = (s: string): string => `replication (${label}) ${s}`;

  it('basic agreement', () => {
    const c = scenarioCluster(name('basic agreement'), { seed: 1, nodes: 3, snapshots, raft });
    waitLeader(c);
    let last = 0;
    for (let i = 0; i < 30; i++) {
      const index = commitOne(c);
      expect(index).toBeGreaterThan(last);
      last = index;
    }
    expect(converged(c)).toBe(true);
    if (snapshots) expect(c.stats.snapshotsTaken).toBeGreaterThan(0);
  });

  it('agreement despite a disconnected follower', () => {
    const c = scenarioCluster(name('agreement despite a disconnected follower'), { seed: 2, nodes: 3, snapshots, raft });
    const leader = waitLeader(c);
    const follower = others(c, leader.id)[0]!;
    c.isolate(follower);
    for (let i = 0; i < 25; i++) commitOne(c, others(c, follower));
    c.reconnect(follower);
    const index = commitOne(c);
    expect(appliedOn(c, c.ids, index)).toBe(true);
    expect(c.runUntil(() => converged(c), commitBoundMs)).toBe(true);
    if (snapshots) expect(c.stats.snapshotsInstalled).toBeGreaterThan(0);
  });

  it('no commit without a majority', () => {
    const c = scenarioCluster(name('no commit without a majority'), { seed: 3, nodes: 5, snapshots, raft });
    const leader = waitLeader(c);
    const before = commitOne(c);
    const cut = others(c, leader.id).slice(0, 3);
    for (const id of cut) c.isolate(id);
    const r = c.propose(leader.id);
    expect(r.ok).toBe(true);
    c.runFor(2 * electionTimeoutMaxMs);
    if (!r.ok) return;
    for (const id of c.ids) expect(c.node(id).durable.hardState.commit).toBeLessThan(r.index);
    expect(c.checker.isAcked(r.proposalId)).toBe(false);
    expect(c.checker.maxCommittedIndex).toBe(before);
    c.heal();
    commitOne(c);
  });

  it('concurrent proposals', () => {
    const c = scenarioCluster(name('concurrent proposals'), { seed: 4, nodes: 3, snapshots, raft });
    const leader = waitLeader(c);
    const indexes: number[] = [];
    const ids: number[] = [];
    for (let i = 0; i < 50; i++) {
      const r = c.propose(leader.id);
      expect(r.ok).toBe(true);
      if (r.ok) {
        indexes.push(r.index);
        ids.push(r.proposalId);
      }
    }
    // Consecutive indexes, all acknowledged, applied everywhere.
    for (let i = 1; i < indexes.length; i++) expect(indexes[i]).toBe(indexes[i - 1]! + 1);
    expect(c.runUntil(() => ids.every((id) => c.checker.isAcked(id)) && appliedOn(c, c.ids, indexes.at(-1)!), commitBoundMs)).toBe(true);
  });

  it('a partitioned old leader rejoins', () => {
    const c = scenarioCluster(name('a partitioned old leader rejoins'), { seed: 5, nodes: 3, snapshots, raft });
    const old = waitLeader(c);
    commitOne(c);
    c.isolate(old.id);
    // Writes to the cut-off leader cannot commit...
    const lost = [c.propose(old.id), c.propose(old.id), c.propose(old.id)];
    const rest = others(c, old.id);
    waitLeader(c, rest);
    for (let i = 0; i < 12; i++) commitOne(c, rest);
    c.reconnect(old.id);
    commitOne(c);
    expect(c.runUntil(() => converged(c), commitBoundMs)).toBe(true);
    // ...and are gone after it rejoins (the checker has already shown nothing else changed).
    for (const r of lost) if (r.ok) expect(c.checker.isAcked(r.proposalId)).toBe(false);
  });

  it('fast backup over long divergent logs', () => {
    const c = scenarioCluster(name('fast backup over long divergent logs'), { seed: 6, nodes: 5, snapshots, raft });
    const first = waitLeader(c);
    commitOne(c);
    // The leader and one follower in a minority take 50 writes that never commit.
    const [f1, f2, f3, f4] = others(c, first.id) as [string, string, string, string];
    c.partition([first.id, f1], [f2, f3, f4]);
    for (let i = 0; i < 50; i++) c.propose(first.id);
    c.runFor(electionTimeoutMaxMs);
    // The majority commits 50 of its own.
    for (let i = 0; i < 50; i++) commitOne(c, [f2, f3, f4]);
    // The majority's leader and one follower go on alone and take 50 that never commit.
    const second = waitLeader(c, [f2, f3, f4]);
    const [other, third] = [f2, f3, f4].filter((id) => id !== second.id) as [string, string];
    c.heal();
    for (const id of [first.id, f1, other]) c.isolate(id);
    for (let i = 0; i < 50; i++) c.propose(second.id);
    c.runFor(electionTimeoutMaxMs);
    // The first leader, its follower and the third majority node: elect, then commit 50.
    c.heal();
    c.isolate(second.id);
    c.isolate(third);
    for (let i = 0; i < 50; i++) commitOne(c, [first.id, f1, other]);
    // Everyone back: every log converges, and fast backup keeps the rejections per follower to
    // a few per divergent term, not one per divergent entry.
    c.heal();
    const counts = countMessages(c, () => {
      commitOne(c);
      expect(c.runUntil(() => converged(c), commitBoundMs + electionBoundMs)).toBe(true);
    });
    expect(counts.rejects).toBeLessThan(4 * 10);
  });

  it('catching up in small batches over a reordering network stays bounded (no amplification)', () => {
    // A follower misses 200 entries; the leader may put at most one or two entries in a message,
    // and the network reorders and duplicates. The catch-up must cost about one message (and one
    // answer) per batch, with some slack for resends, not grow with every stale answer.
    const c = scenarioCluster(name('catching up in small batches over a reordering network stays bounded (no amplification)'), {
      seed: 7, nodes: 3, snapshots, raft: { ...raft, maxBatchBytes: 24 },
      network: { delayMinMs: 1, delayMaxMs: 15, dropRate: 0, duplicateRate: 0.1, tailRate: 0, tailDelayMaxMs: 0 },
    });
    const leader = waitLeader(c);
    const lagging = others(c, leader.id)[0]!;
    c.crash(lagging);
    for (let i = 0; i < 200; i++) commitOne(c, others(c, lagging));
    c.restart(lagging);
    const counts = countMessages(c, () => {
      expect(c.runUntil(() => converged(c), 5 * commitBoundMs)).toBe(true);
    });
    const batches = snapshots ? 20 : 200; // with snapshots, most of the gap comes as one snapshot
    expect(counts.total).toBeLessThan(batches * 2 * 4 + 400);
    expect(c.messagesPerWindowMax).toBeLessThan(2_000);
  });
});
