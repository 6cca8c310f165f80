/**
 * The core with `asyncStorageWrites`: Readies handed out while earlier ones are still being
 * persisted, progress reported with persisted() and appliedTo().
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/util/prng.js';
import { RawNode, type Entry, type Message, type NodeId, type Ready } from '../../src/core/index.js';
import { bytes, text } from './harness.js';

function solo(asyncStorageWrites = true): RawNode {
  const prng = new Prng(1);
  const node = new RawNode(
    { id: 'a', random: () => prng.next(), asyncStorageWrites },
    { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [], config: { voters: ['a'], learners: [] } },
  );
  for (let i = 0; i < 40 && node.status().role !== 'leader'; i++) node.tick();
  expect(node.status().role).toBe('leader');
  return node;
}

/** Node b of {a, b, c} in term 1 with an empty log, persisting asynchronously. */
function asyncFollower(seed: number): RawNode {
  const prng = new Prng(seed);
  return new RawNode(
    { id: 'b', random: () => prng.next(), asyncStorageWrites: true },
    { hardState: { term: 1, vote: null, commit: 0 }, snapshot: null, entries: [], config: { voters: ['a', 'b', 'c'], learners: [] } },
  );
}

const entry = (index: number, term: number, data = ''): Entry => ({ index, term, type: 'normal', data: bytes(data) });

describe('core: asynchronous storage writes', () => {
  it('hands out the next Ready before the previous one is persisted, and commits only what is durable', () => {
    const node = solo();
    const first = node.ready(); // the leader's no-op
    expect(first.entries.map((e) => e.index)).toEqual([1]);
    node.propose(bytes('x'));
    const second = node.ready(); // no advance() in between
    expect(second.entries.map((e) => e.index)).toEqual([2]);
    expect(second.committedEntries).toEqual([]);
    expect(node.status().commitIndex).toBe(0);
    // Nothing to do until a write completes: hasReady must not spin.
    expect(node.hasReady()).toBe(false);
    node.persisted(first.logLastIndex, first.logLastTerm);
    expect(node.status().commitIndex).toBe(1);
    const third = node.ready();
    expect(third.committedEntries.map((e) => e.index)).toEqual([1]);
    node.appliedTo(1);
    node.persisted(second.logLastIndex, second.logLastTerm);
    const fourth = node.ready();
    expect(fourth.committedEntries.map((e) => text(e.data))).toEqual(['x']);
    node.appliedTo(2);
    expect(node.status().appliedIndex).toBe(2);
    expect(node.hasReady()).toBe(false);
  });

  it('does not hand out committed entries that are not yet durable here', () => {
    const follower = asyncFollower(2);
    // The leader sends entries 1-3 already committed on a quorum (a and c).
    follower.step({ type: 'AppendEntries', from: 'a', to: 'b', leaderId: 'a', context: 0, term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [entry(1, 1), entry(2, 1), entry(3, 1)], leaderCommit: 3 });
    const rd = follower.ready();
    expect(rd.entries.map((e) => e.index)).toEqual([1, 2, 3]);
    expect(rd.hardState?.commit).toBe(3);
    expect(rd.committedEntries).toEqual([]);
    expect(follower.hasReady()).toBe(false);
    follower.persisted(rd.logLastIndex, rd.logLastTerm);
    expect(follower.ready().committedEntries.map((e) => e.index)).toEqual([1, 2, 3]);
  });

  it('ignores a report for entries a later Ready overwrote', () => {
    const follower = asyncFollower(3);
    follower.step({ type: 'AppendEntries', from: 'a', to: 'b', leaderId: 'a', context: 0, term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [entry(1, 1), entry(2, 1), entry(3, 1)], leaderCommit: 1 });
    const stale = follower.ready();
    // A new leader of term 2 overwrites 2-3 before the first write is durable.
    follower.step({ type: 'AppendEntries', from: 'c', to: 'b', leaderId: 'c', context: 0, term: 2, prevLogIndex: 1, prevLogTerm: 1, entries: [entry(2, 2)], leaderCommit: 2 });
    const fresh = follower.ready();
    expect(fresh.entries.map((e) => [e.index, e.term])).toEqual([[2, 2]]);
    follower.persisted(stale.logLastIndex, stale.logLastTerm); // (3, 1): no longer in the log
    // Index 1 is durable (term still matches) only through the fresh report; nothing beyond 1 applies yet.
    const between = follower.ready();
    expect(between.committedEntries).toEqual([]);
    follower.persisted(fresh.logLastIndex, fresh.logLastTerm);
    expect(follower.ready().committedEntries.map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 2]]);
  });

  it('refuses to mix the two ways of acknowledging', () => {
    expect(() => solo(true).advance()).toThrow(/asyncStorageWrites/);
    const sync = solo(false);
    const rd = sync.ready();
    expect(() => sync.persisted(rd.logLastIndex, rd.logLastTerm)).toThrow(/advance/);
    expect(() => sync.appliedTo(0)).toThrow(/advance/);
    expect(() => solo(true).appliedTo(5)).toThrow(/beyond what was handed out/);
  });

  it('a 3-node cluster whose writes complete late and in random batches agrees on every applied entry', () => {
    for (let seed = 1; seed <= 20; seed++) runRandomCluster(seed);
  });
});

interface PendingWrite {
  ready: Ready;
  /** Messages that may leave only once this write (and every earlier one) is durable. */
  held: Message[];
}

interface AsyncNode {
  id: NodeId;
  node: RawNode;
  /** What is durable: the log and hard state, as written in order. */
  durable: Entry[];
  durableCommit: number;
  writes: PendingWrite[];
  applied: Entry[];
}

/**
 * Three nodes, an instant network that may reorder, and storage writes that complete only when
 * the schedule says so (in order per node). Checks: applied entries are durable locally when
 * applied, and every node applies the same entry at each index.
 */
function runRandomCluster(seed: number): void {
  const prng = new Prng(seed);
  const ids = ['a', 'b', 'c'];
  const nodes = new Map<NodeId, AsyncNode>();
  for (const id of ids) {
    const fork = prng.fork();
    const node = new RawNode(
      { id, random: () => fork.next(), asyncStorageWrites: true, tickMs: 10, electionTimeoutMinMs: 100, electionTimeoutMaxMs: 200, heartbeatIntervalMs: 20 },
      { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [], config: { voters: ids, learners: [] } },
    );
    nodes.set(id, { id, node, durable: [], durableCommit: 0, writes: [], applied: [] });
  }
  let network: Message[] = [];
  let proposed = 0;

  const send = (messages: Message[]): void => {
    network.push(...messages);
  };
  const process = (n: AsyncNode): void => {
    while (n.node.hasReady()) {
      const rd = n.node.ready();
      const isLeader = n.node.status().role === 'leader';
      const early = rd.messages.filter((m) => isLeader && (m.type === 'AppendEntries' || m.type === 'InstallSnapshot'));
      const held = rd.messages.filter((m) => !early.includes(m));
      send(early);
      for (const e of rd.committedEntries) {
        const durable = n.durable[e.index - 1];
        expect(durable, `${n.id} applies ${e.index} before it is durable (seed ${seed})`).toBeDefined();
        expect(durable!.term).toBe(e.term);
        expect(e.index).toBe(n.applied.length + 1);
        n.applied.push(e);
      }
      if (rd.committedEntries.length > 0) n.node.appliedTo(n.applied.length);
      n.writes.push({ ready: rd, held });
    }
  };
  const completeWrites = (n: AsyncNode, count: number): void => {
    for (let k = 0; k < count && n.writes.length > 0; k++) {
      const { ready, held } = n.writes.shift()!;
      if (ready.entries.length > 0) {
        const first = ready.entries[0]!.index;
        n.durable.length = first - 1;
        n.durable.push(...ready.entries);
      }
      if (ready.hardState !== null) n.durableCommit = ready.hardState.commit;
      expect(n.durableCommit, `${n.id} persisted commit beyond its durable log (seed ${seed})`).toBeLessThanOrEqual(n.durable.length);
      send(held);
      n.node.persisted(ready.logLastIndex, ready.logLastTerm);
    }
  };

  for (let step = 0; step < 3000; step++) {
    const roll = prng.int(10);
    const n = nodes.get(ids[prng.int(3)]!)!;
    if (roll < 3) n.node.tick();
    else if (roll < 5 && n.node.status().role === 'leader' && proposed < 200) {
      try {
        n.node.propose(bytes(`v${proposed}`));
        proposed++;
      } catch {
        // dropped during a transfer or over the uncommitted limit: fine
      }
    } else if (roll < 8) completeWrites(n, 1 + prng.int(3));
    else if (network.length > 0) {
      // Deliver a random prefix-ish batch; sometimes out of order.
      const take = network.splice(0, 1 + prng.int(Math.min(network.length, 8)));
      if (prng.int(4) === 0) take.reverse();
      for (const m of take) if (prng.int(20) !== 0) nodes.get(m.to)!.node.step(m); // 5% lost
    }
    for (const x of nodes.values()) process(x);
  }
  // Quiesce: finish every write, deliver everything, tick until all have applied the same.
  for (let round = 0; round < 2000; round++) {
    for (const x of nodes.values()) completeWrites(x, Number.POSITIVE_INFINITY);
    const batch = network;
    network = [];
    for (const m of batch) nodes.get(m.to)!.node.step(m);
    if (round % 5 === 0) for (const x of nodes.values()) x.node.tick();
    for (const x of nodes.values()) process(x);
  }
  const logs = [...nodes.values()].map((x) => x.applied.map((e) => `${e.index}:${e.term}:${text(e.data)}`));
  const longest = logs.reduce((a, b) => (a.length >= b.length ? a : b));
  for (const log of logs) expect(log, `seed ${seed}: applied logs diverge`).toEqual(longest.slice(0, log.length));
  const commit = Math.max(...[...nodes.values()].map((x) => x.node.status().commitIndex));
  expect(longest.length, `seed ${seed}: nothing committed`).toBeGreaterThan(0);
  for (const x of nodes.values()) expect(x.applied.length, `seed ${seed}: ${x.id} did not catch up`).toBe(commit);
}
