/**
 * What a checkpoint writes to LMDB, and how a WAL op is applied to a `LogPlan` (live and at replay).
 *
 * @module
 */
import type { RootDatabase } from 'lmdb';
import { assert } from '../core/errors.js';
import { KEY_HARD_STATE, KEY_LOG_BOUNDS, KEY_SNAPSHOT_META, KEY_WAL_CHECKPOINT } from './lmdb-verify.js';
import type { LogPlan } from './log-plan.js';
import { RECORD_HEADER_BYTES, encodeHardState, encodeLogBounds, encodeSnapshotMeta, encodeWalCheckpoint, entryRecordOf, readU64 } from './record.js';
import type { WalOp } from './wal-record.js';

/**
 * lmdb-js rejects every write of a failed batch with an error whose `commitError` promise rejects
 * later with the LMDB error; only the batch's own rejection is used (lmdb-errors.ts), so these
 * are silenced, `commitError` included, or they surface as unhandled rejections.
 */
const ignore = (error: unknown): void => {
  (error as { commitError?: Promise<unknown> } | null)?.commitError?.catch(() => undefined);
};

/** Per-entry B-tree cost besides the record: node header and key, in bytes (an estimate). */
const entryOverheadBytes = 24;

/** Stale entries (below the compaction point) a budgeted checkpoint removes, at least. */
export const staleRemovalsMin = 1024;

/**
 * Writes `plan` (from LMDB's state to the state after WAL record `seq`) to LMDB as one synced
 * transaction, with `seq` as the new `walCheckpoint`. Resolves with whether stale entries may be
 * left for a later checkpoint.
 *
 * Entries at or below the compaction point (`bounds.prevIndex`) are stale: no read reaches them
 * (reads start above it, and open verifies only above it). Removing them all at once, 10,000 per
 * snapshot, held the main thread for 20-90 ms in one checkpoint under load (each remove is a call
 * into lmdb-js). So they are found by a key scan and removed `staleRemovalsMax` at a time; a
 * truncated suffix is removed at once, since new entries take its keys.
 */
export async function commitCheckpoint(root: RootDatabase<Buffer, string | number>, plan: LogPlan, seq: number, staleRemovalsMax = Number.POSITIVE_INFINITY): Promise<boolean> {
  const puts = plan.finalPuts();
  const state = plan.state;
  const prevIndex = state.bounds.prevIndex;
  const suffixRemovals = plan.removals().filter(([lo]) => lo > prevIndex);
  // The previous checkpoint has committed (one at a time): the scan sees every stale entry.
  const stale = staleEntries(root, prevIndex, staleRemovalsMax);
  if (puts.length > 0) {
    // Every put is a view into its entry record (wal-record.ts, or recovery): check the ends.
    for (const e of [puts[0]!, puts[puts.length - 1]!]) {
      const record = entryRecordOf(e);
      assert(readU64(new DataView(record.buffer, record.byteOffset, RECORD_HEADER_BYTES), 8) === e.index, () => `checkpoint put ${e.index} is not a view into its record`);
    }
  }
  // One batch is one LMDB transaction on lmdb-js's write thread; its promise resolves after the
  // commit (and, with durability 'sync', the sync) has returned.
  // A put/remove inside a batch answers with a promise that may reject when the commit fails; the
  // batch's promise reports the failure, so theirs are only silenced (see `ignore`). lmdb-js 3.5
  // gives every write of a batch one shared promise: each distinct promise is silenced once, not
  // once per write (that was a promise and a microtask per entry, every checkpoint).
  let silenced: Promise<unknown> | undefined;
  const quiet = (write: Promise<unknown>): void => {
    if (write === silenced) return;
    silenced = write;
    write.catch(ignore);
  };
  await root.batch(() => {
    for (const [lo, hi] of suffixRemovals) for (let i = lo; i <= hi; i++) quiet(root.remove(i));
    for (let i = 0; i < stale.length; i++) quiet(root.remove(stale[i]!));
    for (let i = 0; i < puts.length; i++) quiet(root.put(puts[i]!.index, entryRecordOf(puts[i]!) as Buffer));
    if (plan.boundsChanged()) quiet(root.put(KEY_LOG_BOUNDS, encodeLogBounds(state.bounds) as Buffer));
    if (plan.hardStateChanged) quiet(root.put(KEY_HARD_STATE, encodeHardState(state.hardState) as Buffer));
    if (plan.snapshotMetaChanged && state.snapshotMeta !== null) quiet(root.put(KEY_SNAPSHOT_META, encodeSnapshotMeta(state.snapshotMeta) as Buffer));
    quiet(root.put(KEY_WAL_CHECKPOINT, encodeWalCheckpoint(seq) as Buffer));
  });
  return stale.length >= staleRemovalsMax;
}

/** Up to `max` keys of stored entries at or below `prevIndex`, lowest first. */
export function staleEntries(root: RootDatabase<Buffer, string | number>, prevIndex: number, max = Number.POSITIVE_INFINITY): number[] {
  const keys: number[] = [];
  if (prevIndex < 1 || max < 1) return keys;
  for (const key of root.getKeys({ start: 0, end: prevIndex + 1, ...(Number.isFinite(max) ? { limit: max } : {}) })) {
    if (typeof key === 'number') keys.push(key);
  }
  return keys;
}

/** Applies one WAL op to a plan: the same code for live writes and for replay at open. */
export function applyOp(plan: LogPlan, op: WalOp): void {
  switch (op.kind) {
    case 'save':
      plan.apply({ snapshotMeta: op.snapshotMeta, entries: op.entries, hardState: op.hardState });
      return;
    case 'truncateSuffix':
      plan.truncateSuffix(op.index);
      return;
    case 'compact':
      plan.compact(op.index);
      return;
  }
}

/** Upper bound of the bytes a write adds to LMDB (its entry records and their B-tree cost). */
export function opAddedBytes(op: WalOp): number {
  if (op.kind !== 'save') return 0;
  let bytes = 0;
  for (let i = 0; i < op.entries.length; i++) bytes += RECORD_HEADER_BYTES + (op.entries[i]!.data?.length ?? 0) + entryOverheadBytes;
  return bytes;
}
