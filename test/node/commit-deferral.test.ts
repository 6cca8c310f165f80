/**
 * A hard state whose only change is the commit index is not written on its own (ReadyWrites.update,
 * docs/node.md "Ordering"): it rides along with the next write that syncs anyway, and goes down
 * when the node stops.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LogUpdate } from '../../src/storage/log-store.js';
import { MemoryLogStore } from '../../src/storage/memory-log-store.js';
import { TestCluster } from './cluster-harness.js';

class CountingLogStore extends MemoryLogStore {
  saves: LogUpdate[] = [];
  override save(update: LogUpdate): Promise<void> {
    this.saves.push(update);
    return super.save(update);
  }
}

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

for (const asyncStorageWrites of [false, true]) {
  describe(`commit-only hard state changes (asyncStorageWrites: ${asyncStorageWrites})`, () => {
    it('cost a follower no write of their own, and are written when the node stops', async () => {
      cluster = new TestCluster(['n1', 'n2', 'n3'], { asyncStorageWrites }, 21);
      const stores = new Map<string, CountingLogStore>();
      for (const id of cluster.ids) {
        const logStore = new CountingLogStore();
        stores.set(id, logStore);
        await cluster.start(id, { logStore });
      }
      const leader = await cluster.awaitLeader();
      const follower = cluster.ids.find((id) => id !== leader)!;
      const store = stores.get(follower)!;
      await cluster.write(leader, { op: 'set', key: 'warm', value: Buffer.from('up') });
      await cluster.runUntil(() => cluster!.cache(follower).get('warm', 0) !== undefined, 1_000, 'the follower to apply');

      const before = store.saves.length;
      const writes = 10;
      for (let i = 0; i < writes; i++) {
        await cluster.write(leader, { op: 'set', key: `k${i}`, value: Buffer.from(String(i)) });
        // Let the leader's next message carry the new commit index to the follower.
        await cluster.run(60);
      }
      await cluster.runUntil(() => cluster!.cache(follower).get(`k${writes - 1}`, 0) !== undefined, 1_000, 'the follower to apply all');
      const saves = store.saves.slice(before);
      // One write per replicated entry; none for a commit index alone.
      expect(saves.filter((s) => (s.entries?.length ?? 0) === 0 && s.snapshotMeta == null)).toEqual([]);
      expect(saves.length).toBe(writes);
      // The commit index rode along: each write carries the commit index known when it was made.
      expect(saves.at(-1)!.hardState?.commit).toBeGreaterThanOrEqual(before);

      const applied = cluster.node(follower).getState().appliedIndex;
      expect(store.hardState().commit).toBeLessThan(applied); // the last commit advance is not yet written
      await cluster.crash(follower); // stop(): the deferred commit index goes down
      expect(store.hardState().commit).toBe(applied);
    });
  });
}
