/**
 * `LmdbLogStore`: the durable Raft log on LMDB (the `lmdb` package).
 *
 * - Entries are keyed by index (lmdb-js ordered-binary numbers, which keep numeric order up to
 *   2^53−1); the hard state, the log bounds and the snapshot metadata are records of the same
 *   environment, so one transaction covers a whole `Ready`. Every record carries a CRC32C
 *   (record.ts), verified on every read.
 * - Group commit: writes queue up while a transaction is committing; the next transaction takes
 *   the whole queue. Each write's promise resolves only after its transaction is durable.
 * - Durable by default: LMDB syncs on commit (`overlappingSync` off, so a resolved commit is a
 *   synced commit). `durability: 'none'` (UNSAFE: acknowledged writes can be lost or the file
 *   damaged on a machine crash) exists for benchmarks only.
 * - Size: lmdb-js grows the map by itself; this store stops growth at `mapSizeMax` and fails
 *   writes past it with `StorageFullError` before touching the file. See docs/storage.md.
 *
 * @example
 * ```ts
 * const store = await LmdbLogStore.open('/var/lib/raftwire/node1/log');
 * await store.save({ entries: ready.entries, hardState: ready.hardState }); // durable here
 * store.entries(1, store.lastIndex() + 1, 1 << 20);
 * await store.close();
 * ```
 *
 * @module
 */
import { open as openLmdb } from 'lmdb';
import type { RootDatabase } from 'lmdb';
import { assert } from '../core/errors.js';
import type { Entry, HardState, SnapshotMeta } from '../core/types.js';
import {
  LogCompactedError,
  LogUnavailableError,
  StorageClosedError,
  StorageCorruptionError,
  StorageFullError,
} from './errors.js';
import { mapSizeInitialDefaultBytes, mapSizeMaxDefaultBytes, verifyTailEntriesDefault } from './limits.js';
import type { LogState } from './log-plan.js';
import { LogPlan, cloneState } from './log-plan.js';
import type { LogStore, LogUpdate } from './log-store.js';
import { emptyHardState } from './log-store.js';
import { mapWriteError } from './lmdb-errors.js';
import {
  decodeEntry,
  decodeHardState,
  decodeLogBounds,
  decodeSnapshotMeta,
  encodeEntries,
  encodeHardState,
  encodeLogBounds,
  encodeSnapshotMeta,
  RECORD_HEADER_BYTES,
} from './record.js';

const KEY_HARD_STATE = 'hardState';
const KEY_LOG_BOUNDS = 'logBounds';
const KEY_SNAPSHOT_META = 'snapshotMeta';

/** Per-entry B-tree cost besides the record: node header and key, in bytes (an estimate). */
const entryOverheadBytes = 24;

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
}

interface WriteRequest {
  step: (plan: LogPlan) => void;
  /** Upper bound of the bytes the write adds (its entry records and their B-tree cost). */
  addedBytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class LmdbLogStore implements LogStore {
  readonly path: string;
  private readonly root: RootDatabase<Buffer, string | number>;
  private readonly mapSizeMax: number;
  /** What is durable; reads answer from here and from LMDB. */
  private state: LogState;
  private queue: WriteRequest[] = [];
  private writing: Promise<void> | null = null;
  private closed = false;
  /** Transactions committed (for tests and metrics: how well group commit groups). */
  commitCount = 0;

  private constructor(path: string, root: RootDatabase<Buffer, string | number>, state: LogState, mapSizeMax: number) {
    this.path = path;
    this.root = root;
    this.state = state;
    this.mapSizeMax = mapSizeMax;
  }

  /**
   * Opens (or creates) the log in directory `path` and verifies it: the hard state, the log bounds
   * and the snapshot metadata records, that the stored keys match the bounds, and the checksums of
   * the tail entries (or all, with `verifyOnOpen: 'all'`). The tail is where an interrupted write
   * would show; LMDB's copy-on-write B-tree never rewrites committed pages in place.
   * Throws `StorageCorruptionError` (saying what to do) rather than start on a damaged log.
   */
  static async open(path: string, options: LmdbLogStoreOptions = {}): Promise<LmdbLogStore> {
    const mapSizeMax = options.mapSizeMax ?? mapSizeMaxDefaultBytes;
    const mapSizeInitial = Math.min(options.mapSizeInitial ?? mapSizeInitialDefaultBytes, mapSizeMax);
    assert(Number.isSafeInteger(mapSizeMax) && mapSizeMax > 0, () => `mapSizeMax ${mapSizeMax} must be a positive integer`);
    const unsafe = options.durability === 'none';
    const root = openLmdb<Buffer, string | number>({
      path,
      // `path` is always a directory, even when its name has a dot (lmdb-js would guess a file).
      noSubdir: false,
      encoding: 'binary',
      mapSize: mapSizeInitial,
      noSync: unsafe,
      // Off: with overlappingSync a commit resolves before it is flushed; we want the commit
      // promise itself to mean "on disk" (see docs/storage.md for the measurements).
      overlappingSync: false,
    });
    try {
      const state = readState(root, path);
      verifyEntries(root, path, state, options.verifyOnOpen ?? 'tail', options.verifyTailEntries ?? verifyTailEntriesDefault);
      return new LmdbLogStore(path, root, state, mapSizeMax);
    } catch (error) {
      await root.close();
      throw error;
    }
  }

  firstIndex(): number {
    this.checkOpen();
    return this.state.bounds.prevIndex + 1;
  }

  lastIndex(): number {
    this.checkOpen();
    return this.state.bounds.lastIndex;
  }

  term(index: number): number {
    this.checkOpen();
    const b = this.state.bounds;
    if (index === b.prevIndex) return b.prevTerm;
    if (index < b.prevIndex) throw new LogCompactedError(index, b.prevIndex + 1);
    if (index > b.lastIndex) throw new LogUnavailableError(index, b.lastIndex);
    return this.readEntry(index).term;
  }

  entries(lo: number, hi: number, bytesMax = Number.POSITIVE_INFINITY): Entry[] {
    this.checkOpen();
    const b = this.state.bounds;
    if (lo <= b.prevIndex) throw new LogCompactedError(lo, b.prevIndex + 1);
    if (hi > b.lastIndex + 1) throw new LogUnavailableError(hi - 1, b.lastIndex);
    const out: Entry[] = [];
    if (lo >= hi) return out;
    let bytes = 0;
    let expected = lo;
    for (const { key, value } of this.root.getRange({ start: lo, end: hi })) {
      if (key !== expected) throw new StorageCorruptionError('entry', expected, `entry missing (next stored key is ${String(key)})`, this.path);
      const entry = decodeEntry(value, expected);
      bytes += entry.data.length;
      if (out.length > 0 && bytes > bytesMax) break;
      out.push(entry);
      expected++;
    }
    if (out.length === 0 || (expected < hi && bytes <= bytesMax)) {
      throw new StorageCorruptionError('entry', expected, 'entry missing', this.path);
    }
    return out;
  }

  hardState(): HardState {
    this.checkOpen();
    return { ...this.state.hardState };
  }

  snapshotMeta(): SnapshotMeta | null {
    this.checkOpen();
    return this.state.snapshotMeta;
  }

  append(entries: readonly Entry[]): Promise<void> {
    return this.enqueue((plan) => plan.apply({ entries }), entriesBytes(entries));
  }

  truncateSuffix(index: number): Promise<void> {
    return this.enqueue((plan) => plan.truncateSuffix(index));
  }

  compact(index: number): Promise<void> {
    return this.enqueue((plan) => plan.compact(index));
  }

  setHardState(hardState: HardState): Promise<void> {
    return this.enqueue((plan) => plan.apply({ hardState }));
  }

  setSnapshotMeta(meta: SnapshotMeta): Promise<void> {
    return this.enqueue((plan) => plan.apply({ snapshotMeta: meta }));
  }

  save(update: LogUpdate): Promise<void> {
    return this.enqueue((plan) => plan.apply(update), entriesBytes(update.entries ?? []));
  }

  /** Bytes the environment's B-tree uses now, by LMDB's page counts (what `mapSizeMax` bounds). */
  usedBytes(): number {
    const stats = this.root.getStats() as { pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number };
    return (stats.treeBranchPageCount + stats.treeLeafPageCount + stats.overflowPages) * stats.pageSize;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.writing !== null) await this.writing;
    await this.root.close();
  }

  private enqueue(step: (plan: LogPlan) => void, addedBytes = 0): Promise<void> {
    if (this.closed) return Promise.reject(new StorageClosedError(`LmdbLogStore ${this.path}`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ step, addedBytes, resolve, reject });
      if (this.writing === null) this.writing = this.drain();
    });
  }

  /** The group-commit loop: one transaction per turn, taking every write queued meanwhile. */
  private async drain(): Promise<void> {
    // Let the callers of this event-loop turn join the first group.
    await Promise.resolve();
    try {
      while (this.queue.length > 0) {
        const group = this.queue;
        this.queue = [];
        try {
          await this.commitGroup(group);
        } catch (error) {
          // Only a bug or a closed environment gets here; no write may be left hanging.
          // (Settling an already settled promise does nothing.)
          for (const request of group) request.reject(error);
        }
      }
    } finally {
      this.writing = null;
    }
  }

  private async commitGroup(group: WriteRequest[]): Promise<void> {
    const plan = new LogPlan(this.state, (index) => this.readEntry(index).term);
    const accepted: WriteRequest[] = [];
    const usedBytes = this.usedBytes();
    let addedBytes = 0;
    for (const request of group) {
      try {
        // Pages are at best half full after splits: count twice the bytes added. A write that
        // adds nothing (truncate, compact, hard state) always passes: it is how space is freed.
        const projectedBytes = usedBytes + 2 * (addedBytes + request.addedBytes);
        if (request.addedBytes > 0 && projectedBytes > this.mapSizeMax) {
          throw new StorageFullError(usedBytes + 2 * addedBytes, this.mapSizeMax, `appending ${request.addedBytes} more bytes after index ${plan.state.bounds.lastIndex} would pass mapSizeMax`);
        }
        request.step(plan);
        addedBytes += request.addedBytes;
        accepted.push(request);
      } catch (error) {
        // LogPlan checks a whole update before changing anything, so a refused write leaves
        // the plan as the writes before it left it.
        request.reject(error);
      }
    }
    if (accepted.length === 0) return;
    try {
      await this.commitPlan(plan);
    } catch (error) {
      const mapped = await mapWriteError(error, usedBytes, this.mapSizeMax);
      for (const request of accepted) request.reject(mapped);
      return;
    }
    this.state = cloneState(plan.state);
    this.commitCount++;
    for (const request of accepted) request.resolve();
  }

  private async commitPlan(plan: LogPlan): Promise<void> {
    const puts = plan.finalPuts();
    const records = encodeEntries(puts);
    const removals = plan.removals();
    const root = this.root;
    const state = plan.state;
    // One batch is one LMDB transaction, executed on lmdb-js's write thread; its promise resolves
    // after the commit (and, with durability 'sync', the fsync) has returned.
    await root.batch(() => {
      for (const [lo, hi] of removals) for (let i = lo; i <= hi; i++) void root.remove(i);
      for (let i = 0; i < puts.length; i++) void root.put(puts[i]!.index, records[i] as Buffer);
      if (plan.boundsChanged()) void root.put(KEY_LOG_BOUNDS, encodeLogBounds(state.bounds) as Buffer);
      if (plan.hardStateChanged) void root.put(KEY_HARD_STATE, encodeHardState(state.hardState) as Buffer);
      if (plan.snapshotMetaChanged && state.snapshotMeta !== null) void root.put(KEY_SNAPSHOT_META, encodeSnapshotMeta(state.snapshotMeta) as Buffer);
    });
  }

  private readEntry(index: number): Entry {
    const value = this.root.getBinary(index);
    if (value === undefined) throw new StorageCorruptionError('entry', index, 'entry missing', this.path);
    return decodeEntry(value, index);
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageClosedError(`LmdbLogStore ${this.path}`);
  }
}

function entriesBytes(entries: readonly Entry[]): number {
  let bytes = 0;
  for (let i = 0; i < entries.length; i++) bytes += RECORD_HEADER_BYTES + (entries[i]!.data?.length ?? 0) + entryOverheadBytes;
  return bytes;
}

function readState(root: RootDatabase<Buffer, string | number>, path: string): LogState {
  const wrap = <T>(decode: () => T): T => {
    try {
      return decode();
    } catch (error) {
      throw error instanceof StorageCorruptionError ? error.withPath(path) : error;
    }
  };
  const hardStateBytes = root.getBinary(KEY_HARD_STATE);
  const boundsBytes = root.getBinary(KEY_LOG_BOUNDS);
  const metaBytes = root.getBinary(KEY_SNAPSHOT_META);
  const hardState = hardStateBytes === undefined ? emptyHardState() : wrap(() => decodeHardState(hardStateBytes));
  const bounds = boundsBytes === undefined ? { prevIndex: 0, prevTerm: 0, lastIndex: 0 } : wrap(() => decodeLogBounds(boundsBytes));
  const snapshotMeta = metaBytes === undefined ? null : wrap(() => decodeSnapshotMeta(metaBytes));
  return { bounds, hardState, snapshotMeta };
}

function numericKeyAt(root: RootDatabase<Buffer, string | number>, reverse: boolean): number | null {
  for (const key of root.getKeys(reverse ? { start: Number.MAX_SAFE_INTEGER, reverse: true, limit: 1 } : { start: 0, end: Number.MAX_SAFE_INTEGER, limit: 1 })) {
    return typeof key === 'number' ? key : null;
  }
  return null;
}

function verifyEntries(root: RootDatabase<Buffer, string | number>, path: string, state: LogState, mode: 'tail' | 'all', tailEntries: number): void {
  const { prevIndex, lastIndex } = state.bounds;
  const firstKey = numericKeyAt(root, false);
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
