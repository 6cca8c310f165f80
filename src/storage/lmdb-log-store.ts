/**
 * `LmdbLogStore`: the durable Raft log: a write-ahead log (wal.ts) for durability, LMDB (the `lmdb`
 * package) as its checkpoint and for reads.
 *
 * - Every write (`append`, `truncateSuffix`, `compact`, `setHardState`, `setSnapshotMeta`, `save`)
 *   becomes one checksummed WAL record (wal-record.ts). Group commit: writes queue up while a WAL
 *   write is in flight; the next group is one `write` on an `O_DSYNC` descriptor (one libuv
 *   threadpool hop). A write's promise resolves only after its record is durable.
 * - The same updates are applied to LMDB later, off the acknowledgement path, in large synced
 *   transactions (a checkpoint: after `checkpointBytes` of WAL, as soon as a compaction is
 *   durable, `checkpointIntervalMs` after a write, at close, or when the size limit needs it).
 *   Each checkpoint also stores the seq of the last WAL record it holds; WAL segments are
 *   recycled only once LMDB durably holds all of them. Entries compacted before their checkpoint
 *   never reach LMDB: under load most entries are folded into a snapshot within a couple of
 *   seconds, so checkpointing right after each compaction, and otherwise rarely, keeps most of
 *   them out of LMDB (each a put, and later a remove, on the main thread).
 * - Reads stay synchronous: entries written since the last checkpoint are served from memory (the
 *   `LogPlan`s that are not in LMDB yet), the rest from LMDB. Every LMDB record is checksummed.
 * - Open: LMDB's state, verified, then the WAL records after its checkpoint seq, replayed and
 *   checkpointed. A torn last record is dropped (never acknowledged); damage in the middle of the
 *   WAL is a `StorageCorruptionError` naming the file and offset.
 * - One process per directory (`raftwire.lock`, dir-lock.ts): `StorageLockedError` otherwise.
 * - `durability: 'none'` (UNSAFE: acknowledged writes can be lost on a machine crash) skips every
 *   sync; for benchmarks only.
 * - Size: writes that would take LMDB past `mapSizeMax` fail with `StorageFullError` before
 *   anything is written. See docs/storage.md.
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
import { assert, isRaftwireError } from '../core/errors.js';
import type { Entry, HardState, SnapshotMeta } from '../core/types.js';
import { DirectoryLock } from './dir-lock.js';
import { LogCompactedError, LogUnavailableError, StorageClosedError, StorageCorruptionError, StorageFullError } from './errors.js';
import { mapSizeInitialDefaultBytes, mapSizeMaxDefaultBytes, verifyTailEntriesDefault } from './limits.js';
import { mapWriteError } from './lmdb-errors.js';
import { applyOp, commitCheckpoint, opAddedBytes, staleEntries, staleRemovalsMin } from './lmdb-checkpoint.js';
import type { LmdbLogStoreOptions } from './lmdb-options.js';
import { checkpointBytesDefault, checkpointIntervalMsDefault, tailBytesMaxDefault } from './lmdb-options.js';
import { readCheckpointSeq, readState, verifyEntries } from './lmdb-verify.js';
import { LogPlan } from './log-plan.js';
import type { LogStore, LogUpdate } from './log-store.js';
import { decodeEntry } from './record.js';
import { WriteAheadLog, walSegmentBytesDefault } from './wal.js';
import { encodeGroup, prepareGroup, type WriteRequest } from './wal-group.js';
import type { WalOp } from './wal-record.js';

export class LmdbLogStore implements LogStore {
  readonly path: string;
  private readonly root: RootDatabase<Buffer, string | number>;
  private readonly wal: WriteAheadLog;
  private readonly lock: DirectoryLock;
  private readonly options: Required<Pick<LmdbLogStoreOptions, 'checkpointBytes' | 'checkpointIntervalMs' | 'tailBytesMax' | 'staleRemovalsMin'>> & { mapSizeMax: number };
  /**
   * Durable writes not yet in LMDB (or being checkpointed): `active.state` is the durable state.
   * Invariant: `active.before` is the state LMDB will hold once `checkpointing` (if any) commits.
   */
  private active: LogPlan;
  private activeSeq: number;
  private activeBytes = 0;
  private activeAddedBytes = 0;
  private checkpointing: { plan: LogPlan; seq: number; bytes: number; addedBytes: number; done: Promise<void> } | null = null;
  /** Seq of the last WAL record LMDB durably holds. */
  private lmdbSeq: number;
  private lmdbUsedBytes: number;
  private checkpointTimer: NodeJS.Timeout | null = null;
  /** A compaction became durable since the last checkpoint started: the next one starts at once. */
  private compactedSinceCheckpoint = false;
  /** LMDB may still hold entries below the compaction point (lmdb-checkpoint.ts removes them in budgets). */
  private staleLeft = false;
  /** Set when the WAL or a checkpoint failed: writes are refused with it, reads keep working. */
  private failure: Error | null = null;
  private queue: WriteRequest[] = [];
  private writing: Promise<void> | null = null;
  private closed = false;
  /** WAL group writes (for tests and metrics: how well group commit groups). */
  commitCount = 0;
  /** Checkpoints committed to LMDB. */
  checkpointCount = 0;
  /** WAL records replayed at open (writes that were durable but not yet in LMDB when the last process ended). */
  readonly recoveredRecords: number;

  private constructor(path: string, root: RootDatabase<Buffer, string | number>, wal: WriteAheadLog, lock: DirectoryLock, options: LmdbLogStore['options'], lmdbSeq: number, recovered: number) {
    this.path = path;
    this.root = root;
    this.wal = wal;
    this.lock = lock;
    this.options = options;
    this.lmdbSeq = lmdbSeq;
    this.activeSeq = lmdbSeq;
    this.recoveredRecords = recovered;
    this.active = new LogPlan(readState(root, path), this.storedTerm);
    this.lmdbUsedBytes = this.usedBytes();
    // Left by a checkpoint that removed stale entries a budget at a time before a crash.
    this.staleLeft = staleEntries(root, this.active.state.bounds.prevIndex, 1).length > 0;
  }

  /**
   * Opens (or creates) the log in directory `path`: takes the directory lock, verifies LMDB (the
   * state records, that the stored keys match the bounds, the checksums of the tail entries or all
   * of them with `verifyOnOpen: 'all'`), then replays the WAL records LMDB does not hold yet and
   * checkpoints them. Throws `StorageCorruptionError` (saying what to do) rather than start on a
   * damaged log, `StorageLockedError` if another live process has the directory open.
   */
  static async open(path: string, options: LmdbLogStoreOptions = {}): Promise<LmdbLogStore> {
    const mapSizeMax = options.mapSizeMax ?? mapSizeMaxDefaultBytes;
    const mapSizeInitial = Math.min(options.mapSizeInitial ?? mapSizeInitialDefaultBytes, mapSizeMax);
    assert(Number.isSafeInteger(mapSizeMax) && mapSizeMax > 0, () => `mapSizeMax ${mapSizeMax} must be a positive integer`);
    const unsafe = options.durability === 'none';
    const lock = DirectoryLock.acquire(path);
    let root: RootDatabase<Buffer, string | number> | null = null;
    let wal: WriteAheadLog | null = null;
    try {
      root = openLmdb<Buffer, string | number>({
        path,
        // `path` is always a directory, even when its name has a dot (lmdb-js would guess a file).
        noSubdir: false,
        encoding: 'binary',
        mapSize: mapSizeInitial,
        noSync: unsafe,
        // Off: a checkpoint's promise must mean "on disk" before WAL segments are recycled.
        overlappingSync: false,
        // Off: checkpoints batch explicitly. lmdb-js's per-event-turn batch keeps a commit promise
        // nobody holds; when that commit fails (a full disk) its rejection is unhandled and would
        // bring the process down (seen on a full tmpfs).
        eventTurnBatching: false,
      });
      const state = readState(root, path);
      verifyEntries(root, path, state, options.verifyOnOpen ?? 'tail', options.verifyTailEntries ?? verifyTailEntriesDefault);
      const lmdbSeq = readCheckpointSeq(root, path);
      const recovered = WriteAheadLog.recover(path, lmdbSeq, { segmentBytes: options.walSegmentBytes ?? walSegmentBytesDefault, sync: !unsafe, ...(options.walIo ? { io: options.walIo } : {}) });
      wal = recovered.wal;
      const store = new LmdbLogStore(
        path,
        root,
        wal,
        lock,
        {
          mapSizeMax,
          checkpointBytes: options.checkpointBytes ?? checkpointBytesDefault,
          checkpointIntervalMs: options.checkpointIntervalMs ?? checkpointIntervalMsDefault,
          tailBytesMax: options.tailBytesMax ?? tailBytesMaxDefault,
          staleRemovalsMin: options.staleRemovalsMin ?? staleRemovalsMin,
        },
        lmdbSeq,
        recovered.records.length,
      );
      for (const record of recovered.records) {
        try {
          applyOp(store.active, record.op);
        } catch (error) {
          if (!isRaftwireError(error) || error instanceof StorageCorruptionError) throw error;
          throw new StorageCorruptionError('wal', null, `record seq ${record.seq} does not apply to the log: ${error.message}`, record.file, record.offset);
        }
        store.activeSeq = record.seq;
        store.activeAddedBytes += opAddedBytes(record.op);
      }
      await store.checkpointAll();
      wal.release(store.lmdbSeq);
      return store;
    } catch (error) {
      await wal?.close();
      await root?.close();
      lock.release();
      throw error;
    }
  }

  firstIndex(): number {
    this.checkOpen();
    return this.active.state.bounds.prevIndex + 1;
  }

  lastIndex(): number {
    this.checkOpen();
    return this.active.state.bounds.lastIndex;
  }

  term(index: number): number {
    this.checkOpen();
    const b = this.active.state.bounds;
    if (index === b.prevIndex) return b.prevTerm;
    if (index < b.prevIndex) throw new LogCompactedError(index, b.prevIndex + 1);
    if (index > b.lastIndex) throw new LogUnavailableError(index, b.lastIndex);
    return this.readEntry(index).term;
  }

  entries(lo: number, hi: number, bytesMax = Number.POSITIVE_INFINITY): Entry[] {
    this.checkOpen();
    const b = this.active.state.bounds;
    if (lo <= b.prevIndex) throw new LogCompactedError(lo, b.prevIndex + 1);
    if (hi > b.lastIndex + 1) throw new LogUnavailableError(hi - 1, b.lastIndex);
    const out: Entry[] = [];
    if (lo >= hi) return out;
    let bytes = 0;
    let expected = lo;
    // Below the lowest index held in memory, every entry is LMDB's: one range read.
    const memoryLo = Math.min(this.active.putsLo(), this.checkpointing?.plan.putsLo() ?? Number.POSITIVE_INFINITY);
    const lmdbHi = Math.min(hi, memoryLo);
    if (lo < lmdbHi) {
      for (const { key, value } of this.root.getRange({ start: lo, end: lmdbHi })) {
        if (key !== expected) throw new StorageCorruptionError('entry', expected, `entry missing (next stored key is ${String(key)})`, this.path);
        const entry = decodeEntry(value, expected);
        bytes += entry.data.length;
        if (out.length > 0 && bytes > bytesMax) return out;
        out.push(entry);
        expected++;
      }
      if (expected < lmdbHi) throw new StorageCorruptionError('entry', expected, 'entry missing', this.path);
    }
    for (; expected < hi; expected++) {
      const entry = this.readEntry(expected);
      bytes += entry.data.length;
      if (out.length > 0 && bytes > bytesMax) break;
      // Entries from memory are views into the WAL buffers: the caller gets its own copy.
      out.push({ index: entry.index, term: entry.term, type: entry.type, data: entry.data.slice() });
    }
    return out;
  }

  hardState(): HardState {
    this.checkOpen();
    return { ...this.active.state.hardState };
  }

  snapshotMeta(): SnapshotMeta | null {
    this.checkOpen();
    return this.active.state.snapshotMeta;
  }

  append(entries: readonly Entry[]): Promise<void> {
    return this.enqueue({ kind: 'save', snapshotMeta: null, entries, hardState: null });
  }

  truncateSuffix(index: number): Promise<void> {
    return this.enqueue({ kind: 'truncateSuffix', index });
  }

  compact(index: number): Promise<void> {
    return this.enqueue({ kind: 'compact', index });
  }

  setHardState(hardState: HardState): Promise<void> {
    return this.enqueue({ kind: 'save', snapshotMeta: null, entries: [], hardState });
  }

  setSnapshotMeta(meta: SnapshotMeta): Promise<void> {
    return this.enqueue({ kind: 'save', snapshotMeta: meta, entries: [], hardState: null });
  }

  save(update: LogUpdate): Promise<void> {
    return this.enqueue({ kind: 'save', snapshotMeta: update.snapshotMeta ?? null, entries: update.entries ?? [], hardState: update.hardState ?? null });
  }

  /** Bytes the environment's B-tree uses now, by LMDB's page counts (what `mapSizeMax` bounds). */
  usedBytes(): number {
    const stats = this.root.getStats() as { pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number };
    return (stats.treeBranchPageCount + stats.treeLeafPageCount + stats.overflowPages) * stats.pageSize;
  }

  /** WAL segment files in use, oldest first (for tests: segments go once LMDB holds them). */
  walSegments(): string[] {
    return this.wal.segmentNames();
  }

  /** Seq of the last WAL record LMDB durably holds. */
  checkpointSeq(): number {
    return this.lmdbSeq;
  }

  /**
   * Applies every durable write to LMDB now (normally this happens in the background) and recycles
   * the WAL segments it covers. Resolves when LMDB holds them durably.
   */
  async checkpoint(): Promise<void> {
    this.checkOpen();
    await this.checkpointAll();
  }

  /** Waits for writes in flight, checkpoints, then releases the store and its lock. Further calls throw `StorageClosedError`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.writing !== null) await this.writing;
    if (this.checkpointTimer !== null) clearTimeout(this.checkpointTimer);
    try {
      if (this.failure === null) await this.checkpointAll();
    } catch {
      // The WAL still holds everything acknowledged; the next open replays it.
    } finally {
      await this.wal.close();
      await this.root.close();
      this.lock.release();
    }
  }

  private readonly storedTerm = (index: number): number => this.readEntry(index).term;

  private enqueue(op: WalOp): Promise<void> {
    if (this.closed) return Promise.reject(new StorageClosedError(`LmdbLogStore ${this.path}`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ op, addedBytes: opAddedBytes(op), resolve, reject });
      if (this.writing === null) this.writing = this.drain();
    });
  }

  /** The group-commit loop: one WAL write per turn, taking every write queued meanwhile. */
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
          // Only a bug gets here; no write may be left hanging. (Settling twice does nothing.)
          for (const request of group) request.reject(error);
        }
      }
    } finally {
      this.writing = null;
    }
  }

  private async commitGroup(group: WriteRequest[]): Promise<void> {
    await this.makeRoom(group);
    if (this.failure !== null) {
      for (const request of group) request.reject(this.failure);
      return;
    }
    const prepared = prepareGroup(group, (request, addedBefore) => {
      // Pages are at best half full after splits: count twice the bytes added. A write that
      // adds nothing (truncate, compact, hard state) always passes: it is how space is freed.
      const pending = this.pendingAddedBytes() + addedBefore;
      if (request.addedBytes > 0 && this.projectedBytes(pending + request.addedBytes) > this.options.mapSizeMax) {
        throw new StorageFullError(this.projectedBytes(pending), this.options.mapSizeMax, `appending ${request.addedBytes} more bytes after index ${this.active.state.bounds.lastIndex} would pass mapSizeMax`);
      }
    });
    if (prepared.length === 0) return;
    const encoded = encodeGroup(prepared, this.active.state, this.storedTerm, this.wal.nextSeq);
    if (encoded === null) return;
    try {
      await this.wal.append(encoded.bytes, encoded.length, encoded.firstSeq, encoded.lastSeq);
    } catch (error) {
      this.failure = error as Error;
      for (const request of encoded.accepted) request.reject(error);
      return;
    }
    if (encoded.plan.state.bounds.prevIndex > encoded.plan.before.bounds.prevIndex) this.compactedSinceCheckpoint = true;
    this.active.absorb(encoded.plan);
    this.activeSeq = encoded.lastSeq;
    this.activeBytes += encoded.length;
    this.activeAddedBytes += encoded.addedBytes;
    this.commitCount++;
    for (const request of encoded.accepted) request.resolve();
    this.maybeCheckpoint();
  }

  /**
   * Before a group: waits for a checkpoint when the memory tail is at its bound, and checkpoints
   * everything when the size limit would refuse a write on an estimate that pending compactions
   * or truncations may lower.
   */
  private async makeRoom(group: WriteRequest[]): Promise<void> {
    try {
      // A failed checkpoint stays in `checkpointing` (its plan still serves reads): stop on failure.
      while (this.failure === null && this.checkpointing !== null && this.activeBytes + this.checkpointing.bytes > this.options.tailBytesMax) await this.checkpointing.done;
      if (this.failure === null && this.checkpointing === null && this.activeBytes > this.options.tailBytesMax) await this.checkpointAll();
      let added = 0;
      for (const request of group) added += request.addedBytes;
      if (added > 0 && this.projectedBytes(this.pendingAddedBytes() + added) > this.options.mapSizeMax && (this.activeSeq > this.lmdbSeq || this.staleLeft)) {
        await this.checkpointAll();
      }
    } catch {
      // The failure is recorded; the group is refused with it.
    }
  }

  private pendingAddedBytes(): number {
    return this.activeAddedBytes + (this.checkpointing?.addedBytes ?? 0);
  }

  private projectedBytes(addedBytes: number): number {
    return this.lmdbUsedBytes + 2 * addedBytes;
  }

  private maybeCheckpoint(): void {
    if (this.closed || this.checkpointing !== null || (this.activeSeq === this.lmdbSeq && !this.staleLeft)) return;
    if (this.activeBytes >= this.options.checkpointBytes || this.compactedSinceCheckpoint) {
      this.startCheckpoint();
      return;
    }
    if (this.checkpointTimer === null && Number.isFinite(this.options.checkpointIntervalMs)) {
      this.checkpointTimer = setTimeout(() => {
        this.checkpointTimer = null;
        if (!this.closed && this.checkpointing === null && this.failure === null) this.startCheckpoint();
      }, this.options.checkpointIntervalMs);
      this.checkpointTimer.unref();
    }
  }

  /** Applies everything durable so far to LMDB; resolves when LMDB holds it durably. */
  private async checkpointAll(): Promise<void> {
    while (this.checkpointing !== null) {
      await this.checkpointing.done;
      if (this.failure !== null) throw this.failure;
    }
    if (this.failure !== null) throw this.failure;
    if (this.activeSeq > this.lmdbSeq || this.staleLeft) {
      this.startCheckpoint(Number.POSITIVE_INFINITY);
      await this.checkpointing!.done;
      if (this.failure !== null) throw this.failure;
    }
  }

  /**
   * Moves the active plan to LMDB in one synced transaction, in the background. Stale entries
   * go `staleRemovalsMax` at a time: by default as many as the plan puts (at least
   * `options.staleRemovalsMin`), so removal keeps pace with appends without one long checkpoint.
   */
  private startCheckpoint(staleRemovalsMax?: number): void {
    if ((this.activeSeq === this.lmdbSeq && !this.staleLeft) || this.checkpointing !== null) return;
    if (this.checkpointTimer !== null) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = null;
    const plan = this.active;
    this.compactedSinceCheckpoint = false;
    const seq = this.activeSeq;
    const checkpoint = { plan, seq, bytes: this.activeBytes, addedBytes: this.activeAddedBytes, done: Promise.resolve() };
    this.active = new LogPlan(plan.state, this.storedTerm);
    this.activeBytes = 0;
    this.activeAddedBytes = 0;
    this.checkpointing = checkpoint;
    checkpoint.done = commitCheckpoint(this.root, plan, seq, staleRemovalsMax ?? Math.max(this.options.staleRemovalsMin, plan.putCount())).then(
      (staleLeft) => {
        this.staleLeft = staleLeft;
        this.lmdbSeq = seq;
        this.checkpointing = null;
        this.checkpointCount++;
        this.lmdbUsedBytes = this.usedBytes();
        try {
          this.wal.release(seq);
        } catch {
          // A segment not recycled now is recycled at the next checkpoint or open.
        }
        this.maybeCheckpoint();
      },
      async (error: unknown) => {
        // LMDB aborted the transaction: it holds what it held. The overlay keeps serving reads
        // (`checkpointing` stays), the WAL keeps every acknowledged write for the next open, and
        // writes are refused from now on.
        this.failure = (await mapWriteError(error, this.lmdbUsedBytes, this.options.mapSizeMax, this.path)) as Error;
      },
    );
  }

  /** The entry at `index` of the durable log: from memory if not checkpointed yet, else LMDB. */
  private readEntry(index: number): Entry {
    const held = this.active.put(index) ?? this.checkpointing?.plan.put(index);
    if (held !== undefined) return held;
    const value = this.root.getBinary(index);
    if (value === undefined) throw new StorageCorruptionError('entry', index, 'entry missing', this.path);
    return decodeEntry(value, index);
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageClosedError(`LmdbLogStore ${this.path}`);
  }
}

export type { LmdbLogStoreOptions } from './lmdb-options.js';
