/**
 * `MemoryLogStore`: the log in memory, for tests and the deterministic simulation. It follows
 * exactly the rules of {@link LmdbLogStore} (both plan writes with {@link LogPlan}) and passes the
 * same conformance suite; writes apply at once and their promises resolve on the next microtask.
 * `snapshotState()`/`fromState()` let a simulated crash keep the "durable" state of a node.
 *
 * @example
 * ```ts
 * const store = new MemoryLogStore();
 * await store.append([{ index: 1, term: 1, type: 'normal', data: new Uint8Array([1]) }]);
 * store.term(1); // 1
 * ```
 *
 * @module
 */
import { assert } from '../core/errors.js';
import type { Entry, HardState, SnapshotMeta } from '../core/types.js';
import { LogCompactedError, LogUnavailableError, StorageClosedError } from './errors.js';
import type { LogStore, LogUpdate } from './log-store.js';
import { emptyHardState } from './log-store.js';
import type { LogState } from './log-plan.js';
import { LogPlan, cloneState } from './log-plan.js';

/** A copy of everything a MemoryLogStore holds, to survive a simulated restart. */
export interface MemoryLogImage {
  state: LogState;
  entries: Entry[];
}

export class MemoryLogStore implements LogStore {
  private state: LogState = { bounds: { prevIndex: 0, prevTerm: 0, lastIndex: 0 }, hardState: emptyHardState(), snapshotMeta: null };
  /** entries[i] has index prevIndex + 1 + i. */
  private log: Entry[] = [];
  private closed = false;

  /** A store holding a copy of `image` (what a crashed simulated node had made durable). */
  static fromImage(image: MemoryLogImage): MemoryLogStore {
    const store = new MemoryLogStore();
    store.state = cloneState(image.state);
    store.log = image.entries.map(copyEntry);
    return store;
  }

  /** A deep copy of the store's contents. */
  image(): MemoryLogImage {
    return { state: cloneState(this.state), entries: this.log.map(copyEntry) };
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
    return this.log[index - b.prevIndex - 1]!.term;
  }

  entries(lo: number, hi: number, bytesMax = Number.POSITIVE_INFINITY): Entry[] {
    this.checkOpen();
    const b = this.state.bounds;
    if (lo <= b.prevIndex) throw new LogCompactedError(lo, b.prevIndex + 1);
    if (hi > b.lastIndex + 1) throw new LogUnavailableError(hi - 1, b.lastIndex);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const entry = this.log[i - b.prevIndex - 1]!;
      bytes += entry.data.length;
      if (out.length > 0 && bytes > bytesMax) break;
      out.push(copyEntry(entry));
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
    return this.write((plan) => plan.apply({ entries }));
  }

  truncateSuffix(index: number): Promise<void> {
    return this.write((plan) => plan.truncateSuffix(index));
  }

  compact(index: number): Promise<void> {
    return this.write((plan) => plan.compact(index));
  }

  setHardState(hardState: HardState): Promise<void> {
    return this.write((plan) => plan.apply({ hardState }));
  }

  setSnapshotMeta(meta: SnapshotMeta): Promise<void> {
    return this.write((plan) => plan.apply({ snapshotMeta: meta }));
  }

  save(update: LogUpdate): Promise<void> {
    return this.write((plan) => plan.apply(update));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async write(step: (plan: LogPlan) => void): Promise<void> {
    this.checkOpen();
    const plan = new LogPlan(this.state, (index) => this.log[index - this.state.bounds.prevIndex - 1]!.term);
    step(plan);
    const next = plan.state.bounds;
    const old = this.state.bounds;
    const puts = plan.finalPuts();
    // Invariant (LogPlan): the puts, if any, are the run [firstPut, next.lastIndex]; every index
    // in (next.prevIndex, firstPut) is an old entry kept as it was.
    const firstPut = puts.length > 0 ? puts[0]!.index : next.lastIndex + 1;
    assert(puts.length === 0 || puts[puts.length - 1]!.index === next.lastIndex, () => `puts end at ${puts[puts.length - 1]!.index}, log at ${next.lastIndex}`);
    const keepLo = next.prevIndex + 1;
    const keepHi = firstPut - 1;
    if (keepLo > keepHi) {
      this.log = [];
    } else {
      assert(keepLo > old.prevIndex && keepHi <= old.lastIndex, () => `kept range [${keepLo}, ${keepHi}] outside the old log (${old.prevIndex}, ${old.lastIndex}]`);
      this.log.length = keepHi - old.prevIndex;
      if (keepLo > old.prevIndex + 1) this.log.splice(0, keepLo - old.prevIndex - 1);
    }
    for (const e of puts) this.log.push(copyEntry(e));
    this.state = cloneState(plan.state);
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageClosedError('MemoryLogStore');
  }
}

function copyEntry(entry: Entry): Entry {
  // new Uint8Array(x) copies even when x is a Buffer (whose slice() would be a view).
  return { index: entry.index, term: entry.term, type: entry.type, data: new Uint8Array(entry.data) };
}
