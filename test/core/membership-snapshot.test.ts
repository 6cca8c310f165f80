/**
 * Membership changes while serving, and snapshots sent in chunks to followers that fell behind
 * the compacted log.
 */
import { describe, expect, it } from 'vitest';
import { ConfChangeRejectedError, ProposalDroppedError, RawNode, type Entry, encodeConfChange } from '../../src/core/index.js';
import { TestCluster, bytes, text, type TestNode } from './harness.js';

function settle(c: TestCluster, ticks = 10): void {
  for (let i = 0; i < ticks; i++) {
    c.tick();
    c.stabilize();
  }
}

function takeSnapshot(t: TestNode): void {
  const index = t.node.status().appliedIndex;
  const term = t.stored.entries.find((e) => e.index === index)!.term;
  const snapshot = { meta: { lastIncludedIndex: index, lastIncludedTerm: term, config: t.node.configAt(index) }, data: bytes(`state up to ${index}`.repeat(5)) };
  t.node.snapshotTaken(snapshot);
  t.stored.snapshot = snapshot;
  t.stored.entries = t.stored.entries.filter((e) => e.index > index);
}

describe('membership', () => {
  it('adds a learner, catches it up, promotes it, then removes the leader, which steps down cleanly', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.add('d', { voters: ['a', 'b', 'c'], learners: [] });
    const leader = c.electLeader();
    for (let i = 0; i < 5; i++) leader.node.propose(bytes(`v${i}`));
    c.stabilize();
    leader.node.proposeConfChange({ type: 'addLearner', nodeId: 'd' });
    // One change at a time: the next is refused until this one commits.
    expect(() => leader.node.proposeConfChange({ type: 'promoteLearner', nodeId: 'd' })).toThrow(ProposalDroppedError);
    settle(c, 3);
    const d = c.get('d');
    expect(d.node.status().config).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
    expect(d.applied.map((e) => text(e.data)).filter((s) => s.startsWith('v'))).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
    // A learner never campaigns.
    for (let i = 0; i < 100; i++) d.node.tick();
    expect(d.node.status().role).toBe('follower');
    c.stabilize();
    leader.node.proposeConfChange({ type: 'promoteLearner', nodeId: 'd' });
    settle(c, 3);
    expect(leader.node.status().config.voters).toContain('d');
    leader.node.proposeConfChange({ type: 'removeNode', nodeId: leader.id });
    // The change takes effect on append: the leader no longer counts itself, but keeps leading
    // until the change commits, then steps down.
    expect(leader.node.status().config.voters).not.toContain(leader.id);
    settle(c, 40);
    expect(leader.node.status().role).toBe('follower');
    const next = c.leader();
    expect(next).toBeDefined();
    expect(next!.id).not.toBe(leader.id);
    next!.node.propose(bytes('after'));
    settle(c, 3);
    for (const id of next!.node.status().config.voters) expect(text(c.get(id).applied.at(-1)!.data)).toBe('after');
  });

  it('refuses a change that does not fit, with a typed error', () => {
    const c = new TestCluster(['a']);
    const leader = c.electLeader();
    settle(c, 2);
    expect(() => leader.node.proposeConfChange({ type: 'removeNode', nodeId: 'a' })).toThrow(ConfChangeRejectedError);
    expect(() => leader.node.proposeConfChange({ type: 'promoteLearner', nodeId: 'x' })).toThrow(/not a learner/);
  });

  it('reverts the configuration when a conf change entry is overwritten by a new leader', () => {
    // b holds an uncommitted change of term 2 at index 3; the leader of term 3 has another entry there.
    const cc = (index: number, term: number, nodeId: string): Entry => ({ index, term, type: 'confChange', data: encodeConfChange({ type: 'addLearner', nodeId }) });
    const n = (i: number, t: number): Entry => ({ index: i, term: t, type: 'normal', data: new Uint8Array(0) });
    const b = new RawNode(
      { id: 'b', random: () => 0.5, tickMs: 10, electionTimeoutMinMs: 100, electionTimeoutMaxMs: 200, heartbeatIntervalMs: 20 },
      { hardState: { term: 2, vote: null, commit: 2 }, snapshot: null, entries: [n(1, 1), n(2, 2), cc(3, 2, 'x')], config: { voters: ['a', 'b', 'c'], learners: [] } },
    );
    expect(b.status().config.learners).toEqual(['x']);
    b.step({ type: 'AppendEntries', from: 'a', to: 'b', term: 3, leaderId: 'a', prevLogIndex: 2, prevLogTerm: 2, entries: [cc(3, 3, 'y')], leaderCommit: 2, context: 0 });
    expect(b.status().config.learners).toEqual(['y']);
    b.step({ type: 'AppendEntries', from: 'c', to: 'b', term: 4, leaderId: 'c', prevLogIndex: 2, prevLogTerm: 2, entries: [n(3, 4)], leaderCommit: 2, context: 0 });
    expect(b.status().config).toEqual({ voters: ['a', 'b', 'c'], learners: [] });
  });
});

describe('snapshots', () => {
  it('compacts the log and sends a lagging follower the snapshot in chunks', () => {
    const c = new TestCluster(['a', 'b', 'c'], { maxSnapshotChunkBytes: 16, snapshotThreshold: 10 });
    const leader = c.electLeader();
    const lagging = [...c.nodes.values()].find((t) => t !== leader)!;
    c.isolate(lagging.id);
    for (let i = 0; i < 30; i++) leader.node.propose(bytes(`v${i}`));
    settle(c, 3);
    expect(leader.node.snapshotDue()).toBe(true);
    takeSnapshot(leader);
    const first = leader.node.status().firstIndex;
    expect(first).toBeGreaterThan(30);
    c.heal();
    const sent: number[] = [];
    const before = c.queue.length;
    expect(before).toBe(0);
    for (let i = 0; i < 20 && lagging.node.status().commitIndex < leader.node.status().commitIndex; i++) {
      c.tick();
      for (const m of c.queue) if (m.type === 'InstallSnapshot') sent.push(m.data.length);
      c.stabilize();
    }
    expect(lagging.stored.snapshot?.meta.lastIncludedIndex).toBe(first - 1);
    expect(text(lagging.stored.snapshot!.data)).toBe(text(leader.stored.snapshot!.data));
    expect(lagging.node.status().commitIndex).toBe(leader.node.status().commitIndex);
    // After the snapshot, ordinary replication continues.
    leader.node.propose(bytes('after'));
    settle(c, 2);
    expect(text(lagging.applied.at(-1)!.data)).toBe('after');
  });

  it('refuses a snapshot beyond the applied index or with the wrong term', () => {
    const c = new TestCluster(['a']);
    const leader = c.electLeader();
    leader.node.propose(bytes('x'));
    settle(c, 2);
    const applied = leader.node.status().appliedIndex;
    const meta = { lastIncludedIndex: applied + 1, lastIncludedTerm: 1, config: leader.node.configAt(applied) };
    expect(() => leader.node.snapshotTaken({ meta, data: new Uint8Array() })).toThrow(/beyond the applied index/);
    expect(() => leader.node.snapshotTaken({ meta: { ...meta, lastIncludedIndex: applied, lastIncludedTerm: 99 }, data: new Uint8Array() })).toThrow(/term/);
  });

  it('a follower restarted from a snapshot re-applies only what follows it', () => {
    const c = new TestCluster(['a', 'b', 'c'], { snapshotThreshold: 5 });
    const leader = c.electLeader();
    for (let i = 0; i < 12; i++) leader.node.propose(bytes(`v${i}`));
    settle(c, 2);
    const follower = [...c.nodes.values()].find((t) => t !== leader)!;
    takeSnapshot(follower);
    const snapIndex = follower.stored.snapshot!.meta.lastIncludedIndex;
    c.restart(follower.id);
    c.processReady(follower);
    expect(follower.applied[0]?.index ?? snapIndex + 1).toBe(snapIndex + 1);
    expect(follower.node.status().firstIndex).toBe(snapIndex + 1);
  });
});

describe('leases', () => {
  it('a leader that sent TimeoutNow no longer serves lease reads in that term', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum: true });
    const leader = c.electLeader();
    settle(c, 2);
    const target = [...c.nodes.values()].find((t) => t !== leader)!;
    c.isolate(target.id);
    leader.node.transferLeader(target.id); // the target is caught up: TimeoutNow goes out at once (and is lost)
    c.stabilize();
    leader.node.leaseRead(1);
    c.processReady(leader);
    expect(leader.readStates).toEqual([]); // fell back to ReadIndex
  });

  it('a restarted node ignores elections for one election timeout', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.electLeader();
    const t = [...c.nodes.values()].find((x) => x.node.status().role !== 'leader')!;
    c.restart(t.id);
    const term = t.node.status().term;
    t.node.step({ type: 'RequestVote', from: 'z', to: t.id, term: term + 1, candidateId: 'z', lastLogIndex: 999, lastLogTerm: term + 1, preVote: false, leadershipTransfer: false });
    expect(t.node.status().term).toBe(term);
  });
});

describe('InstallSnapshot chunks on the follower', () => {
  const follower = (): RawNode => {
    const n = new RawNode(
      { id: 'b', random: () => 0.99, tickMs: 10, electionTimeoutMinMs: 100, electionTimeoutMaxMs: 200, heartbeatIntervalMs: 20 },
      { hardState: { term: 1, vote: null, commit: 0 }, snapshot: null, entries: [], config: { voters: ['a', 'b', 'c'], learners: [] } },
    );
    for (let i = 0; i < 10; i++) n.tick();
    return n;
  };
  const chunk = (offset: number, data: string, done: boolean, index = 9) => ({
    type: 'InstallSnapshot' as const, from: 'a', to: 'b', term: 2, leaderId: 'a', lastIncludedIndex: index, lastIncludedTerm: 2,
    offset, data: bytes(data), done, config: { voters: ['a', 'b', 'c'], learners: [] },
  });
  const answers = (n: RawNode): string[] => {
    const rd = n.ready();
    n.advance();
    return rd.messages.map((m) => (m.type === 'InstallSnapshotResponse' ? `received ${m.bytesReceived}` : m.type === 'AppendEntriesResponse' ? `append ok ${m.lastLogIndex}` : m.type));
  };

  it('assembles chunks, repairs duplicates and gaps, and installs on the last one', () => {
    const b = follower();
    b.step(chunk(0, 'abc', false));
    expect(answers(b)).toEqual(['received 3']);
    b.step(chunk(0, 'abc', false)); // a duplicate of the first chunk restarts the assembly
    b.step(chunk(6, 'ghi', false)); // a gap: the answer says where to continue
    expect(answers(b)).toEqual(['received 3', 'received 3']);
    b.step(chunk(3, 'def', false));
    b.step(chunk(6, 'gh', true));
    const rd = b.ready();
    expect(rd.snapshot?.meta.lastIncludedIndex).toBe(9);
    expect(text(rd.snapshot!.data)).toBe('abcdefgh');
    expect(rd.hardState).toMatchObject({ term: 2, commit: 9 });
    expect(rd.messages.map((m) => (m.type === 'InstallSnapshotResponse' ? m.bytesReceived : -1))).toEqual([6, 8]);
    b.advance();
    expect(b.status()).toMatchObject({ commitIndex: 9, firstIndex: 10, lastIndex: 9 });
    // A snapshot the follower already covers is answered with where it is instead.
    b.step(chunk(0, 'old', true, 5));
    expect(answers(b)).toEqual(['append ok 9']);
  });

  it('a chunk of another snapshot mid-way asks the leader to start over', () => {
    const b = follower();
    b.step(chunk(0, 'abc', false, 9));
    b.step(chunk(3, 'xyz', false, 12));
    expect(answers(b)).toEqual(['received 3', 'received 0']);
  });
});
