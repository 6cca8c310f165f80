/**
 * `EntryRun`: log entries with consecutive indices, `[lo, hi]`, held in one array. What a
 * `LogPlan` writes is always such a run (appends replace a suffix, truncation drops one,
 * compaction drops a prefix), so lookups are an offset, a compaction moves a head, and taking on
 * another plan's run is a copy of its array slots. A `Map` by index did the same with a hash
 * insert and delete per entry, twice per entry (the group's plan, then the tail's), and grew with
 * the tail between checkpoints.
 *
 * @example
 * ```ts
 * const run = new EntryRun();
 * run.push({ index: 5, term: 1, type: 'normal', data }); // the first entry sets lo
 * run.get(5);            // that entry
 * run.dropThrough(5);    // compacted: empty again
 * ```
 *
 * @module
 */
import { assert } from '../core/errors.js';
import type { Entry } from '../core/types.js';

/** Dropped slots at the front past which the array is copied down (amortised O(1) per entry). */
const headSlack = 1024;

export class EntryRun {
  private items: Entry[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  /** Index of the first entry; Infinity when empty. */
  get lo(): number {
    return this.size === 0 ? Number.POSITIVE_INFINITY : this.items[this.head]!.index;
  }

  /** Index of the last entry; -Infinity when empty. */
  get hi(): number {
    return this.size === 0 ? Number.NEGATIVE_INFINITY : this.items[this.items.length - 1]!.index;
  }

  get(index: number): Entry | undefined {
    if (this.size === 0) return undefined;
    const at = this.head + (index - this.items[this.head]!.index);
    return at >= this.head && at < this.items.length ? this.items[at] : undefined;
  }

  /** Appends `entry`, whose index must follow the last one's (any index when empty). */
  push(entry: Entry): void {
    if (this.size > 0 && entry.index !== this.hi + 1) assert(false, () => `entry ${entry.index} does not follow the run's last index ${this.hi}`);
    this.items.push(entry);
  }

  /** Appends every entry of `other`, whose first index must follow this run's last one. */
  pushRun(other: EntryRun): void {
    for (let i = other.head; i < other.items.length; i++) this.push(other.items[i]!);
  }

  /** Drops the entries at `index` and above. */
  truncateFrom(index: number): void {
    if (this.size === 0 || index > this.hi) return;
    this.items.length = this.head + Math.max(0, index - this.lo);
    if (this.size === 0) this.clear();
  }

  /** Drops the entries at `index` and below. */
  dropThrough(index: number): void {
    if (this.size === 0 || index < this.lo) return;
    this.head += Math.min(this.size, index - this.lo + 1);
    if (this.size === 0) this.clear();
    else if (this.head >= headSlack && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }

  /** The entries, in index order (a copy). */
  toArray(): Entry[] {
    return this.items.slice(this.head);
  }
}
