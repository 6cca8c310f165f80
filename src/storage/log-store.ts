/**
 * The durable log the Raft core's `Ready` handling needs (DESIGN.md, "Storage").
 *
 * Reads are synchronous (both implementations serve them from memory or a memory map); writes
 * return a promise that resolves only when the write is durable. Reads see every write whose
 * promise has resolved; a write still in flight may or may not be visible yet.
 *
 * Index arithmetic, as in etcd-io/raft: the log holds entries `[firstIndex, lastIndex]`.
 * `prevIndex = firstIndex − 1` is the last compacted (or snapshotted) entry, whose term is still
 * known, so `term(firstIndex − 1)` always answers. An empty fresh log has `firstIndex = 1`,
 * `lastIndex = 0`, `term(0) = 0`.
 *
 * @example
 * ```ts
 * const store = await LmdbLogStore.open('/var/lib/raftwire/node1/log');
 * await store.save({ entries: ready.entries, hardState: ready.hardState }); // one durable write
 * const batch = store.entries(store.firstIndex(), store.lastIndex() + 1, 1 << 20);
 * ```
 *
 * @module
 */
import type { Entry, HardState, SnapshotMeta } from '../core/types.js';
import { NODE_ID_BYTES_MAX } from '../core/types.js';
import { StorageInvalidWriteError } from './errors.js';
import { appendEntriesMax, entryBytesMax } from './limits.js';

/**
 * Everything one `Ready` asks to persist, written as one durable unit in Ready order: the snapshot
 * metadata, then the entries (truncating the stored log from the first entry's index when it is
 * ≤ the last stored index), then the hard state.
 */
export interface LogUpdate {
  snapshotMeta?: SnapshotMeta | null;
  entries?: readonly Entry[];
  hardState?: HardState | null;
}

export interface LogStore {
  /** Index of the first entry in the log (`prevIndex + 1`); `lastIndex() + 1` when the log is empty. */
  firstIndex(): number;
  /** Index of the last entry; `firstIndex() − 1` when the log is empty. */
  lastIndex(): number;
  /**
   * Term of the entry at `index`, for `index` in `[firstIndex − 1, lastIndex]`.
   * Throws `LogCompactedError` below that range and `LogUnavailableError` above it;
   * `StorageCorruptionError` if the stored entry fails its checksum.
   */
  term(index: number): number;
  /**
   * Entries `[lo, hi)`, in order, stopping before the total payload exceeds `bytesMax` but always
   * returning at least one entry when `lo < hi`. Ownership: the returned entries are the caller's;
   * the store never changes them.
   */
  entries(lo: number, hi: number, bytesMax?: number): Entry[];
  /** The last persisted hard state; `{term: 0, vote: null, commit: 0}` on a fresh log. */
  hardState(): HardState;
  /** Metadata of the last snapshot saved with `setSnapshotMeta`/`save`, or null. */
  snapshotMeta(): SnapshotMeta | null;

  /**
   * Appends entries. The first entry's index may be ≤ `lastIndex()`: the stored suffix from that
   * index is replaced (a conflict, §5.3). It must not be above `lastIndex() + 1` (no gaps) nor at
   * or below the compaction point. Resolves when durable.
   */
  append(entries: readonly Entry[]): Promise<void>;
  /** Removes the entries at `index` and above. Resolves when durable. */
  truncateSuffix(index: number): Promise<void>;
  /** Removes the entries up to and including `index` (after a snapshot covers them). */
  compact(index: number): Promise<void>;
  /** Persists the hard state. Resolves when durable. */
  setHardState(hardState: HardState): Promise<void>;
  /**
   * Records a snapshot's metadata. If the log holds the snapshot's last entry with the same term,
   * the entries after it are kept and the prefix is compacted; otherwise the whole log is
   * discarded and the log restarts after the snapshot (Raft §7).
   */
  setSnapshotMeta(meta: SnapshotMeta): Promise<void>;
  /** One `Ready`'s writes as one atomic, durable unit (see {@link LogUpdate}). */
  save(update: LogUpdate): Promise<void>;
  /** Waits for writes in flight, then releases the store. Further calls throw `StorageClosedError`. */
  close(): Promise<void>;
}

/** The hard state of a fresh log. */
export function emptyHardState(): HardState {
  return { term: 0, vote: null, commit: 0 };
}

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Gateway check of a batch to append: safe-integer indices and terms, consecutive indices,
 * non-decreasing terms, known types, payload sizes within {@link entryBytesMax}. Throws
 * {@link StorageInvalidWriteError} naming the first bad entry.
 */
export function validateEntries(entries: readonly Entry[]): void {
  if (entries.length > appendEntriesMax) {
    throw new StorageInvalidWriteError(`append of ${entries.length} entries is more than appendEntriesMax ${appendEntriesMax}`);
  }
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (!isIndex(entry.index) || entry.index === 0) throw new StorageInvalidWriteError(`entry ${i}: index ${entry.index} is not a positive safe integer`);
    if (!isIndex(entry.term)) throw new StorageInvalidWriteError(`entry at index ${entry.index}: term ${entry.term} is not a safe integer ≥ 0`);
    if (entry.type !== 'normal' && entry.type !== 'confChange') throw new StorageInvalidWriteError(`entry at index ${entry.index}: unknown type ${String(entry.type)}`);
    if (!(entry.data instanceof Uint8Array)) throw new StorageInvalidWriteError(`entry at index ${entry.index}: data is not a Uint8Array`);
    if (entry.data.length > entryBytesMax) throw new StorageInvalidWriteError(`entry at index ${entry.index}: ${entry.data.length} bytes is more than entryBytesMax ${entryBytesMax}`);
    if (i > 0) {
      const prev = entries[i - 1]!;
      if (entry.index !== prev.index + 1) throw new StorageInvalidWriteError(`entries not consecutive: ${prev.index} then ${entry.index}`);
      if (entry.term < prev.term) throw new StorageInvalidWriteError(`terms decrease: index ${prev.index} has term ${prev.term}, index ${entry.index} has ${entry.term}`);
    }
  }
}

export function validateHardState(hardState: HardState): void {
  if (!isIndex(hardState.term) || !isIndex(hardState.commit)) {
    throw new StorageInvalidWriteError(`hard state term and commit must be safe integers ≥ 0, got ${hardState.term}/${hardState.commit}`);
  }
  if (hardState.vote !== null && (typeof hardState.vote !== 'string' || hardState.vote.length === 0 || Buffer.byteLength(hardState.vote) > NODE_ID_BYTES_MAX)) {
    throw new StorageInvalidWriteError(`hard state vote must be null or a node id of 1..${NODE_ID_BYTES_MAX} bytes`);
  }
}

export function validateSnapshotMeta(meta: SnapshotMeta): void {
  if (!isIndex(meta.lastIncludedIndex) || !isIndex(meta.lastIncludedTerm)) {
    throw new StorageInvalidWriteError(`snapshot lastIncludedIndex/Term must be safe integers ≥ 0`);
  }
  const ids = [...(meta.config?.voters ?? []), ...(meta.config?.learners ?? [])];
  if (!Array.isArray(meta.config?.voters) || !Array.isArray(meta.config?.learners) || ids.some((id) => typeof id !== 'string')) {
    throw new StorageInvalidWriteError('snapshot config must be {voters: string[], learners: string[]}');
  }
}
