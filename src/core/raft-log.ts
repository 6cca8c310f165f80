/**
 * The in-memory log of one node: the entries after the last snapshot, plus the cursors that say
 * which of them are durable, committed and applied.
 *
 * ```
 *   snapshotIndex   applied      commitIndex        unstableFrom        lastIndex
 *        |            |              |                    |                 |
 *   [snap] e e e e e e e e e e e e e e e e e e e e e e e e e e e e e e e e e
 *          ^ firstIndex                                   ^ not yet handed to the caller to persist
 * ```
 *
 * Invariant: snapshotIndex ≤ applied ≤ commitIndex ≤ lastIndex.
 * Invariant: snapshotIndex < unstableFrom ≤ lastIndex + 1.
 * Invariant: entries[k].index === snapshotIndex + 1 + k, and terms never decrease along the log.
 *
 * @module
 */
import { assert } from './errors.js';
import type { Entry } from './types.js';

/** What an entry costs in a message beyond its payload (index, term, type, length), for batching. */
export const ENTRY_HEADER_BYTES = 24;

export class RaftLog {
  /** Index and term of the last entry folded into the snapshot (0, 0 when none). */
  snapshotIndex: number;
  snapshotTerm: number;
  /** entries[k] has index snapshotIndex + 1 + k. */
  private entries: Entry[];
  commitIndex: number;
  /** Highest index the caller acknowledged applying (advance()). */
  applied: number;
  /** Highest index handed to the caller to apply (in a Ready not yet acknowledged, or acknowledged). */
  applying: number;
  /** First index the caller has not yet been given to persist. */
  unstableFrom: number;
  /** Highest index the caller acknowledged as durable, in this log (a leader counts itself from it). */
  persistedIndex: number;
  /** Indices of confChange entries in `entries`, ascending. */
  readonly confIndexes: number[] = [];

  constructor(snapshotIndex: number, snapshotTerm: number, entries: Entry[], commitIndex: number) {
    this.snapshotIndex = snapshotIndex;
    this.snapshotTerm = snapshotTerm;
    this.entries = entries.slice();
    for (let k = 0; k < this.entries.length; k++) {
      const entry = this.entries[k];
      assert(entry.index === snapshotIndex + 1 + k, () => `log not contiguous: entry ${k} has index ${entry.index}, expected ${snapshotIndex + 1 + k}`);
      const previousTerm = k === 0 ? snapshotTerm : this.entries[k - 1].term;
      assert(entry.term >= previousTerm, () => `log terms decrease at index ${entry.index}: ${entry.term} < ${previousTerm}`);
      if (entry.type === 'confChange') this.confIndexes.push(entry.index);
    }
    this.commitIndex = commitIndex;
    this.applied = snapshotIndex;
    this.applying = snapshotIndex;
    this.unstableFrom = this.lastIndex() + 1;
    this.persistedIndex = this.lastIndex();
    this.checkInvariants();
  }

  /** At restore: the caller's state machine already holds entries up to `index` (≤ commit). */
  restoreApplied(index: number): void {
    assert(index >= this.snapshotIndex && index <= this.commitIndex, () => `restoreApplied(${index}) outside [snapshot, commit]: ${this.describe()}`);
    this.applied = index;
    this.applying = index;
    this.checkInvariants();
  }

  checkInvariants(): void {
    if (!(this.snapshotIndex <= this.applied && this.applied <= this.applying && this.applying <= this.commitIndex && this.commitIndex <= this.lastIndex())) assert(false, () => `log invariant snapshotIndex ≤ applied ≤ applying ≤ commitIndex ≤ lastIndex broken: ${this.describe()}`);
    if (!(this.snapshotIndex < this.unstableFrom && this.unstableFrom <= this.lastIndex() + 1)) assert(false, () => `log invariant snapshotIndex < unstableFrom ≤ lastIndex + 1 broken: ${this.describe()}`);
  }

  describe(): string {
    return `snapshot=${this.snapshotIndex}@${this.snapshotTerm} applied=${this.applied} applying=${this.applying} commit=${this.commitIndex} unstableFrom=${this.unstableFrom} last=${this.lastIndex()}@${this.lastTerm()}`;
  }

  firstIndex(): number {
    return this.snapshotIndex + 1;
  }

  lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.entries.length === 0 ? this.snapshotTerm : this.entries[this.entries.length - 1].term;
  }

  /** Term of the entry at `index`, or undefined when it is compacted away or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    if (index < this.snapshotIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapshotIndex - 1].term;
  }

  entry(index: number): Entry {
    assert(index > this.snapshotIndex && index <= this.lastIndex(), () => `entry(${index}) outside the log: ${this.describe()}`);
    return this.entries[index - this.snapshotIndex - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Entries in [lo, hi), at most `maxBytes` counting each entry as its payload plus
   * {@link ENTRY_HEADER_BYTES} (so empty entries are bounded too), but always at least one entry.
   */
  slice(lo: number, hi: number, maxBytes = Number.POSITIVE_INFINITY): Entry[] {
    if (!(lo > this.snapshotIndex && hi <= this.lastIndex() + 1 && lo <= hi)) {
      assert(false, () => `slice [${lo}, ${hi}) outside the log: ${this.describe()}`);
    }
    const start = lo - this.snapshotIndex - 1;
    let end = hi - this.snapshotIndex - 1;
    if (maxBytes !== Number.POSITIVE_INFINITY) {
      let bytes = 0;
      for (let k = start; k < end; k++) {
        bytes += this.entries[k].data.length + ENTRY_HEADER_BYTES;
        if (bytes > maxBytes && k > start) {
          end = k;
          break;
        }
      }
    }
    return this.entries.slice(start, end);
  }

  /**
   * The index of the first entry in `entries` that is not in our log or conflicts with it (same
   * index, different term), or 0 when all of them are already here.
   */
  findConflict(entries: readonly Entry[]): number {
    for (let k = 0; k < entries.length; k++) {
      const entry = entries[k];
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * The first index in our log of the term of the entry at `index` (a rejection hint, thesis §5.3),
   * never below firstIndex. Terms never decrease along the log, so this is a binary search.
   */
  firstIndexOfTermAt(index: number): number {
    const term = this.term(index);
    assert(term !== undefined, () => `firstIndexOfTermAt(${index}) outside the log`);
    // Smallest k in [firstIndex, index] with term(k) === term.
    let lo = this.snapshotIndex + 1;
    let hi = index;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (this.entries[mid - this.snapshotIndex - 1].term < term) lo = mid + 1;
      else hi = mid;
    }
    return Math.min(lo, index);
  }

  /**
   * The last index ≤ `atMost` whose entry has term ≤ `term` (the leader's side of fast backup), or
   * snapshotIndex when there is none in the log. Binary search, as terms never decrease.
   */
  lastIndexWithTermAtMost(term: number, atMost: number): number {
    // Largest k in [snapshotIndex, min(atMost, lastIndex)] with term(k) ≤ term (k = snapshotIndex as a floor).
    let lo = this.snapshotIndex;
    let hi = Math.min(atMost, this.lastIndex());
    while (lo < hi) {
      const mid = lo + Math.ceil((hi - lo) / 2);
      if (this.entries[mid - this.snapshotIndex - 1].term <= term) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Appends `entries`, first truncating our log where the first of them starts. Returns the index
   * where the log changed (the truncation point).
   * Invariant: committed entries are never overwritten.
   */
  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex() + 1;
    const first = entries[0].index;
    if (first <= this.commitIndex) assert(false, () => `append would overwrite committed entry ${first}: ${this.describe()}`);
    if (!(first <= this.lastIndex() + 1)) assert(false, () => `append at ${first} leaves a gap: ${this.describe()}`);
    if (first <= this.lastIndex()) this.truncateFrom(first);
    const previousTerm = this.lastTerm();
    if (!(entries[0].term >= previousTerm)) assert(false, () => `append of term ${entries[0].term} after term ${previousTerm} at ${first}`);
    // Hot path: asserts build their message only on failure (no closure per entry).
    for (let k = 0; k < entries.length; k++) {
      const entry = entries[k];
      if (entry.index !== first + k) assert(false, () => `appended entries not contiguous at ${k}: ${entry.index}`);
      if (k > 0 && entry.term < entries[k - 1].term) assert(false, () => `appended terms decrease at ${entry.index}`);
      this.entries.push(entry);
      if (entry.type === 'confChange') this.confIndexes.push(entry.index);
    }
    return first;
  }

  /** Appends one new entry at lastIndex + 1 (the leader's proposal path: no array per entry). */
  appendOne(entry: Entry): void {
    if (entry.index !== this.lastIndex() + 1) assert(false, () => `appendOne at ${entry.index}, expected ${this.lastIndex() + 1}`);
    if (entry.term < this.lastTerm()) assert(false, () => `appendOne of term ${entry.term} after term ${this.lastTerm()}`);
    this.entries.push(entry);
    if (entry.type === 'confChange') this.confIndexes.push(entry.index);
  }

  private truncateFrom(index: number): void {
    this.entries.length = index - this.snapshotIndex - 1;
    while (this.confIndexes.length > 0 && this.confIndexes[this.confIndexes.length - 1] >= index) this.confIndexes.pop();
    if (this.unstableFrom > index) this.unstableFrom = index;
    if (this.persistedIndex >= index) this.persistedIndex = index - 1;
  }

  /**
   * The caller made entries up to `index` durable (they were handed out when its last entry had
   * `term`). If the log was overwritten there since, they no longer count.
   */
  stableTo(index: number, term: number): void {
    if (index > this.persistedIndex && this.term(index) === term) this.persistedIndex = index;
  }

  commitTo(index: number): boolean {
    if (index <= this.commitIndex) return false;
    if (index > this.lastIndex()) assert(false, () => `commitTo(${index}) beyond the log: ${this.describe()}`);
    this.commitIndex = index;
    return true;
  }

  /**
   * Committed entries not yet handed out for applying, up to `throughIndex` (the durable end of the
   * log, for a caller that persists asynchronously), marked as handed out.
   */
  takeCommitted(maxBytes: number, throughIndex = this.commitIndex): Entry[] {
    const last = Math.min(this.commitIndex, throughIndex);
    if (this.applying >= last) return [];
    const entries = this.slice(this.applying + 1, last + 1, maxBytes);
    this.applying += entries.length;
    return entries;
  }

  /** Entries not yet handed out to persist. */
  unstableEntries(): Entry[] {
    if (this.unstableFrom > this.lastIndex()) return [];
    return this.slice(this.unstableFrom, this.lastIndex() + 1);
  }

  /** Drops entries ≤ `index`, which a snapshot now covers. */
  compact(index: number): void {
    if (index <= this.snapshotIndex) return;
    assert(index <= this.applied, () => `compact(${index}) beyond applied: ${this.describe()}`);
    assert(index < this.unstableFrom && index <= this.persistedIndex, () => `compact(${index}) of entries not yet persisted: ${this.describe()}`);
    const term = this.term(index);
    assert(term !== undefined, () => `compact(${index}) outside the log: ${this.describe()}`);
    this.entries = this.entries.slice(index - this.snapshotIndex);
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    while (this.confIndexes.length > 0 && this.confIndexes[0] <= index) this.confIndexes.shift();
    this.checkInvariants();
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  restore(index: number, term: number): void {
    assert(index > this.commitIndex, () => `restore(${index}) at or below commit: ${this.describe()}`);
    this.entries = [];
    this.confIndexes.length = 0;
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    this.commitIndex = index;
    this.applying = index;
    this.applied = index;
    this.unstableFrom = index + 1;
    this.persistedIndex = index;
    this.checkInvariants();
  }
}
