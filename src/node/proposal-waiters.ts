/**
 * The proposals this node accepted and is waiting to see applied: each resolves with the state
 * machine's result for its entry, or fails when its entry was replaced by another leader's, folded
 * into a snapshot before it was applied here, or the node stopped.
 *
 * @example
 * ```ts
 * const waiters = new ProposalWaiters<CacheResult>();
 * const done = waiters.add(index, term);  // the entry the core appended
 * waiters.applied(entry, result);         // when it is applied: done resolves with result
 * ```
 */
import { ProposalDroppedError } from '../core/errors.js';
import type { Entry } from '../core/types.js';

interface ProposalWaiter<Result> {
  term: number;
  resolve(result: Result): void;
  reject(error: Error): void;
}

export class ProposalWaiters<Result> {
  private readonly byIndex = new Map<number, ProposalWaiter<Result>>();

  get size(): number {
    return this.byIndex.size;
  }

  /** Waits for the entry proposed at `index` in `term`. */
  add(index: number, term: number): Promise<Result> {
    return new Promise<Result>((resolve, reject) => this.byIndex.set(index, { term, resolve, reject }));
  }

  /** `entry` was applied with `result`: its proposal succeeded if the entry is still its own. */
  applied(entry: Entry, result: Result): void {
    const waiter = this.byIndex.get(entry.index);
    if (waiter === undefined) return;
    this.byIndex.delete(entry.index);
    if (waiter.term === entry.term) waiter.resolve(result);
    else waiter.reject(new ProposalDroppedError(`entry ${entry.index} was replaced by a leader of term ${entry.term}; the proposal was not applied`));
  }

  /** A snapshot through `index` was installed: those proposals were applied elsewhere, their results are not known here. */
  coveredBySnapshot(index: number): void {
    for (const [waiting, waiter] of this.byIndex) {
      if (waiting <= index) {
        waiter.reject(new ProposalDroppedError(`entry ${waiting} was folded into a snapshot before it was applied here; its outcome is unknown`));
        this.byIndex.delete(waiting);
      }
    }
  }

  rejectAll(error: Error): void {
    for (const waiter of this.byIndex.values()) waiter.reject(error);
    this.byIndex.clear();
  }
}
