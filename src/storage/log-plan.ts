/**
 * The write planner both log stores share: it applies appends, truncations, compactions,
 * snapshot installs and hard-state changes to a working copy of the log's state, and yields what
 * a backend must write (the entries to put, the index ranges to remove, the records to replace).
 * Keeping the Raft rules here means the in-memory and the LMDB store cannot disagree on them.
 *
 * Invariant (what makes {@link LogPlan.removals} sound): every index in both the old and the new
 * range `(prevIndex, lastIndex]` that is not in `puts` still holds the old stored entry, because
 * an index can only re-enter the range through an append, which puts it.
 *
 * @module
 */
import { assert } from '../core/errors.js';
import type { Entry, HardState, SnapshotMeta } from '../core/types.js';
import { LogCompactedError, LogUnavailableError, StorageInvalidWriteError } from './errors.js';
import { EntryRun } from './entry-run.js';
import type { LogUpdate } from './log-store.js';
import { validateEntries, validateHardState, validateSnapshotMeta } from './log-store.js';
import type { LogBounds } from './record.js';

/** Everything the log persists besides the entries themselves. */
export interface LogState {
  bounds: LogBounds;
  hardState: HardState;
  snapshotMeta: SnapshotMeta | null;
}

export function cloneState(state: LogState): LogState {
  return { bounds: { ...state.bounds }, hardState: { ...state.hardState }, snapshotMeta: state.snapshotMeta };
}

export class LogPlan {
  readonly before: LogState;
  readonly state: LogState;
  /** Entries written by this plan; only those still in the log stay here. */
  private readonly puts = new EntryRun();
  hardStateChanged = false;
  snapshotMetaChanged = false;

  /** `storedTerm(index)` answers for stored indices in the old range `(prevIndex, lastIndex]`. */
  constructor(before: LogState, private readonly storedTerm: (index: number) => number) {
    this.before = cloneState(before);
    this.state = cloneState(before);
  }

  /** Term at `index` in the working log, for `index` in `[prevIndex, lastIndex]`. */
  termOf(index: number): number {
    const b = this.state.bounds;
    if (index === b.prevIndex) return b.prevTerm;
    if (index < b.prevIndex) throw new LogCompactedError(index, b.prevIndex + 1);
    if (index > b.lastIndex) throw new LogUnavailableError(index, b.lastIndex);
    const put = this.puts.get(index);
    return put !== undefined ? put.term : this.storedTerm(index);
  }

  /** Applies one Ready's worth of writes in Ready order; all-or-nothing for this plan. */
  apply(update: LogUpdate): void {
    const meta = update.snapshotMeta ?? null;
    const entries = update.entries ?? [];
    const hardState = update.hardState ?? null;
    // Check every part before changing anything, so a rejected update leaves the plan untouched.
    if (meta !== null) this.checkSnapshot(meta);
    validateEntries(entries);
    if (hardState !== null) validateHardState(hardState);
    if (entries.length > 0) {
      const bounds = meta !== null ? this.boundsAfterSnapshot(meta) : this.state.bounds;
      this.checkAppend(entries, bounds);
    }
    if (meta !== null) this.applySnapshot(meta);
    if (entries.length > 0) this.append(entries);
    if (hardState !== null) {
      this.state.hardState = { term: hardState.term, vote: hardState.vote, commit: hardState.commit };
      this.hardStateChanged = true;
    }
  }

  truncateSuffix(index: number): void {
    const b = this.state.bounds;
    if (!Number.isSafeInteger(index) || index < 1) throw new StorageInvalidWriteError(`truncate index ${index} is not a positive safe integer`);
    if (index <= b.prevIndex) throw new LogCompactedError(index, b.prevIndex + 1);
    if (index > b.lastIndex) return;
    this.puts.truncateFrom(index);
    b.lastIndex = index - 1;
  }

  compact(index: number): void {
    const b = this.state.bounds;
    if (!Number.isSafeInteger(index) || index < 0) throw new StorageInvalidWriteError(`compact index ${index} is not a safe integer ≥ 0`);
    if (index <= b.prevIndex) return;
    if (index > b.lastIndex) throw new LogUnavailableError(index, b.lastIndex);
    b.prevTerm = this.termOf(index);
    b.prevIndex = index;
    this.puts.dropThrough(index);
  }

  /** The entry this plan wrote at `index`, if it is still in the log. */
  put(index: number): Entry | undefined {
    return this.puts.get(index);
  }

  /**
   * Lowest index this plan wrote (Infinity when none). Invariant: the plan's puts are exactly
   * `[putsLo(), state.bounds.lastIndex]` when not empty (appends drop what they replace, truncation
   * drops a suffix, compaction a prefix).
   */
  putsLo(): number {
    return this.puts.lo;
  }

  putCount(): number {
    return this.puts.size;
  }

  /**
   * Takes on the effect of `group`, a plan made on top of this plan's state (`group.before` equals
   * `this.state`): afterwards this plan goes from its own `before` to `group.state`.
   */
  absorb(group: LogPlan): void {
    const b = group.state.bounds;
    // By the invariant of putsLo, this plan's puts are [putsLo, lastIndex]: drop the ends the
    // group replaced (from its own first put), truncated or compacted, then take its puts after.
    this.puts.truncateFrom(Math.min(b.lastIndex + 1, group.puts.lo));
    this.puts.dropThrough(b.prevIndex);
    this.puts.pushRun(group.puts);
    this.state.bounds = { ...b };
    if (this.puts.size > 0 && this.puts.hi !== b.lastIndex) assert(false, () => `absorbed puts end at ${this.puts.hi}, not at the last index ${b.lastIndex}`);
    this.state.hardState = { ...group.state.hardState };
    this.state.snapshotMeta = group.state.snapshotMeta;
    this.hardStateChanged ||= group.hardStateChanged;
    this.snapshotMetaChanged ||= group.snapshotMetaChanged;
  }

  /** Entries to write, in index order. */
  finalPuts(): Entry[] {
    return this.puts.toArray();
  }

  /** Inclusive index ranges `[lo, hi]` of stored entries that the plan removes. */
  removals(): Array<[number, number]> {
    const o = this.before.bounds;
    const n = this.state.bounds;
    const ranges: Array<[number, number]> = [];
    const headHi = Math.min(o.lastIndex, n.prevIndex);
    if (o.prevIndex + 1 <= headHi) ranges.push([o.prevIndex + 1, headHi]);
    const tailLo = Math.max(n.lastIndex + 1, o.prevIndex + 1, headHi + 1);
    if (tailLo <= o.lastIndex) ranges.push([tailLo, o.lastIndex]);
    return ranges;
  }

  boundsChanged(): boolean {
    const o = this.before.bounds;
    const n = this.state.bounds;
    return o.prevIndex !== n.prevIndex || o.prevTerm !== n.prevTerm || o.lastIndex !== n.lastIndex;
  }

  private checkSnapshot(meta: SnapshotMeta): void {
    validateSnapshotMeta(meta);
    const b = this.state.bounds;
    if (meta.lastIncludedIndex < b.prevIndex) {
      throw new StorageInvalidWriteError(`snapshot at index ${meta.lastIncludedIndex} is older than the log's compaction point ${b.prevIndex}`);
    }
  }

  private snapshotMatchesLog(meta: SnapshotMeta): boolean {
    const b = this.state.bounds;
    const i = meta.lastIncludedIndex;
    return i >= b.prevIndex && i <= b.lastIndex && this.termOf(i) === meta.lastIncludedTerm;
  }

  private boundsAfterSnapshot(meta: SnapshotMeta): LogBounds {
    const b = this.state.bounds;
    if (this.snapshotMatchesLog(meta)) return { prevIndex: meta.lastIncludedIndex, prevTerm: meta.lastIncludedTerm, lastIndex: b.lastIndex };
    return { prevIndex: meta.lastIncludedIndex, prevTerm: meta.lastIncludedTerm, lastIndex: meta.lastIncludedIndex };
  }

  private applySnapshot(meta: SnapshotMeta): void {
    const b = this.state.bounds;
    if (this.snapshotMatchesLog(meta)) {
      this.compact(meta.lastIncludedIndex);
    } else {
      // The log disagrees with the snapshot (or is shorter): discard all of it (§7).
      this.puts.clear();
      b.prevIndex = meta.lastIncludedIndex;
      b.prevTerm = meta.lastIncludedTerm;
      b.lastIndex = meta.lastIncludedIndex;
    }
    this.state.snapshotMeta = { lastIncludedIndex: meta.lastIncludedIndex, lastIncludedTerm: meta.lastIncludedTerm, config: { voters: [...meta.config.voters], learners: [...meta.config.learners] } };
    this.snapshotMetaChanged = true;
  }

  private checkAppend(entries: readonly Entry[], b: LogBounds): void {
    const first = entries[0]!.index;
    if (first > b.lastIndex + 1) {
      throw new StorageInvalidWriteError(`append at index ${first} would leave a gap after the last index ${b.lastIndex}`);
    }
  }

  private append(entries: readonly Entry[]): void {
    const b = this.state.bounds;
    const last = entries[entries.length - 1]!.index;
    if (last <= b.prevIndex) return;
    // As etcd's MemoryStorage: entries at or below the compaction point are committed and already
    // folded into the snapshot, so they are skipped rather than rejected.
    const skip = Math.max(0, b.prevIndex + 1 - entries[0]!.index);
    const first = entries[skip]!.index;
    if (first <= b.lastIndex) this.puts.truncateFrom(first);
    for (let i = skip; i < entries.length; i++) this.puts.push(entries[i]!);
    b.lastIndex = last;
  }
}
