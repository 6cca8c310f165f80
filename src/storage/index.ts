/**
 * The storage layer: the durable Raft log (`LogStore`, `MemoryLogStore`, `LmdbLogStore`) and the
 * snapshot store. See docs/storage.md.
 *
 * @module
 */
export type { LogStore, LogUpdate } from './log-store.js';
export { emptyHardState, validateEntries, validateHardState, validateSnapshotMeta } from './log-store.js';
export { MemoryLogStore, type MemoryLogImage } from './memory-log-store.js';
export { LmdbLogStore, type LmdbLogStoreOptions } from './lmdb-log-store.js';
export { SnapshotStore, SnapshotWriter, SnapshotReader, snapshotId, type SnapshotInfo, type SnapshotStoreOptions } from './snapshot-store.js';
export {
  CORRUPTION_ADVICE,
  LogCompactedError,
  LogUnavailableError,
  StorageClosedError,
  StorageCorruptionError,
  StorageFullError,
  StorageInvalidWriteError,
  StorageIoError,
  StorageLockedError,
  type StorageRecordKind,
} from './errors.js';
export * as storageLimits from './limits.js';
