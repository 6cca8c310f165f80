// Runs the LogStore conformance suite against both implementations.
import { cpSync } from 'node:fs';
import { LmdbLogStore, MemoryLogStore } from '../../src/storage/index.js';
import { LOCK_FILE } from '../../src/storage/dir-lock.js';
import type { LogStore } from '../../src/storage/index.js';
import { logStoreConformance } from './conformance.js';
import { tempDir } from './helpers.js';

logStoreConformance('MemoryLogStore', {
  async create() {
    return new MemoryLogStore();
  },
  async reopen(store: LogStore) {
    const image = (store as MemoryLogStore).image();
    await store.close();
    return MemoryLogStore.fromImage(image);
  },
  async cleanup() {},
});

let dirs: Array<{ path: string; remove(): void }> = [];
logStoreConformance('LmdbLogStore', {
  async create() {
    const dir = tempDir('conformance');
    dirs.push(dir);
    return LmdbLogStore.open(dir.path);
  },
  async reopen(store: LogStore) {
    const path = (store as LmdbLogStore).path;
    await store.close();
    return LmdbLogStore.open(path, { verifyOnOpen: 'all' });
  },
  async cleanup() {
    for (const dir of dirs) dir.remove();
    dirs = [];
  },
});

// The same suite where "reopen" is a crash: the directory is copied while the store is open, with
// checkpoints off, so the reopened store rebuilds everything after its creation from the WAL
// alone (small segments, so the replay crosses segment files). A spare being zero-filled in the
// background (`.tmp`, removed at open anyway) is left out: it may be renamed during the copy.
let crashDirs: Array<{ path: string; remove(): void }> = [];
logStoreConformance('LmdbLogStore (reopened from the WAL after a crash)', {
  async create() {
    const dir = tempDir('conformance-wal');
    crashDirs.push(dir);
    return LmdbLogStore.open(dir.path, { walSegmentBytes: 16 * 1024, checkpointIntervalMs: Number.POSITIVE_INFINITY, checkpointBytes: Number.MAX_SAFE_INTEGER });
  },
  async reopen(store: LogStore) {
    const path = (store as LmdbLogStore).path;
    const copy = tempDir('conformance-wal');
    crashDirs.push(copy);
    cpSync(path, copy.path, { recursive: true, filter: (source) => !source.endsWith(LOCK_FILE) && !source.endsWith('.tmp') });
    await store.close();
    return LmdbLogStore.open(copy.path, { verifyOnOpen: 'all', walSegmentBytes: 16 * 1024, checkpointIntervalMs: Number.POSITIVE_INFINITY, checkpointBytes: Number.MAX_SAFE_INTEGER });
  },
  async cleanup() {
    for (const dir of crashDirs) dir.remove();
    crashDirs = [];
  },
});
