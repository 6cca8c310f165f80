import { afterEach, describe, expect, it } from 'vitest';
import { StorageFullError } from '../../src/storage/errors.js';
import { TestCluster } from './cluster-harness.js';
import { FillableLogStore } from './fillable-log-store.js';

for (const writes of [{ asyncStorageWrites: false }, { asyncStorageWrites: true }]) describe(`a node whose disk fills up (asyncStorageWrites: ${writes.asyncStorageWrites})`, () => {
  let cluster: TestCluster;
  afterEach(async () => cluster?.stopAll());

  async function start(): Promise<Map<string, FillableLogStore>> {
    cluster = new TestCluster(['n1', 'n2', 'n3'], { ...writes }, 11);
    const stores = new Map<string, FillableLogStore>();
    for (const id of cluster.ids) {
      const logStore = new FillableLogStore();
      stores.set(id, logStore);
      await cluster.start(id, { logStore, storageFullRetryMs: 500 });
    }
    return stores;
  }

  it('a follower sits out with a typed error, keeps its data readable, and catches up once there is room', async () => {
    const stores = await start();
    const leader = await cluster.awaitLeader();
    await cluster.write(leader, { op: 'set', key: 'a', value: Buffer.from('1') });
    const follower = cluster.ids.find((id) => id !== leader)!;
    await cluster.runUntil(() => cluster.cache(follower).get('a', 0) !== undefined, 1_000, 'the follower to apply a');
    stores.get(follower)!.full = true;

    // The other two carry on; the follower's next log write fails and it suspends itself.
    for (let i = 0; i < 5; i++) await cluster.write(leader, { op: 'set', key: `b${i}`, value: Buffer.from(String(i)) });
    await cluster.runUntil(() => cluster.node(follower).getState().storageFull, 1_000, 'the follower to notice its full disk');
    expect(() => cluster.node(follower).propose(new Uint8Array([1]))).toThrow(StorageFullError);
    expect(() => cluster.node(follower).readIndex()).toThrow(StorageFullError);
    expect(Buffer.from(cluster.cache(follower).get('a', 0)!).toString()).toBe('1'); // stale reads still served

    // Still full at the first retry: it suspends again. Then room is made: it rejoins.
    await cluster.run(600);
    expect(cluster.node(follower).getState().storageFull).toBe(true);
    stores.get(follower)!.full = false;
    await cluster.runUntil(() => cluster.cache(follower).get('b4', 0) !== undefined, 3_000, 'the follower to catch up');
    expect(cluster.node(follower).getState().storageFull).toBe(false);
    expect(stores.get(follower)!.failedWrites).toBeGreaterThanOrEqual(2);
  });

  it('a leader that fills up fails its pending proposals with StorageFullError and the others elect a new leader', async () => {
    const stores = await start();
    const leader = await cluster.awaitLeader();
    await cluster.write(leader, { op: 'set', key: 'x', value: Buffer.from('1') });
    stores.get(leader)!.full = true;
    await expect(cluster.write(leader, { op: 'set', key: 'y', value: Buffer.from('2') })).rejects.toBeInstanceOf(StorageFullError);
    expect(cluster.node(leader).isLeader()).toBe(false);
    const next = await cluster.awaitLeader([leader]);
    await cluster.write(next, { op: 'set', key: 'z', value: Buffer.from('3') });
    stores.get(leader)!.full = false;
    await cluster.runUntil(() => cluster.cache(leader).get('z', 0) !== undefined, 3_000, 'the old leader to rejoin and catch up');
  });
});
