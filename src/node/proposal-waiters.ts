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
import { tell } from './callbacks.js';

/**
 * Told once how a proposal ended: `error` null and the state machine's `result`, or the error
 * (`ProposalDroppedError`, `NodeStoppedError`, …) and no result.
 */
export type ProposalCallback<Result> = (error: Error | null, result?: Result) => void;

/**
 * One proposal waiting, told through a callback (the promise form wraps one, as `RaftNode.readIndex`
 * does). Typed with `unknown` results (cast where they go in): function-typed fields of the result
 * type would make `RaftNode<Result>` invariant in it, and a `RaftNode<CacheResult>` no longer a
 * `RaftNode<unknown>`.
 */
interface ProposalWaiter {
  term: number;
  done: (error: Error | null, result?: unknown) => void;
}

export class ProposalWaiters<Result> {
  private readonly byIndex = new Map<number, ProposalWaiter>();

  get size(): number {
    return this.byIndex.size;
  }

  /** Waits for the entry proposed at `index` in `term`. */
  add(index: number, term: number): Promise<Result> {
    return new Promise<Result>((resolve, reject) => this.addCallback(index, term, (error, result) => (error === null ? resolve(result!) : reject(error))));
  }

  /**
   * The same, telling `done` instead of settling a promise: no promise and no resolving functions
   * per proposal, for servers that answer many proposals per turn.
   */
  addCallback(index: number, term: number, done: ProposalCallback<Result>): void {
    this.byIndex.set(index, { term, done: done as ProposalWaiter['done'] });
  }

  /** `entry` was applied with `result`: its proposal succeeded if the entry is still its own. */
  applied(entry: Entry, result: Result): void {
    const waiter = this.byIndex.get(entry.index);
    if (waiter === undefined) return;
    this.byIndex.delete(entry.index);
    if (waiter.term === entry.term) tell(waiter.done, null, result);
    else tell(waiter.done, new ProposalDroppedError(`entry ${entry.index} was replaced by a leader of term ${entry.term}; the proposal was not applied`), undefined);
  }

  /** A snapshot through `index` was installed: those proposals were applied elsewhere, their results are not known here. */
  coveredBySnapshot(index: number): void {
    for (const [waiting, waiter] of this.byIndex) {
      if (waiting <= index) {
        this.byIndex.delete(waiting); // before its callback runs, as everywhere here
        tell(waiter.done, new ProposalDroppedError(`entry ${waiting} was folded into a snapshot before it was applied here; its outcome is unknown`), undefined);
      }
    }
  }

  rejectAll(error: Error): void {
    const waiting = [...this.byIndex.values()];
    this.byIndex.clear(); // before any callback runs: one may propose again
    for (const waiter of waiting) tell(waiter.done, error, undefined);
  }
}
