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
 * One proposal waiting: either a promise's resolving functions or a callback, never both. Typed
 * with `unknown` results (cast where they go in): function-typed fields of the result type would
 * make `RaftNode<Result>` invariant in it, and a `RaftNode<CacheResult>` no longer a
 * `RaftNode<unknown>`.
 */
interface ProposalWaiter {
  term: number;
  resolve: ((result: unknown) => void) | null;
  reject: ((error: Error) => void) | null;
  done: ((error: Error | null, result?: unknown) => void) | null;
}

function succeed(waiter: ProposalWaiter, result: unknown): void {
  if (waiter.done !== null) tell(waiter.done, null, result);
  else waiter.resolve!(result);
}

function fail(waiter: ProposalWaiter, error: Error): void {
  if (waiter.done !== null) tell(waiter.done, error, undefined);
  else waiter.reject!(error);
}

export class ProposalWaiters<Result> {
  private readonly byIndex = new Map<number, ProposalWaiter>();

  get size(): number {
    return this.byIndex.size;
  }

  /** Waits for the entry proposed at `index` in `term`. */
  add(index: number, term: number): Promise<Result> {
    return new Promise<Result>((resolve, reject) => this.byIndex.set(index, { term, resolve: resolve as (result: unknown) => void, reject, done: null }));
  }

  /**
   * The same, telling `done` instead of settling a promise: no promise and no resolving functions
   * per proposal, for servers that answer many proposals per turn.
   */
  addCallback(index: number, term: number, done: ProposalCallback<Result>): void {
    this.byIndex.set(index, { term, resolve: null, reject: null, done: done as ProposalWaiter['done'] });
  }

  /** `entry` was applied with `result`: its proposal succeeded if the entry is still its own. */
  applied(entry: Entry, result: Result): void {
    const waiter = this.byIndex.get(entry.index);
    if (waiter === undefined) return;
    this.byIndex.delete(entry.index);
    if (waiter.term === entry.term) succeed(waiter, result);
    else fail(waiter, new ProposalDroppedError(`entry ${entry.index} was replaced by a leader of term ${entry.term}; the proposal was not applied`));
  }

  /** A snapshot through `index` was installed: those proposals were applied elsewhere, their results are not known here. */
  coveredBySnapshot(index: number): void {
    for (const [waiting, waiter] of this.byIndex) {
      if (waiting <= index) {
        fail(waiter, new ProposalDroppedError(`entry ${waiting} was folded into a snapshot before it was applied here; its outcome is unknown`));
        this.byIndex.delete(waiting);
      }
    }
  }

  rejectAll(error: Error): void {
    for (const waiter of this.byIndex.values()) fail(waiter, error);
    this.byIndex.clear();
  }
}
