import { afterEach, describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../src/core/errors.js';
import { NodeFatalError, NodeStoppedError, ProposalTooLargeError } from '../../src/node/index.js';
import { encodeCacheCommand } from '../../src/cache/index.js';
import { TestCluster } from './cluster-harness.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined | null) => (value == null ? value : new TextDecoder().decode(value));

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

// Both ways of processing Readies: one at a time (the default) and asynchronous storage writes.
for (const writes of [{ asyncStorageWrites: false }, { asyncStorageWrites: true }]) describe(`RaftNode in a 3-node in-process cluster (asyncStorageWrites: ${writes.asyncStorageWrites})`, () => {
  it('elects one leader; a write through it is applied on every replica', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { ...writes });
    await cluster.startAll();
    const leader = await cluster.awaitLeader();
    const result = await cluster.write(leader, { op: 'set', key: 'k', value: bytes('v1') });
    expect(result).toEqual({ ok: true, code: null, value: null });
    await cluster.runUntil(() => cluster!.ids.every((id) => text(cluster!.cache(id).get('k', 0)) === 'v1'), 1_000, 'replication');
    expect(cluster.ids.filter((id) => cluster!.node(id).isLeader())).toEqual([leader]);
    for (const id of cluster.ids) expect(cluster.node(id).getLeader()).toBe(leader);
  });

  it('a follower refuses proposals with NotLeaderError naming the leader', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { ...writes }, 2);
    await cluster.startAll();
    const leader = await cluster.awaitLeader();
    await cluster.run(200); // followers learn the leader from its heartbeats
    const follower = cluster.ids.find((id) => id !== leader)!;
    let error: unknown;
    try {
      await cluster.node(follower).propose(bytes('x'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NotLeaderError);
    expect((error as NotLeaderError).code).toBe('RAFT_ERR_NOT_LEADER');
    expect((error as NotLeaderError).leaderId).toBe(leader);
  });

  it('refuses a proposal over proposalBytesMax with a typed error and proposes nothing', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { ...writes }, 9);
    await cluster.startAll();
    const leader = await cluster.awaitLeader();
    const before = cluster.node(leader).getState().lastIndex;
    expect(() => cluster!.node(leader).propose(new Uint8Array(8 * 1024 * 1024 + 1))).toThrow(ProposalTooLargeError);
    expect(cluster.node(leader).getState().lastIndex).toBe(before);
  });

  it('readIndex on the leader resolves after the preceding write is applied there', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { ...writes }, 3);
    await cluster.startAll();
    const leader = await cluster.awaitLeader();
    await cluster.write(leader, { op: 'set', key: 'r', value: bytes('1') });
    const index = await cluster.settleWith(cluster.node(leader).readIndex());
    expect(index).toBeGreaterThanOrEqual(2);
    expect(text(cluster.cache(leader).get('r', 0))).toBe('1');
  });

  it('survives the loss of the leader: a new leader serves writes and keeps acknowledged ones', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { ...writes }, 4);
    await cluster.startAll();
    const first = await cluster.awaitLeader();
    for (let i = 0; i < 5; i++) await cluster.write(first, { op: 'set', key: `k${i}`, value: bytes(String(i)) });
    await cluster.crash(first);
    const second = await cluster.awaitLeader([first]);
    expect(second).not.toBe(first);
    await cluster.write(second, { op: 'set', key: 'after', value: bytes('yes') });
    for (let i = 0; i < 5; i++) expect(text(cluster.cache(second).get(`k${i}`, 0))).toBe(String(i));
    // The old leader restarts from its durable log and catches up.
    await cluster.start(first);
    await cluster.runUntil(() => text(cluster!.cache(first).get('after', 0)) === 'yes', 3_000, 'the restarted node to catch up');
    expect(text(cluster.cache(first).get('k4', 0))).toBe('4');
  });

  it('a node that missed compacted entries catches up through a snapshot', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { ...writes, snapshotThreshold: 20 }, 5);
    await cluster.startAll();
    const leader = await cluster.awaitLeader();
    const lagging = cluster.ids.find((id) => id !== leader)!;
    await cluster.crash(lagging);
    for (let i = 0; i < 60; i++) await cluster.write(leader, { op: 'increment', key: 'n', delta: 1 });
    expect(cluster.node(leader).getState().firstIndex).toBeGreaterThan(2); // the leader compacted its log
    await cluster.start(lagging);
    await cluster.runUntil(() => text(cluster!.cache(lagging).get('n', 0)) === '60', 5_000, 'the lagging node to catch up');
  });

  it('stops with a typed fatal error when its log cannot be written, and the others carry on', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { ...writes }, 6);
    await cluster.startAll();
    const leader = await cluster.awaitLeader();
    const victim = cluster.ids.find((id) => id !== leader)!;
    const store = cluster.members.get(victim)!.logStore;
    store.save = async () => {
      throw Object.assign(new Error('disk is full'), { code: 'STORAGE_ERR_FULL' });
    };
    await cluster.write(leader, { op: 'set', key: 'a', value: bytes('1') });
    await cluster.runUntil(() => !cluster!.node(victim).getState().running, 1_000, 'the victim to stop');
    expect(() => cluster!.node(victim).propose(bytes('x'))).toThrow(NodeFatalError);
    await cluster.write(leader, { op: 'set', key: 'b', value: bytes('2') });
    expect(text(cluster.cache(leader).get('b', 0))).toBe('2');
  });

  it('a leader resumed after a pause does not serve a stale lease read', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { ...writes, checkQuorum: true }, 8);
    await cluster.startAll();
    const old = await cluster.awaitLeader();
    await cluster.write(old, { op: 'set', key: 'lease', value: bytes('old') });
    // The leader stops (SIGSTOP): no timers, no messages. The others elect a leader and write.
    cluster.clockOf(old).pause();
    for (const id of cluster.ids) if (id !== old) cluster.hub.partition(old, id);
    const next = await cluster.awaitLeader([old]);
    await cluster.write(next, { op: 'set', key: 'lease', value: bytes('new') });
    // It resumes, still cut off, and is asked for a lease read at once.
    cluster.clockOf(old).resume();
    expect(cluster.node(old).isLeader()).toBe(true); // it does not know yet
    let served: string | null | undefined;
    let refused: unknown;
    cluster.node(old).readIndex({ lease: true }).then(
      () => (served = text(cluster!.cache(old).get('lease', 0))),
      (error) => (refused = error),
    );
    await cluster.run(1_000);
    expect(served).toBeUndefined(); // never the stale 'old'
    expect(refused).toBeInstanceOf(NotLeaderError);
    expect(cluster.node(old).isLeader()).toBe(false);
  });

  it('fails pending proposals with NodeStoppedError on stop', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { ...writes }, 7);
    await cluster.startAll();
    const leader = await cluster.awaitLeader();
    for (const id of cluster.ids) if (id !== leader) await cluster.crash(id);
    const pending = cluster.node(leader).propose(bytes('never committed'));
    await cluster.run(50);
    await cluster.node(leader).stop();
    await expect(pending).rejects.toBeInstanceOf(NodeStoppedError);
  });

  it('propose with a callback: told the result once the entry is applied, or NodeStoppedError on stop', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { ...writes }, 11);
    await cluster.startAll();
    const leader = await cluster.awaitLeader();
    const command = encodeCacheCommand({ op: 'set', key: 'cb', value: bytes('v') }, { nowMs: 0, clientId: '', sequence: 0 });
    const told: { error: Error | null; result: unknown }[] = [];
    const returned = cluster.node(leader).propose(command, (error, result) => told.push({ error, result }));
    expect(returned).toBeUndefined();
    await cluster.runUntil(() => told.length > 0, 2_000, 'the callback');
    await cluster.run(100);
    expect(told).toEqual([{ error: null, result: { ok: true, code: null, value: null } }]);
    expect(text(cluster.cache(leader).get('cb', 0))).toBe('v');

    for (const id of cluster.ids) if (id !== leader) await cluster.crash(id);
    const stranded: (Error | null)[] = [];
    cluster.node(leader).propose(bytes('never committed'), (error) => stranded.push(error));
    await cluster.run(50);
    expect(stranded).toEqual([]);
    await cluster.node(leader).stop();
    expect(stranded).toHaveLength(1);
    expect(stranded[0]).toBeInstanceOf(NodeStoppedError);
  });

  it('readIndex with a callback: told the read index once applied; a follower throws at once; NodeStoppedError on stop', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { ...writes }, 13);
    await cluster.startAll();
    const leader = await cluster.awaitLeader();
    await cluster.write(leader, { op: 'set', key: 'rc', value: bytes('1') });
    const appliedBefore = cluster.node(leader).getState().appliedIndex;
    const told: { error: Error | null; index: number | undefined }[] = [];
    expect(cluster.node(leader).readIndex({}, (error, index) => told.push({ error, index }))).toBeUndefined();
    await cluster.runUntil(() => told.length > 0, 2_000, 'the read callback');
    expect(told).toEqual([{ error: null, index: expect.any(Number) }]);
    expect(told[0]!.index).toBeGreaterThanOrEqual(appliedBefore);
    expect(cluster.node(leader).getState().appliedIndex).toBeGreaterThanOrEqual(told[0]!.index!);

    const follower = cluster.ids.find((id) => id !== leader)!;
    expect(() => cluster!.node(follower).readIndex({}, () => told.push({ error: null, index: -1 }))).toThrow(NotLeaderError);

    for (const id of cluster.ids) if (id !== leader) await cluster.crash(id);
    const stranded: (Error | null)[] = [];
    cluster.node(leader).readIndex({}, (error) => stranded.push(error));
    await cluster.run(50);
    expect(stranded).toEqual([]); // no quorum confirms it
    await cluster.node(leader).stop();
    expect(stranded).toHaveLength(1);
    expect(stranded[0]).toBeInstanceOf(NodeStoppedError);
    expect(told).toHaveLength(1);
  });

  it('a lease read while the lease holds and everything committed is applied is told before readIndex returns', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { ...writes }, 14);
    await cluster.startAll();
    const leader = await cluster.awaitLeader();
    await cluster.write(leader, { op: 'set', key: 'lease', value: bytes('1') });
    await cluster.run(100); // heartbeats answered: the lease holds
    const state = cluster.node(leader).getState();
    expect(state.appliedIndex).toBe(state.commitIndex);
    const told: { error: Error | null; index: number | undefined }[] = [];
    cluster.node(leader).readIndex({ lease: true }, (error, index) => told.push({ error, index }));
    expect(told).toEqual([{ error: null, index: state.commitIndex }]);
    expect(await cluster.node(leader).readIndex({ lease: true })).toBe(state.commitIndex);
  });

  it('propose with a callback throws at once what it cannot take, and tells nothing', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { ...writes }, 12);
    await cluster.startAll();
    const leader = await cluster.awaitLeader();
    await cluster.run(200);
    const follower = cluster.ids.find((id) => id !== leader)!;
    const told: unknown[] = [];
    expect(() => cluster!.node(follower).propose(bytes('x'), (error) => told.push(error))).toThrow(NotLeaderError);
    expect(() => cluster!.node(leader).propose(new Uint8Array(8 * 1024 * 1024 + 1), (error) => told.push(error))).toThrow(ProposalTooLargeError);
    await cluster.run(200);
    expect(told).toEqual([]);
  });
});
