/**
 * Options of `LmdbLogStore.open` and their defaults.
 *
 * @module
 */
import type { WalIo } from './wal.js';

/** Default WAL bytes between checkpoints. */
export const checkpointBytesDefault = 4 * 1024 * 1024;
/** Default delay from a write to the checkpoint that takes it into LMDB, when no size threshold came first. */
export const checkpointIntervalMsDefault = 2000;
/** Default bound of the WAL bytes not in LMDB yet; writers wait for a checkpoint past it. */
export const tailBytesMaxDefault = 64 * 1024 * 1024;

export interface LmdbLogStoreOptions {
  /**
   * `'sync'` (default): a write resolves only when it is on disk. `'none'`: UNSAFE, never syncs;
   * a crash of the machine can lose acknowledged writes or damage the file. For benchmarks only.
   */
  durability?: 'sync' | 'none';
  /** Size limit of the environment, in bytes; writes past it fail with `StorageFullError`. */
  mapSizeMax?: number;
  /** Initial map size, in bytes (lmdb-js grows it by itself, up to `mapSizeMax`). */
  mapSizeInitial?: number;
  /**
   * What `open` checksums besides the small records: `'tail'` (default) the last
   * `verifyTailEntries` entries, `'all'` every entry. Every read is checksummed either way.
   */
  verifyOnOpen?: 'tail' | 'all';
  verifyTailEntries?: number;
  /** Size of a WAL segment file, in bytes (default 16 MiB). */
  walSegmentBytes?: number;
  /** WAL bytes after which a checkpoint into LMDB starts (default 4 MiB). */
  checkpointBytes?: number;
  /**
   * Delay from a write to its checkpoint when neither `checkpointBytes` nor a compaction started
   * one first (default 2,000 ms; Infinity: never by time). A compaction starts one at once.
   */
  checkpointIntervalMs?: number;
  /** WAL bytes not yet in LMDB past which writers wait for the checkpoint (default 64 MiB). */
  tailBytesMax?: number;
  /**
   * Compacted entries a background checkpoint removes from LMDB, at least (default 1,024; it
   * removes as many as it puts if that is more). Small values spread a compaction over many
   * checkpoints (the crash test uses them).
   */
  staleRemovalsMin?: number;
  /** @internal Test hook: the WAL's write function, to inject I/O failures. */
  walIo?: WalIo;
}
