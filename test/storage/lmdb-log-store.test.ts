// LmdbLogStore beyond the conformance suite: checksums catch flipped bytes (at open or on read),
// the size limit fails appends with StorageFullError without harming the log, and concurrent
// appends share transactions (group commit).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isRaftwireError } from '../../src/core/errors.js';
import type { Entry } from '../../src/core/types.js';
import { LmdbLogStore, StorageCorruptionError, StorageFullError } from '../../src/storage/index.js';
import { entries, openError, tempDir } from './helpers.js';

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function openTemp(options: Parameters<typeof LmdbLogStore.open>[1] = {}): Promise<{ store: LmdbLogStore; path: string }> {
  const dir = tempDir('lmdb');
  cleanups.push(() => dir.remove());
  const store = await LmdbLogStore.open(dir.path, options);
  cleanups.push(() => store.close());
  return { store, path: dir.path };
}

/** An entry whose payload is a marker we can find in the data file. */
function marked(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(`MARK-${String(index).padStart(6, '0')}-${'x'.repeat(40)}`) };
}

/** Flips one byte inside every copy of `marker` in the data file (LMDB may keep stale copies in free pages). */
function flipMarker(path: string, marker: string, offsetInMarker = 8): number {
  const file = join(path, 'data.mdb');
  const bytes = readFileSync(file);
  const needle = Buffer.from(marker);
  let found = 0;
  for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + 1)) {
    bytes[at + offsetInMarker]! ^= 0x55;
    found++;
  }
  writeFileSync(file, bytes);
  return found;
}

describe('LmdbLogStore corruption', () => {
  it('refuses to open when a tail entry was damaged, naming the index and what to do', async () => {
    const { store, path } = await openTemp();
    for (let i = 1; i <= 20; i++) await store.append([marked(i, 1)]);
    await store.close();
    expect(flipMarker(path, 'MARK-000017')).toBeGreaterThan(0);
    const error = await openError(path);
    expect(error).toBeInstanceOf(StorageCorruptionError);
    const corruption = error as StorageCorruptionError;
    expect(corruption.code).toBe('STORAGE_ERR_CORRUPTION');
    expect(corruption.record).toBe('entry');
    expect(corruption.index).toBe(17);
    expect(corruption.message).toContain('remove its data directory');
  });

  it('outside the verified tail, opens but throws the typed error on reading the damaged entry', async () => {
    const { store, path } = await openTemp();
    await store.append(Array.from({ length: 30 }, (_, k) => marked(k + 1, 1)));
    await store.close();
    expect(flipMarker(path, 'MARK-000005')).toBeGreaterThan(0);
    const reopened = await LmdbLogStore.open(path, { verifyTailEntries: 10 });
    cleanups.push(() => reopened.close());
    expect(reopened.entries(6, 31)).toHaveLength(25);
    for (const read of [() => reopened.entries(1, 10), () => reopened.term(5)]) {
      let caught: unknown = null;
      try {
        read();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(StorageCorruptionError);
      expect((caught as StorageCorruptionError).index).toBe(5);
    }
    // verifyOnOpen 'all' finds it at once.
    await reopened.close();
    const error = await openError(path, { verifyOnOpen: 'all' });
    expect((error as StorageCorruptionError).index).toBe(5);
  });

  it('refuses to open on a damaged hard state', async () => {
    const { store, path } = await openTemp();
    await store.setHardState({ term: 7, vote: 'VOTE-MARKER-node-7', commit: 0 });
    await store.close();
    expect(flipMarker(path, 'VOTE-MARKER-node-7', 3)).toBeGreaterThan(0);
    const error = await openError(path);
    expect(error).toBeInstanceOf(StorageCorruptionError);
    expect((error as StorageCorruptionError).record).toBe('hardState');
  });

  it('refuses to open when an entry the bounds promise is missing', async () => {
    const { store, path } = await openTemp();
    await store.append(entries(1, 5, 1));
    await store.close();
    // Remove the last entry behind the store's back, as a lost write would.
    const { open } = await import('lmdb');
    const raw = open({ path, encoding: 'binary' });
    await raw.remove(5);
    await raw.close();
    const error = await openError(path);
    expect(error).toBeInstanceOf(StorageCorruptionError);
    expect((error as StorageCorruptionError).index).toBe(5);
  });
});

describe('LmdbLogStore size limit', () => {
  const mapSizeMax = 512 * 1024;
  const big = (index: number, term = 1): Entry => ({ index, term, type: 'normal', data: new Uint8Array(1000).fill(index % 251) });

  it('fails appends past mapSizeMax with StorageFullError, keeps serving reads, and recovers after compaction', async () => {
    const { store, path } = await openTemp({ mapSizeMax, mapSizeInitial: 128 * 1024 });
    let index = 0;
    let full: unknown = null;
    while (full === null && index < 10_000) {
      try {
        await store.append([big(index + 1), big(index + 2), big(index + 3), big(index + 4)]);
        index += 4;
      } catch (error) {
        full = error;
      }
    }
    expect(full).toBeInstanceOf(StorageFullError);
    expect((full as StorageFullError).code).toBe('STORAGE_ERR_FULL');
    expect(index).toBeGreaterThan(40);
    // Nothing written is damaged, reads work, and the store still takes writes that free space.
    expect(store.lastIndex()).toBe(index);
    const stored = store.entries(1, index + 1);
    expect(stored.map((e) => e.data[0])).toEqual(Array.from({ length: index }, (_, k) => (k + 1) % 251));
    await store.setHardState({ term: 1, vote: 'n1', commit: index });
    expect(store.usedBytes()).toBeLessThanOrEqual(mapSizeMax);
    await store.compact(index - 4);
    await store.append([big(index + 1)]);
    expect(store.lastIndex()).toBe(index + 1);
    // And after a reopen with a higher limit, a large append fits.
    await store.close();
    const reopened = await LmdbLogStore.open(path, { mapSizeMax: 8 * mapSizeMax, verifyOnOpen: 'all' });
    cleanups.push(() => reopened.close());
    await reopened.append(Array.from({ length: 200 }, (_, k) => big(index + 2 + k)));
    expect(reopened.lastIndex()).toBe(index + 201);
    expect(reopened.hardState().commit).toBe(index);
  });
});

describe('LmdbLogStore group commit', () => {
  it('groups concurrent appends into fewer transactions, each resolving only after its commit', async () => {
    const { store } = await openTemp();
    const order: number[] = [];
    const writes = Array.from({ length: 64 }, (_, k) =>
      store.append(entries(k * 4 + 1, k * 4 + 4, 1)).then(() => {
        // Resolved means committed: the entries are readable now.
        expect(store.lastIndex()).toBeGreaterThanOrEqual(k * 4 + 4);
        order.push(k);
      }),
    );
    await Promise.all(writes);
    expect(order).toEqual(Array.from({ length: 64 }, (_, k) => k));
    expect(store.commitCount).toBeLessThan(64);
    expect(store.entries(1, 257).map((e) => e.index)).toEqual(Array.from({ length: 256 }, (_, k) => k + 1));
  });

  it("durability 'none' stores the same data (it only skips fsync)", async () => {
    const { store, path } = await openTemp({ durability: 'none' });
    await store.append(entries(1, 50, 1));
    await store.close();
    const reopened = await LmdbLogStore.open(path, { verifyOnOpen: 'all' });
    cleanups.push(() => reopened.close());
    expect(reopened.entries(1, 51)).toEqual(entries(1, 50, 1));
  });

  it('a write refused in a group does not fail the writes around it', async () => {
    const { store } = await openTemp();
    const results = await Promise.allSettled([
      store.append(entries(1, 3, 1)),
      store.append(entries(10, 11, 1)), // gap: refused
      store.append(entries(4, 5, 1)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const reason = (results[1] as PromiseRejectedResult).reason;
    expect(isRaftwireError(reason) && reason.code).toBe('STORAGE_ERR_INVALID_WRITE');
    expect(store.lastIndex()).toBe(5);
  });
});

describe('LmdbLogStore compaction', () => {
  /** Entry keys LMDB still holds at or below `prevIndex` (compacted, not yet removed). */
  const staleCount = (store: LmdbLogStore, prevIndex: number): number => {
    const root = (store as unknown as { root: { getKeys(range: object): Iterable<unknown> } }).root;
    return [...root.getKeys({ start: 0, end: prevIndex + 1 })].filter((key) => typeof key === 'number').length;
  };
  const until = async (predicate: () => boolean, what: string) => {
    for (let i = 0; i < 500 && !predicate(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    if (!predicate()) throw new Error(`timed out waiting for ${what}`);
  };

  it('a compaction starts a checkpoint at once, and the entries it covers never reach LMDB', async () => {
    const { store } = await openTemp({ checkpointIntervalMs: Number.POSITIVE_INFINITY, checkpointBytes: Number.MAX_SAFE_INTEGER });
    await store.append(entries(1, 100, 1));
    expect(store.checkpointCount).toBe(0);
    await store.compact(60);
    await until(() => store.checkpointCount === 1, 'the checkpoint after the compaction');
    const root = (store as unknown as { root: { getKeys(range: object): Iterable<unknown> } }).root;
    expect([...root.getKeys({ start: 0, end: 101 })].filter((key) => typeof key === 'number')).toEqual(Array.from({ length: 40 }, (_, k) => 61 + k));
    expect(store.entries(61, 101).map((e) => e.index)).toEqual(Array.from({ length: 40 }, (_, k) => 61 + k));
    // Appends alone start none (no time or size threshold here).
    await store.append(entries(101, 110, 1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(store.checkpointCount).toBe(1);
  });

  it('removes compacted entries a budget per checkpoint, as many as it puts and at least 1,024', async () => {
    const { store } = await openTemp({ checkpointIntervalMs: Number.POSITIVE_INFINITY, checkpointBytes: 1 });
    await store.append(entries(1, 5000, 1));
    await store.checkpoint();
    let checkpoints = store.checkpointCount;
    await store.compact(4000);
    await until(() => store.checkpointCount > checkpoints, 'the checkpoint after the compaction');
    expect(staleCount(store, 4000)).toBe(4000 - 1024);
    // Reads never reach them.
    expect(store.firstIndex()).toBe(4001);
    expect(store.entries(4001, 5001).map((e) => e.index)).toEqual(Array.from({ length: 1000 }, (_, k) => 4001 + k));
    expect(() => store.term(3999)).toThrow(expect.objectContaining({ code: 'STORAGE_ERR_COMPACTED' }));
    // A checkpoint that puts 2,000 entries removes 2,000 stale ones.
    checkpoints = store.checkpointCount;
    await store.append(entries(5001, 7000, 1));
    await until(() => store.checkpointCount > checkpoints && staleCount(store, 4000) < 4000 - 1024, 'the next checkpoint');
    expect(staleCount(store, 4000)).toBe(4000 - 1024 - 2000);
    // Closing checkpoints everything, the stale rest included.
    await store.close();
  });

  it('with no more writes, timed checkpoints remove the rest', async () => {
    const { store } = await openTemp({ checkpointIntervalMs: 5, checkpointBytes: Number.MAX_SAFE_INTEGER });
    await store.append(entries(1, 5000, 1));
    await store.checkpoint();
    await store.compact(4500);
    await until(() => staleCount(store, 4500) === 0, 'every stale entry to go');
    // LMDB shows the last removal as soon as its transaction commits; the store counts the
    // checkpoint a moment later, when the commit's promise settles. checkpoint() waits for the
    // one in flight (and has nothing more to do), so the count is read after it.
    await store.checkpoint();
    expect(store.checkpointCount).toBeGreaterThanOrEqual(1 + Math.ceil(4500 / 1024));
  });

  it('opens with stale entries left below the compaction point (a crash between budgets) and removes them', async () => {
    const { store, path } = await openTemp();
    await store.append(entries(1, 50, 1));
    await store.compact(40);
    await store.close();
    const { open } = await import('lmdb');
    const raw = open({ path, encoding: 'binary' });
    for (const key of [3, 17, 40]) await raw.put(key, Buffer.from('left behind'));
    await raw.close();
    const reopened = await LmdbLogStore.open(path, { verifyOnOpen: 'all' });
    cleanups.push(() => reopened.close());
    expect(reopened.firstIndex()).toBe(41);
    expect(reopened.entries(41, 51).map((e) => e.index)).toEqual(Array.from({ length: 10 }, (_, k) => 41 + k));
    expect(staleCount(reopened, 40)).toBe(0);
  });
});
