/**
 * A follower installs a leader's snapshot a slice per event-loop turn (the cache's
 * `restoreSnapshot`): its old state stays readable until the last slice, and a node stopped
 * half-way keeps its old state and restores the durable snapshot when it starts again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from './cluster-harness.js';

const text = (value: Uint8Array | undefined | null) => (value == null ? value : new TextDecoder().decode(value));

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

/** A follower that missed compacted entries: `n` = 5 on it, 65 on the others. */
async function laggingFollower(writes: { asyncStorageWrites: boolean }) {
  cluster = new TestCluster(['n1', 'n2', 'n3'], { ...writes, snapshotThreshold: 20 }, 5);
  await cluster.startAll();
  const leader = await cluster.awaitLeader();
  const lagging = cluster.ids.find((id) => id !== leader)!;
  for (let i = 0; i < 5; i++) await cluster.write(leader, { op: 'increment', key: 'n', delta: 1 });
  await cluster.runUntil(() => text(cluster!.cache(lagging).get('n', 0)) === '5', 1_000, 'the follower to apply n = 5');
  await cluster.crash(lagging);
  for (let i = 0; i < 30; i++) await cluster.write(leader, { op: 'set', key: `k${i}`, value: new Uint8Array([i]) });
  for (let i = 0; i < 60; i++) await cluster.write(leader, { op: 'increment', key: 'n', delta: 1 });
  expect(cluster.node(leader).getState().firstIndex).toBeGreaterThan(40); // compacted past what the follower has
  return { cluster, leader, lagging };
}

/** Wraps `restoreSnapshot` of node `id`'s cache: 1 key per slice, and `onSlice` after each. */
function watchRestore(cluster: TestCluster, id: string, onSlice: (slice: number) => void) {
  const cache = cluster.cache(id);
  const restoreSnapshot = cache.restoreSnapshot.bind(cache);
  cache.restoreSnapshot = function* (image: Uint8Array) {
    let slice = 0;
    const steps = restoreSnapshot(image, 1);
    try {
      while (!steps.next().done) {
        onSlice(++slice);
        yield;
      }
    } finally {
      steps.return();
    }
  };
}

for (const writes of [{ asyncStorageWrites: false }, { asyncStorageWrites: true }]) describe(`installing a leader's snapshot (asyncStorageWrites: ${writes.asyncStorageWrites})`, () => {
  it('runs a slice per event-loop turn, the old state readable until the last slice', async () => {
    const { cluster, lagging } = await laggingFollower(writes);
    await cluster.start(lagging);
    const seen: (string | null | undefined)[] = [];
    let turns = 0;
    let turnsAtLastSlice = -1;
    watchRestore(cluster, lagging, () => {
      expect(turns, 'another event-loop turn ran since the last slice').toBeGreaterThan(turnsAtLastSlice);
      turnsAtLastSlice = turns;
      setImmediate(() => turns++);
      seen.push(text(cluster.cache(lagging).get('n', 0)));
    });
    await cluster.runUntil(() => text(cluster.cache(lagging).get('n', 0)) === '65', 5_000, 'the follower to catch up');
    expect(seen.length).toBeGreaterThanOrEqual(31); // a slice per key
    // A restarted node restores its own last snapshot first (none here): before the leader's is
    // whole, readers see nothing of it.
    expect(new Set(seen)).toEqual(new Set([seen[0]]));
    expect(text(cluster.cache(lagging).get('k29', 0))).toBe('\u001d');
  });

  it('stopped half-way, the node keeps its old state; started again, it restores the durable snapshot', async () => {
    const { cluster, lagging } = await laggingFollower(writes);
    await cluster.start(lagging);
    const stale = cluster.cache(lagging);
    let before: string | null | undefined;
    let stopping: Promise<void> | undefined;
    watchRestore(cluster, lagging, (slice) => {
      if (slice === 1) before = text(stale.get('n', 0)); // what it had applied from its own log
      if (slice === 3) stopping = cluster.crash(lagging);
    });
    await cluster.runUntil(() => stopping !== undefined, 5_000, 'the restore to begin');
    await stopping;
    expect(before).toBe('5');
    expect(text(stale.get('n', 0))).toBe('5'); // abandoned: nothing of the snapshot was put in place
    expect(stale.get('k29', 0)).toBeUndefined();
    // The snapshot was durable before the restore began: a restart restores it from disk.
    const restarted = await cluster.start(lagging);
    expect(restarted.getState().appliedIndex).toBeGreaterThan(40); // from the snapshot on disk, before any message
    await cluster.runUntil(() => text(cluster.cache(lagging).get('n', 0)) === '65', 5_000, 'the restarted follower to catch up');
  });
});
