/**
 * Direct protocol interactions: messages stepped by hand into one RawNode, or a small cluster
 * driven through the harness, checking the rules of the paper one at a time.
 */
import { describe, expect, it } from 'vitest';
import {
  NotLeaderError,
  ProposalDroppedError,
  RawNode,
  type AppendEntriesRequest,
  type Entry,
  type Message,
  type Ready,
  type RequestVoteResponse,
} from '../../src/core/index.js';
import { Prng } from '../../src/util/prng.js';
import { TestCluster, bytes, text, type TestNode } from './harness.js';

const e = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array(0) });

function node(id: string, opts: { term?: number; vote?: string | null; commit?: number; entries?: Entry[]; preVote?: boolean; checkQuorum?: boolean } = {}): RawNode {
  // The longest timeout, so the node does not campaign on its own while the test talks to it.
  const n = new RawNode(
    { id, random: () => 0.99, tickMs: 10, electionTimeoutMinMs: 100, electionTimeoutMaxMs: 200, heartbeatIntervalMs: 20, preVote: opts.preVote ?? false, checkQuorum: opts.checkQuorum ?? false },
    {
      hardState: { term: opts.term ?? 1, vote: opts.vote ?? null, commit: opts.commit ?? 0 },
      snapshot: null,
      entries: opts.entries ?? [],
      config: { voters: ['a', 'b', 'c'], learners: [] },
    },
  );
  // A node that just started honours a possible leader lease for one election timeout: let it pass.
  for (let i = 0; i < 10; i++) n.tick();
  return n;
}

/** Processes one Ready (everything persisted at once) and returns it. */
function drain(n: RawNode): Ready {
  const rd = n.ready();
  n.advance();
  return rd;
}

const voteRequest = (from: string, term: number, lastLogIndex: number, lastLogTerm: number, preVote = false): Message => ({
  type: 'RequestVote', from, to: 'a', term, candidateId: from, lastLogIndex, lastLogTerm, preVote, leadershipTransfer: false,
});

function votesIn(rd: Ready): RequestVoteResponse[] {
  return rd.messages.filter((m): m is RequestVoteResponse => m.type === 'RequestVoteResponse');
}

describe('voting', () => {
  it('grants at most one vote per term, and persists it before the answer leaves', () => {
    const a = node('a', { term: 1 });
    a.step(voteRequest('b', 2, 0, 0));
    const rd = drain(a);
    expect(votesIn(rd)).toMatchObject([{ to: 'b', voteGranted: true, term: 2 }]);
    expect(rd.hardState).toMatchObject({ term: 2, vote: 'b' });
    expect(rd.mustSync).toBe(true);
    a.step(voteRequest('c', 2, 0, 0));
    expect(votesIn(drain(a))).toMatchObject([{ to: 'c', voteGranted: false }]);
    // The same candidate asking again (a duplicate) gets the same answer.
    a.step(voteRequest('b', 2, 0, 0));
    expect(votesIn(drain(a))).toMatchObject([{ to: 'b', voteGranted: true }]);
  });

  it('refuses a candidate whose log is less up to date (§5.4.1)', () => {
    const a = node('a', { term: 3, entries: [e(1, 1), e(2, 3)] });
    a.step(voteRequest('b', 4, 5, 2)); // longer log but older last term
    expect(votesIn(drain(a))).toMatchObject([{ voteGranted: false, term: 4 }]);
    a.step(voteRequest('c', 5, 1, 3)); // same last term, shorter log
    expect(votesIn(drain(a))).toMatchObject([{ voteGranted: false }]);
    a.step(voteRequest('c', 6, 2, 3)); // same last term, same length
    expect(votesIn(drain(a))).toMatchObject([{ voteGranted: true, term: 6 }]);
  });

  it('answers a pre-vote without changing its term or vote', () => {
    const a = node('a', { term: 5, vote: 'c', preVote: true });
    a.step(voteRequest('b', 6, 0, 0, true));
    const rd = drain(a);
    expect(votesIn(rd)).toMatchObject([{ voteGranted: true, preVote: true, term: 6 }]);
    expect(rd.hardState).toBeNull();
    expect(a.status()).toMatchObject({ term: 5, vote: 'c' });
  });

  it('a node that cannot win its pre-vote never bumps its term', () => {
    const c = new TestCluster(['a', 'b', 'c'], { preVote: true });
    const leader = c.electLeader();
    const term = leader.node.status().term;
    const loner = [...c.nodes.values()].find((t) => t !== leader)!;
    c.isolate(loner.id);
    for (let i = 0; i < 200; i++) {
      c.tick();
      c.stabilize();
    }
    expect(loner.node.status().term).toBe(term);
    c.heal();
    for (let i = 0; i < 30; i++) {
      c.tick();
      c.stabilize();
    }
    // Rejoining did not depose the healthy leader.
    expect(c.leader()?.id).toBe(leader.id);
    expect(leader.node.status().term).toBe(term);
  });
});

describe('leader rules', () => {
  it('commits only by counting replicas of a current-term entry (Figure 8)', () => {
    // a holds an entry from term 1 that was never committed; it becomes leader of term 2.
    const a = node('a', { term: 1, entries: [e(1, 1)] });
    for (let i = 0; i < 30 && a.status().role !== 'candidate'; i++) a.tick();
    expect(a.status()).toMatchObject({ role: 'candidate', term: 2 });
    drain(a);
    a.step({ type: 'RequestVoteResponse', from: 'b', to: 'a', term: 2, voteGranted: true, preVote: false });
    expect(a.status().role).toBe('leader');
    const rd = drain(a); // persists the no-op of term 2 at index 2
    expect(rd.entries).toMatchObject([{ index: 2, term: 2, data: new Uint8Array(0) }]);
    // b acknowledges only the old entry: a majority holds index 1, but it is from term 1.
    a.step({ type: 'AppendEntriesResponse', from: 'b', to: 'a', term: 2, success: true, lastLogIndex: 1, conflictIndex: 0, conflictTerm: 0, context: 0 });
    expect(a.status().commitIndex).toBe(0);
    a.step({ type: 'AppendEntriesResponse', from: 'b', to: 'a', term: 2, success: true, lastLogIndex: 2, conflictIndex: 0, conflictTerm: 0, context: 0 });
    expect(a.status().commitIndex).toBe(2);
  });

  it('counts its own entries only after advance()', () => {
    const prng = new Prng(1);
    const solo = new RawNode({ id: 'a', random: () => prng.next() }, { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [], config: { voters: ['a'], learners: [] } });
    for (let i = 0; i < 40 && solo.status().role !== 'leader'; i++) solo.tick();
    expect(solo.status().role).toBe('leader');
    const rd = solo.ready();
    expect(rd.entries.length).toBe(1);
    expect(solo.status().commitIndex).toBe(0);
    solo.advance();
    expect(solo.status().commitIndex).toBe(1);
    expect(drain(solo).committedEntries.map((x) => x.index)).toEqual([1]);
  });

  describe('a moved commit index rides with the next entries, or goes on the next tick', () => {
    const appendsFrom = (c: TestCluster, leaderId: string): AppendEntriesRequest[] =>
      c.queue.filter((m): m is AppendEntriesRequest => m.type === 'AppendEntries' && m.from === leaderId);
    // Heartbeats every 5 ticks: the tick below is not a heartbeat's.
    const settled = (): { c: TestCluster; leader: TestNode; followers: string[] } => {
      const c = new TestCluster(['a', 'b', 'c'], { checkQuorum: false, heartbeatIntervalMs: 50 });
      const leader = c.electLeader();
      c.tick();
      c.stabilize();
      return { c, leader, followers: ['a', 'b', 'c'].filter((id) => id !== leader.id) };
    };
    /** Proposes, delivers the entries and their acknowledgements: the leader's commit moves. */
    const commitOne = (c: TestCluster, leader: TestNode, value: string): number => {
      const index = leader.node.propose(bytes(value));
      c.processReady(leader);
      for (let i = 0; i < 2; i++) {
        const batch = c.queue;
        c.queue = [];
        for (const m of batch) c.get(m.to).node.step(m);
        for (const t of c.nodes.values()) if (t !== leader) c.processReady(t);
      }
      c.processReady(leader);
      expect(leader.node.status().commitIndex).toBe(index);
      return index;
    };

    it('no AppendEntries goes out for the commit alone; the next tick sends it once', () => {
      const { c, leader, followers } = settled();
      const index = commitOne(c, leader, 'v1');
      expect(appendsFrom(c, leader.id)).toEqual([]);
      for (const id of followers) expect(c.get(id).node.status().commitIndex).toBe(index - 1);
      c.tick([leader.id]);
      c.processReady(leader);
      const news = appendsFrom(c, leader.id);
      expect(news.map((m) => [m.to, m.entries.length, m.leaderCommit])).toEqual(followers.map((id) => [id, 0, index]));
      c.stabilize();
      for (const id of followers) expect(c.get(id).node.status().commitIndex).toBe(index);
      // Told once: the next tick has nothing to say.
      c.tick([leader.id]);
      c.processReady(leader);
      expect(appendsFrom(c, leader.id)).toEqual([]);
    });

    it('entries proposed before the tick carry the commit, and the tick then sends nothing', () => {
      const { c, leader, followers } = settled();
      const index = commitOne(c, leader, 'v1');
      leader.node.propose(bytes('v2'));
      c.processReady(leader);
      const appends = appendsFrom(c, leader.id);
      expect(appends.map((m) => [m.to, m.entries.length, m.leaderCommit])).toEqual(followers.map((id) => [id, 1, index]));
      c.tick([leader.id]);
      c.processReady(leader);
      expect(appendsFrom(c, leader.id)).toHaveLength(appends.length);
    });
  });

  it('a follower refuses proposals with NotLeaderError carrying the leader hint', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    const leader = c.electLeader();
    c.tick();
    c.stabilize();
    const follower = [...c.nodes.values()].find((t) => t !== leader)!;
    let error: unknown;
    try {
      follower.node.propose(bytes('x'));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(NotLeaderError);
    expect((error as NotLeaderError).code).toBe('RAFT_ERR_NOT_LEADER');
    expect((error as NotLeaderError).leaderId).toBe(leader.id);
    expect(() => follower.node.readIndex(1)).toThrow(NotLeaderError);
  });

  it('with check-quorum, a leader that cannot hear a majority steps down', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum: true });
    const leader = c.electLeader();
    c.isolate(leader.id);
    for (let i = 0; i < 30; i++) {
      c.tick([leader.id]);
      c.stabilize();
    }
    expect(leader.node.status().role).toBe('follower');
  });

  it('a stale leader back from a partition steps down and its uncommitted entries are replaced', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum: false, preVote: false });
    const old = c.electLeader();
    c.isolate(old.id);
    old.node.propose(bytes('lost'));
    c.stabilize();
    const others = [...c.nodes.values()].filter((t) => t !== old).map((t) => t.id);
    let fresh;
    for (let i = 0; i < 300 && fresh === undefined; i++) {
      c.tick(others);
      c.stabilize();
      fresh = others.map((id) => c.get(id)).find((t) => t.node.status().role === 'leader');
    }
    expect(fresh).toBeDefined();
    fresh!.node.propose(bytes('kept'));
    c.heal();
    for (let i = 0; i < 20; i++) {
      c.tick();
      c.stabilize();
    }
    expect(old.node.status().role).toBe('follower');
    const data = old.applied.map((x) => text(x.data)).filter((s) => s.length > 0);
    expect(data).toEqual(['kept']);
  });
});

describe('fast backtracking', () => {
  it('skips a whole conflicting term per round trip', () => {
    // Follower b has many entries of term 2 the leader does not; the leader's log has term 3 there.
    const c = new TestCluster(['a', 'b', 'c'], { preVote: false, checkQuorum: false });
    const leader = c.electLeader();
    for (let i = 0; i < 5; i++) leader.node.propose(bytes(`x${i}`));
    c.stabilize();
    c.tick();
    c.stabilize();
    const follower = [...c.nodes.values()].find((t) => t !== leader)!;
    c.isolate(follower.id);
    // The old leader keeps appending uncommitted entries (they will conflict).
    const before = c.delivered;
    c.isolate(leader.id);
    for (let i = 0; i < 100; i++) leader.node.propose(bytes(`orphan${i}`));
    c.stabilize();
    c.heal();
    c.partition(leader.id, follower.id);
    c.partition(leader.id, [...c.nodes.keys()].find((id) => id !== leader.id && id !== follower.id)!);
    let newLeader;
    for (let i = 0; i < 300 && newLeader === undefined; i++) {
      c.tick([...c.nodes.keys()].filter((id) => id !== leader.id));
      c.stabilize();
      newLeader = [...c.nodes.values()].find((t) => t !== leader && t.node.status().role === 'leader');
    }
    expect(newLeader).toBeDefined();
    c.heal();
    const start = c.delivered;
    for (let i = 0; i < 10; i++) {
      c.tick();
      c.stabilize();
    }
    expect(leader.node.status().role).toBe('follower');
    expect(leader.node.status().lastIndex).toBe(newLeader!.node.status().lastIndex);
    // 100 conflicting entries undone in a handful of messages, not one round trip per entry.
    expect(c.delivered - start).toBeLessThan(60);
    expect(before).toBeGreaterThanOrEqual(0);
  });
});

describe('reads', () => {
  it('ReadIndex is confirmed by a quorum and released with the commit index', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    const leader = c.electLeader();
    leader.node.propose(bytes('v'));
    c.stabilize();
    leader.node.readIndex(77);
    c.stabilize();
    expect(leader.readStates).toEqual([{ context: 77, index: leader.node.status().commitIndex }]);
  });

  it('ReadIndex is not confirmed without a quorum', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum: false });
    const leader = c.electLeader();
    c.stabilize();
    c.isolate(leader.id);
    leader.node.readIndex(5);
    c.stabilize();
    expect(leader.readStates).toEqual([]);
    c.heal();
    c.tick();
    c.stabilize();
    for (let i = 0; i < 3; i++) {
      c.tick([leader.id]);
      c.stabilize();
    }
    expect(leader.readStates.map((r) => r.context)).toEqual([5]);
  });

  it('keeps one read round in flight: reads that arrive meanwhile share the next round', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum: false });
    const leader = c.electLeader();
    c.stabilize();
    const deliveredBefore = c.delivered;
    const heartbeats = () => c.queue.filter((m) => m.type === 'AppendEntries' && m.from === leader.id && m.entries.length === 0).length;
    leader.node.readIndex(1);
    c.processReady(leader);
    expect(heartbeats()).toBe(1); // round for read 1, to one follower: with the leader, a quorum
    // Two more reads in later turns, before the first round is answered: no new heartbeats.
    leader.node.readIndex(2);
    c.processReady(leader);
    leader.node.readIndex(3);
    c.processReady(leader);
    expect(heartbeats()).toBe(1);
    expect(leader.readStates).toEqual([]);
    c.stabilize(); // the answer confirms read 1; the next round (one, for reads 2 and 3) goes out and is answered
    expect(leader.readStates.map((r) => r.context)).toEqual([1, 2, 3]);
    expect(c.delivered - deliveredBefore).toBe(4); // two rounds of 1 heartbeat + 1 answer, not three
  });

  describe('a read round asks only the voters a quorum needs', () => {
    const roundTargets = (c: TestCluster, leaderId: string): string[] =>
      c.queue.filter((m) => m.type === 'AppendEntries' && m.from === leaderId && m.entries.length === 0).map((m) => m.to).sort();

    it('in five nodes, two followers; the read is confirmed by them', () => {
      const c = new TestCluster(['a', 'b', 'c', 'd', 'e'], { checkQuorum: false });
      const leader = c.electLeader();
      c.stabilize();
      leader.node.readIndex(1);
      c.processReady(leader);
      expect(roundTargets(c, leader.id)).toHaveLength(2);
      c.stabilize();
      expect(leader.readStates.map((r) => r.context)).toEqual([1]);
    });

    it('never a learner, and the followers that answered most recently', () => {
      const c = new TestCluster(['a', 'b', 'c'], { checkQuorum: false }, 1, ['d']);
      const leader = c.electLeader();
      c.stabilize();
      const followers = ['a', 'b', 'c'].filter((id) => id !== leader.id);
      // Only the second follower hears the tick's heartbeats: it has answered a later round.
      c.partition(leader.id, followers[0]!);
      c.tick([leader.id]);
      c.tick([leader.id]);
      c.stabilize();
      c.heal();
      leader.node.readIndex(1);
      c.processReady(leader);
      expect(roundTargets(c, leader.id)).toEqual([followers[1]]);
      c.stabilize();
      expect(leader.readStates.map((r) => r.context)).toEqual([1]);
    });

    it('a chosen follower that does not answer delays the read by one tick, then is passed over', () => {
      // Heartbeats every 5 ticks: the one tick below is not a heartbeat's.
      const c = new TestCluster(['a', 'b', 'c'], { checkQuorum: false, heartbeatIntervalMs: 50 });
      const leader = c.electLeader();
      c.stabilize();
      leader.node.readIndex(1);
      c.processReady(leader);
      const [chosen] = roundTargets(c, leader.id);
      const other = ['a', 'b', 'c'].find((id) => id !== leader.id && id !== chosen)!;
      c.isolate(chosen!);
      c.queue = c.queue.filter((m) => m.to !== chosen); // the round's heartbeat is lost
      c.stabilize();
      expect(leader.readStates).toEqual([]);
      // A tick later, with no heartbeat due, the round is asked again of every voter: the other answers.
      c.tick([leader.id]);
      c.processReady(leader);
      expect(roundTargets(c, leader.id)).toEqual([other]); // (the message to the isolated one is cut)
      c.stabilize();
      expect(leader.readStates.map((r) => r.context)).toEqual([1]);
      leader.node.readIndex(2);
      c.processReady(leader);
      expect(roundTargets(c, leader.id)).toEqual([other]);
      c.stabilize();
      expect(leader.readStates.map((r) => r.context)).toEqual([1, 2]);
    });
  });

  it('leaseReadIndex gives the commit index while the lease holds, null after, and registers nothing', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum: true });
    const leader = c.electLeader();
    c.tick();
    c.stabilize();
    expect(leader.node.leaseReadIndex()).toBe(leader.node.status().commitIndex);
    expect(leader.node.hasReady()).toBe(false);
    c.isolate(leader.id);
    for (let i = 0; i < 9; i++) c.tick([leader.id]);
    c.stabilize();
    expect(leader.node.leaseReadIndex()).toBeNull();
    const follower = c.get(['a', 'b', 'c'].find((id) => id !== leader.id)!);
    expect(() => follower.node.leaseReadIndex()).toThrow(NotLeaderError);
  });

  it('leaseReadIndex is null without check-quorum (no lease to hold)', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum: false });
    const leader = c.electLeader();
    c.tick();
    c.stabilize();
    expect(leader.node.leaseReadIndex()).toBeNull();
  });

  it('a lease read is served at once while the lease holds', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum: true });
    const leader = c.electLeader();
    c.tick();
    c.stabilize();
    leader.node.leaseRead(9);
    expect(leader.node.hasReady()).toBe(true);
    c.processReady(leader);
    expect(leader.readStates.map((r) => r.context)).toEqual([9]);
    // Cut off from everyone, the lease runs out and the read falls back to ReadIndex (unconfirmed).
    c.isolate(leader.id);
    for (let i = 0; i < 9; i++) c.tick([leader.id]);
    c.stabilize();
    leader.node.leaseRead(10);
    c.stabilize();
    expect(leader.readStates.map((r) => r.context)).toEqual([9]);
  });
});

describe('leadership transfer', () => {
  it('catches the target up, then it takes over', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    const leader = c.electLeader();
    const target = [...c.nodes.values()].find((t) => t !== leader)!;
    c.partition(leader.id, target.id);
    for (let i = 0; i < 10; i++) leader.node.propose(bytes(`v${i}`));
    c.stabilize();
    c.heal();
    leader.node.transferLeader(target.id);
    expect(() => leader.node.propose(bytes('during'))).toThrow(ProposalDroppedError);
    // The appends lost to the partition are resent after a few heartbeats.
    for (let i = 0; i < 8 && target.node.status().role !== 'leader'; i++) {
      c.tick([leader.id]);
      c.stabilize();
    }
    expect(target.node.status().role).toBe('leader');
    expect(leader.node.status().role).toBe('follower');
    expect(target.node.status().commitIndex).toBeGreaterThanOrEqual(11);
  });
});

describe('restart', () => {
  it('a node rebuilt from its persisted state re-applies from the snapshot and keeps its vote', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    const leader = c.electLeader();
    for (let i = 0; i < 5; i++) leader.node.propose(bytes(`v${i}`));
    c.stabilize();
    c.tick();
    c.stabilize();
    const follower = [...c.nodes.values()].find((t) => t !== leader)!;
    const before = follower.node.status();
    c.restart(follower.id);
    const after = follower.node.status();
    expect(after).toMatchObject({ term: before.term, vote: before.vote, lastIndex: before.lastIndex, role: 'follower' });
    c.processReady(follower);
    expect(follower.applied.map((x) => x.index)).toEqual(Array.from({ length: after.commitIndex }, (_, i) => i + 1));
  });
});

describe('bad messages', () => {
  it('are refused with InvalidMessageError before they change anything, and the node keeps serving', () => {
    const a = node('a', { term: 2, entries: [e(1, 1), e(2, 2)], commit: 1 });
    const before = a.status();
    const bad: Message[] = [
      { type: 'AppendEntries', from: 'b', to: 'a', term: 3, leaderId: 'b', prevLogIndex: 2, prevLogTerm: 2, entries: [e(4, 3)], leaderCommit: 0, context: 0 },
      { type: 'AppendEntries', from: 'b', to: 'a', term: 3, leaderId: 'b', prevLogIndex: 2, prevLogTerm: 2, entries: [e(3, 4)], leaderCommit: 0, context: 0 },
      { type: 'AppendEntries', from: 'b', to: 'a', term: 3, leaderId: 'b', prevLogIndex: -1, prevLogTerm: 0, entries: [], leaderCommit: 0, context: 0 },
      { type: 'RequestVote', from: 'b', to: 'a', term: 3, candidateId: 'b', lastLogIndex: 5, lastLogTerm: 9, preVote: false, leadershipTransfer: false },
      { type: 'InstallSnapshot', from: 'b', to: 'a', term: 3, leaderId: 'b', lastIncludedIndex: 5, lastIncludedTerm: 2, offset: -4, data: new Uint8Array(1), done: true, config: { voters: ['a'], learners: [] } },
    ];
    for (const m of bad) {
      expect(() => a.step(m)).toThrow(expect.objectContaining({ code: 'RAFT_ERR_INVALID_MESSAGE' }));
    }
    expect(a.status()).toEqual(before);
    a.step({ type: 'AppendEntries', from: 'b', to: 'a', term: 3, leaderId: 'b', prevLogIndex: 2, prevLogTerm: 2, entries: [e(3, 3)], leaderCommit: 3, context: 0 });
    expect(a.status()).toMatchObject({ term: 3, leaderId: 'b', lastIndex: 3, commitIndex: 3 });
  });
});

describe('flow control', () => {
  it('pipelines at most maxInflightMessages appends, growing from one, and reportUnreachable falls back to probing', () => {
    const c = new TestCluster(['a', 'b', 'c'], { maxInflightMessages: 3, maxBatchBytes: 1 });
    const leader = c.electLeader();
    settleOnce(c);
    const follower = [...c.nodes.values()].find((t) => t !== leader)!;
    for (let i = 0; i < 20; i++) leader.node.propose(bytes(`v${i}`));
    // Deliver round by round and record how many appends to the follower each Ready carries.
    const perReady: number[] = [];
    for (let round = 0; round < 30 && leader.node.status().progress!.get(follower.id)!.matchIndex < leader.node.status().lastIndex; round++) {
      if (leader.node.hasReady()) {
        const rd = leader.node.ready();
        perReady.push(rd.messages.filter((m) => m.type === 'AppendEntries' && m.to === follower.id && m.entries.length > 0).length);
        c.queue.push(...rd.messages);
        leader.node.advance();
      }
      const batch = c.queue;
      c.queue = [];
      for (const m of batch) c.get(m.to).node.step(m);
      for (const t of c.nodes.values()) if (t !== leader) c.processReady(t);
    }
    expect(perReady[0]).toBe(1); // slow start
    expect(Math.max(...perReady)).toBe(3); // never more than the window
    leader.node.reportUnreachable(follower.id);
    const pr = leader.node.status().progress!.get(follower.id)!;
    expect(pr.state).toBe('probe');
    expect(pr.nextIndex).toBe(pr.matchIndex + 1);
  });
});

function settleOnce(c: TestCluster): void {
  c.tick();
  c.stabilize();
}

describe('restored state', () => {
  const restore = (entries: Entry[], commit: number, snapshotTerm?: number) => () =>
    new RawNode(
      { id: 'a', random: () => 0.5 },
      {
        hardState: { term: 5, vote: null, commit },
        snapshot: snapshotTerm === undefined ? null : { meta: { lastIncludedIndex: 2, lastIncludedTerm: snapshotTerm, config: { voters: ['a'], learners: [] } }, data: new Uint8Array() },
        entries,
        config: { voters: ['a'], learners: [] },
      },
    );

  it('refuses gaps, term regressions and a commit index past the log with a typed error', () => {
    expect(restore([e(1, 1), e(3, 1)], 0)).toThrow(expect.objectContaining({ code: 'RAFT_ERR_INVALID_RESTORED_STATE' }));
    expect(restore([e(1, 2), e(2, 1)], 0)).toThrow(/back in term/);
    expect(restore([e(3, 1)], 0, 4)).toThrow(/back in term/);
    expect(restore([e(1, 1)], 4)).toThrow(/beyond the last restored entry/);
    expect(restore([e(1, 1), e(2, 1), e(3, 4)], 3, 1)().status()).toMatchObject({ firstIndex: 3, lastIndex: 3, commitIndex: 3 });
  });
});
