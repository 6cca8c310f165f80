/**
 * Local snapshots are written in the background (RaftNode.startSnapshot): the Ready loop does not
 * wait for the snapshot file, the log is compacted only once the snapshot is durable, one is
 * written at a time, a leader's snapshot waits for a local one still being written, and stop()
 * waits for it too. The snapshot writes are held open by the test to make each ordering happen.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/core/types.js';
import { TestCluster } from './cluster-harness.js';
import { FillableLogStore } from './fillable-log-store.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined | null) => (value == null ? value : new TextDecoder().decode(value));

/** Holds node `id`'s snapshot writes open until `release()`; later writes go through at once. */
function holdSnapshotWrites(cluster: TestCluster, id: string, holdCount = 1) {
  const snapshots = cluster.members.get(id)!.snapshots;
  const save = snapshots.save.bind(snapshots);
  const started: Snapshot[] = [];
  const releases: (() => void)[] = [];
  snapshots.save = async (snapshot: Snapshot) => {
    started.push(snapshot);
    if (started.length <= holdCount) await new Promise<void>((resolve) => releases.push(resolve));
    await save(snapshot);
  };
  heldReleases.push(() => releases.splice(0).forEach((release) => release()));
  return { started, release: () => releases.shift()?.() };
}

/** Releases every held write, so a failed test does not leave stop() waiting in afterEach. */
const heldReleases: (() => void)[] = [];

let cluster: TestCluster | undefined;
afterEach(async () => {
  for (const release of heldReleases.splice(0)) release();
  await cluster?.stopAll();
  cluster = undefined;
});

for (const writes of [{ asyncStorageWrites: false }, { asyncStorageWrites: true }]) describe(`background snapshots (asyncStorageWrites: ${writes.asyncStorageWrites})`, () => {
  it('writes go on while a snapshot is being written; the log is compacted once it is durable', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { ...writes, snapshotThreshold: 10 }, 21);
    await cluster.startAll();
    const leader = await cluster.awaitLeader();
    const held = holdSnapshotWrites(cluster, leader);
    const store = cluster.members.get(leader)!.logStore;
    for (let i = 0; i < 12; i++) await cluster.write(leader, { op: 'increment', key: 'n', delta: 1 });
    expect(held.started).toHaveLength(1);
    const snapshotIndex = held.started[0]!.meta.lastIncludedIndex;
    // Every one of these would wait for the held snapshot if the Ready loop awaited it.
    for (let i = 0; i < 30; i++) await cluster.write(leader, { op: 'increment', key: 'n', delta: 1 });
    expect(text(cluster.cache(leader).get('n', 0))).toBe('42');
    expect(held.started).toHaveLength(1); // one at a time, though the threshold is passed again
    expect(store.firstIndex()).toBe(1); // nothing compacted before the snapshot is durable
    expect(cluster.node(leader).getState().firstIndex).toBe(1);

    held.release();
    await cluster.runUntil(() => store.firstIndex() === snapshotIndex + 1, 1_000, 'the compaction');
    await cluster.runUntil(() => cluster!.node(leader).getState().firstIndex === snapshotIndex + 1, 1_000, 'the core to compact');
    expect(store.snapshotMeta()?.lastIncludedIndex).toBe(snapshotIndex);
    // The next write past the threshold starts the next snapshot, from the newer applied index.
    await cluster.write(leader, { op: 'increment', key: 'n', delta: 1 });
    await cluster.runUntil(() => held.started.length === 2, 1_000, 'the next snapshot');
    expect(held.started[1]!.meta.lastIncludedIndex).toBeGreaterThan(snapshotIndex + 30);
  });

  it('stop() waits for the snapshot being written, so its owner may close the stores after', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { ...writes, snapshotThreshold: 10 }, 22);
    await cluster.startAll();
    const leader = await cluster.awaitLeader();
    const held = holdSnapshotWrites(cluster, leader);
    for (let i = 0; i < 12; i++) await cluster.write(leader, { op: 'set', key: `k${i}`, value: bytes(String(i)) });
    expect(held.started).toHaveLength(1);
    let stopped = false;
    const stopping = cluster.node(leader).stop().then(() => (stopped = true));
    await cluster.run(50);
    expect(stopped).toBe(false);
    held.release();
    await cluster.settleWith(stopping);
    expect(stopped).toBe(true);
    // The snapshot and the compaction it allows are durable: a restart starts from them.
    const store = cluster.members.get(leader)!.logStore;
    expect(store.snapshotMeta()?.lastIncludedIndex).toBe(held.started[0]!.meta.lastIncludedIndex);
    expect(store.firstIndex()).toBe(held.started[0]!.meta.lastIncludedIndex + 1);
  });

  it("a leader's snapshot waits for a local one still being written, then replaces it", async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { ...writes, snapshotThreshold: 10 }, 23);
    await cluster.startAll();
    const leader = await cluster.awaitLeader();
    const follower = cluster.ids.find((id) => id !== leader)!;
    const held = holdSnapshotWrites(cluster, follower);
    for (let i = 0; i < 12; i++) await cluster.write(leader, { op: 'increment', key: 'n', delta: 1 });
    await cluster.runUntil(() => held.started.length === 1, 1_000, "the follower's local snapshot");
    const localIndex = held.started[0]!.meta.lastIncludedIndex;
    // Cut the follower off while the leader writes on and compacts past its log.
    for (const other of cluster.ids) if (other !== follower) cluster.hub.partition(follower, other);
    for (let i = 0; i < 40; i++) await cluster.write(leader, { op: 'increment', key: 'n', delta: 1 });
    await cluster.runUntil(() => cluster!.node(leader).getState().firstIndex > localIndex + 20, 1_000, 'the leader to compact');
    for (const other of cluster.ids) if (other !== follower) cluster.hub.healPartition(follower, other);
    // The leader's snapshot reaches the follower's core, but is not written before the local one.
    await cluster.runUntil(() => cluster!.node(follower).getState().commitIndex > localIndex + 20, 2_000, "the leader's snapshot to reach the follower");
    await cluster.run(300);
    expect(held.started).toHaveLength(1);
    expect(text(cluster.cache(follower).get('n', 0))).not.toBe('52');
    const store = cluster.members.get(follower)!.logStore;
    expect(store.snapshotMeta()).toBeNull();
    held.release();
    await cluster.runUntil(() => text(cluster!.cache(follower).get('n', 0)) === '52', 2_000, 'the follower to catch up');
    expect(held.started).toHaveLength(2);
    expect(held.started[1]!.meta.lastIncludedIndex).toBeGreaterThan(localIndex + 20);
    expect(store.snapshotMeta()!.lastIncludedIndex).toBe(held.started[1]!.meta.lastIncludedIndex);
    expect(cluster.node(follower).getState().running).toBe(true);
  });
});

describe('when to snapshot (snapshotLogRatio)', () => {
  /** Starts a 3-node cluster with `snapshotLogRatio` and counts the leader's snapshot writes. */
  async function clusterWithRatio(ratio: number | undefined, seed: number) {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { snapshotThreshold: 10 }, seed);
    for (const id of cluster.ids) await cluster.start(id, ratio === undefined ? {} : { snapshotLogRatio: ratio });
    const leader = await cluster.awaitLeader();
    const snapshots = cluster.members.get(leader)!.snapshots;
    const save = snapshots.save.bind(snapshots);
    const taken: number[] = [];
    snapshots.save = async (snapshot: Snapshot) => {
      taken.push(snapshot.data.length);
      await save(snapshot);
    };
    return { leader, taken };
  }

  it('a large state written in small entries is snapshotted once the log holds half its size, not every snapshotThreshold entries', async () => {
    const { leader, taken } = await clusterWithRatio(undefined, 31);
    await cluster!.write(leader, { op: 'set', key: 'big', value: new Uint8Array(20_000).fill(7) });
    for (let i = 0; i < 12; i++) await cluster!.write(leader, { op: 'increment', key: 'n', delta: 1 });
    await cluster!.run(10);
    expect(taken).toHaveLength(1); // the first: no snapshot yet to weigh the log against
    expect(taken[0]).toBeGreaterThan(20_000);
    // 40 small entries (a few KB of log) against a 20 KB snapshot: not worth another one yet.
    for (let i = 0; i < 40; i++) await cluster!.write(leader, { op: 'increment', key: 'n', delta: 1 });
    await cluster!.run(10);
    expect(taken).toHaveLength(1);
    // Half the snapshot's size of log: the next one.
    await cluster!.write(leader, { op: 'set', key: 'other', value: new Uint8Array(12_000).fill(1) });
    await cluster!.write(leader, { op: 'increment', key: 'n', delta: 1 });
    await cluster!.runUntil(() => taken.length === 2, 1_000, 'the second snapshot');
  });

  it('a snapshot that becomes durable while the node sits out a full disk is still what the next one is weighed against', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { snapshotThreshold: 10 }, 33);
    const stores = new Map<string, FillableLogStore>();
    for (const id of cluster.ids) {
      stores.set(id, new FillableLogStore());
      await cluster.start(id, { logStore: stores.get(id)!, storageFullRetryMs: 200 });
    }
    const leader = await cluster.awaitLeader();
    const held = holdSnapshotWrites(cluster, leader);
    await cluster.write(leader, { op: 'set', key: 'big', value: new Uint8Array(20_000).fill(7) });
    for (let i = 0; i < 12; i++) await cluster.write(leader, { op: 'increment', key: 'n', delta: 1 });
    expect(held.started).toHaveLength(1);

    // The disk fills while the snapshot is being written: the node sits out, then the write lands.
    stores.get(leader)!.full = true;
    await cluster.settleWith(cluster.write(leader, { op: 'increment', key: 'n', delta: 1 }).catch(() => undefined));
    await cluster.runUntil(() => cluster!.node(leader).getState().storageFull, 1_000, 'the leader to notice its full disk');
    held.release();
    await cluster.run(10);
    stores.get(leader)!.full = false;
    await cluster.runUntil(() => !cluster!.node(leader).getState().storageFull, 2_000, 'the node to rejoin');

    // A few KB of log against a 20 KB snapshot: the rejoined node is not due another one.
    const next = await cluster.awaitLeader([leader]);
    for (let i = 0; i < 40; i++) await cluster.write(next, { op: 'increment', key: 'n', delta: 1 });
    await cluster.runUntil(() => text(cluster!.cache(leader).get('n', 0)) === text(cluster!.cache(next).get('n', 0)), 2_000, 'the node to catch up');
    await cluster.run(10);
    expect(held.started).toHaveLength(1);
  });

  it('snapshotLogRatio 0 snapshots every snapshotThreshold entries', async () => {
    const { leader, taken } = await clusterWithRatio(0, 32);
    await cluster!.write(leader, { op: 'set', key: 'big', value: new Uint8Array(20_000).fill(7) });
    for (let i = 0; i < 52; i++) await cluster!.write(leader, { op: 'increment', key: 'n', delta: 1 });
    await cluster!.run(10);
    expect(taken.length).toBeGreaterThanOrEqual(4);
  });
});
