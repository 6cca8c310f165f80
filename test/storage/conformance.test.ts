// Runs the LogStore conformance suite against both implementations.
import { LmdbLogStore, MemoryLogStore } from '../../src/storage/index.js';
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
