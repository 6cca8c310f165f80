/**
 * What `LmdbLogStore.open` reads and checks in LMDB before it replays the write-ahead log: the
 * state records, that the stored keys match the bounds, the checksums of the tail (or all) entries.
 *
 * @module
 */
import type { RootDatabase } from 'lmdb';
import { StorageCorruptionError } from './errors.js';
import type { LogState } from './log-plan.js';
import { emptyHardState } from './log-store.js';
import { decodeEntry, decodeHardState, decodeLogBounds, decodeSnapshotMeta, decodeWalCheckpoint } from './record.js';

export const KEY_HARD_STATE = 'hardState';
export const KEY_LOG_BOUNDS = 'logBounds';
export const KEY_SNAPSHOT_META = 'snapshotMeta';
/** Seq of the last WAL record LMDB holds (record kind 5). */
export const KEY_WAL_CHECKPOINT = 'walCheckpoint';

function wrap<T>(path: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    throw error instanceof StorageCorruptionError ? error.withPath(path) : error;
  }
}

export function readCheckpointSeq(root: RootDatabase<Buffer, string | number>, path: string): number {
  const bytes = root.getBinary(KEY_WAL_CHECKPOINT);
  return bytes === undefined ? 0 : wrap(path, () => decodeWalCheckpoint(bytes));
}

export function readState(root: RootDatabase<Buffer, string | number>, path: string): LogState {
  const hardStateBytes = root.getBinary(KEY_HARD_STATE);
  const boundsBytes = root.getBinary(KEY_LOG_BOUNDS);
  const metaBytes = root.getBinary(KEY_SNAPSHOT_META);
  const hardState = hardStateBytes === undefined ? emptyHardState() : wrap(path, () => decodeHardState(hardStateBytes));
  const bounds = boundsBytes === undefined ? { prevIndex: 0, prevTerm: 0, lastIndex: 0 } : wrap(path, () => decodeLogBounds(boundsBytes));
  const snapshotMeta = metaBytes === undefined ? null : wrap(path, () => decodeSnapshotMeta(metaBytes));
  return { bounds, hardState, snapshotMeta };
}

function numericKeyAt(root: RootDatabase<Buffer, string | number>, reverse: boolean, from = 0): number | null {
  for (const key of root.getKeys(reverse ? { start: Number.MAX_SAFE_INTEGER, reverse: true, limit: 1 } : { start: from, end: Number.MAX_SAFE_INTEGER, limit: 1 })) {
    return typeof key === 'number' ? key : null;
  }
  return null;
}

/**
 * Checks the stored entries against the bounds. Entries at or below `prevIndex` may still be
 * there (compacted, not yet removed: lmdb-checkpoint.ts removes them a budget at a time): they
 * are not part of the log and are not checked.
 */
export function verifyEntries(root: RootDatabase<Buffer, string | number>, path: string, state: LogState, mode: 'tail' | 'all', tailEntries: number): void {
  const { prevIndex, lastIndex } = state.bounds;
  const firstKey = numericKeyAt(root, false, prevIndex + 1);
  const lastKey = numericKeyAt(root, true);
  if (lastIndex === prevIndex) {
    if (firstKey !== null) throw new StorageCorruptionError('logBounds', null, `the log is empty by its bounds but holds entries from index ${firstKey}`, path);
    return;
  }
  if (firstKey !== prevIndex + 1) throw new StorageCorruptionError('entry', prevIndex + 1, `first stored index is ${firstKey}, expected ${prevIndex + 1}`, path);
  if (lastKey !== lastIndex) throw new StorageCorruptionError('entry', lastIndex, `last stored index is ${lastKey}, expected ${lastIndex}`, path);
  const lo = mode === 'all' ? prevIndex + 1 : Math.max(prevIndex + 1, lastIndex - tailEntries + 1);
  let expected = lo;
  for (const { key, value } of root.getRange({ start: lo, end: lastIndex + 1 })) {
    if (key !== expected) throw new StorageCorruptionError('entry', expected, `entry missing (next stored key is ${String(key)})`, path);
    try {
      decodeEntry(value, expected);
    } catch (error) {
      throw error instanceof StorageCorruptionError ? error.withPath(path) : error;
    }
    expected++;
  }
  if (expected !== lastIndex + 1) throw new StorageCorruptionError('entry', expected, 'entry missing', path);
}
