/**
 * Linearizable reads waiting on a {@link RaftNode}: first for the core to confirm them (ReadIndex or
 * lease: a `ReadState` naming the commit index to wait for), then for the state machine to apply
 * that index. Each is told its read index, or why it failed, through a {@link ReadCallback}; the
 * promise form of `RaftNode.readIndex` wraps one.
 *
 * @module
 */
import type { ReadState } from '../core/ready.js';
import { tell } from './callbacks.js';

/**
 * Told once how a read ended: `error` null and the read index (the state machine has applied it:
 * read it now), or the error (`NotLeaderError`, `NodeStoppedError`, …) and no index.
 */
export type ReadCallback = (error: Error | null, index?: number) => void;

export class ReadQueue {
  private sequence = 0;
  /** Asked of the core, not yet confirmed; by context. */
  private readonly unconfirmed = new Map<number, ReadCallback>();
  /** Confirmed, waiting for the state machine to apply their index: two parallel arrays, no object per read. */
  private awaitingIndexes: number[] = [];
  private awaitingCallbacks: ReadCallback[] = [];

  /** The context for the next read, to give the core. */
  nextContext(): number {
    return ++this.sequence;
  }

  /**
   * Waits for the read the core accepted under `context`. Only once the core accepted it: a read
   * the core refused (not the leader) must leave nothing behind to be failed later.
   */
  add(context: number, done: ReadCallback): void {
    this.unconfirmed.set(context, done);
  }

  /** The core confirmed a read (a ReadState of a Ready). Unknown contexts are ignored. */
  confirm(readState: ReadState): void {
    const done = this.unconfirmed.get(readState.context);
    if (done === undefined) return;
    this.unconfirmed.delete(readState.context);
    this.awaitingIndexes.push(readState.index);
    this.awaitingCallbacks.push(done);
  }

  /** Tells the confirmed reads whose index the state machine has applied. */
  release(appliedIndex: number): void {
    const indexes = this.awaitingIndexes;
    const callbacks = this.awaitingCallbacks;
    if (indexes.length === 0) return;
    // The queue is settled before any callback runs: one may stop the node (rejectAll) or read again.
    let kept = 0;
    let dueIndexes: number[] | undefined;
    let dueCallbacks: ReadCallback[] | undefined;
    for (let k = 0; k < indexes.length; k++) {
      const index = indexes[k]!;
      if (index <= appliedIndex) {
        (dueIndexes ??= []).push(index);
        (dueCallbacks ??= []).push(callbacks[k]!);
      } else {
        indexes[kept] = index;
        callbacks[kept++] = callbacks[k]!;
      }
    }
    indexes.length = kept;
    callbacks.length = kept;
    if (dueCallbacks === undefined) return;
    for (let k = 0; k < dueCallbacks.length; k++) tell(dueCallbacks[k]!, null, dueIndexes![k]);
  }

  /** Fails the reads not confirmed yet (leadership was lost: no quorum will confirm them now). */
  rejectUnconfirmed(error: Error): void {
    const waiting = [...this.unconfirmed.values()];
    this.unconfirmed.clear();
    for (const done of waiting) tell(done, error, undefined);
  }

  /** Fails every read. */
  rejectAll(error: Error): void {
    this.rejectUnconfirmed(error);
    const callbacks = this.awaitingCallbacks;
    this.awaitingIndexes = [];
    this.awaitingCallbacks = [];
    for (const done of callbacks) tell(done, error, undefined);
  }

  get size(): number {
    return this.unconfirmed.size + this.awaitingIndexes.length;
  }
}
