/**
 * Linearizable reads waiting on a {@link RaftNode}: first for the core to confirm them (ReadIndex or
 * lease: a `ReadState` naming the commit index to wait for), then for the state machine to apply
 * that index. Resolves each with its read index.
 *
 * @module
 */
import type { ReadState } from '../core/ready.js';

interface ReadWaiter {
  resolve(index: number): void;
  reject(error: Error): void;
}

export class ReadQueue {
  private sequence = 0;
  /** Asked of the core, not yet confirmed; by context. */
  private readonly unconfirmed = new Map<number, ReadWaiter>();
  /** Confirmed, waiting for the state machine to apply their index. */
  private readonly awaitingApply: { index: number; waiter: ReadWaiter }[] = [];

  /** The context for the next read, to give the core. */
  nextContext(): number {
    return ++this.sequence;
  }

  /**
   * Waits for the read the core accepted under `context`. Only once the core accepted it: a read
   * the core refused (not the leader) must leave no promise behind to be rejected unobserved.
   */
  add(context: number): Promise<number> {
    return new Promise<number>((resolve, reject) => this.unconfirmed.set(context, { resolve, reject }));
  }

  /** The core confirmed a read (a ReadState of a Ready). Unknown contexts are ignored. */
  confirm(readState: ReadState): void {
    const waiter = this.unconfirmed.get(readState.context);
    if (waiter === undefined) return;
    this.unconfirmed.delete(readState.context);
    this.awaitingApply.push({ index: readState.index, waiter });
  }

  /** Resolves the confirmed reads whose index the state machine has applied. */
  release(appliedIndex: number): void {
    let kept = 0;
    for (const pending of this.awaitingApply) {
      if (pending.index <= appliedIndex) pending.waiter.resolve(pending.index);
      else this.awaitingApply[kept++] = pending;
    }
    this.awaitingApply.length = kept;
  }

  /** Rejects the reads not confirmed yet (leadership was lost: no quorum will confirm them now). */
  rejectUnconfirmed(error: Error): void {
    for (const waiter of this.unconfirmed.values()) waiter.reject(error);
    this.unconfirmed.clear();
  }

  /** Rejects every read. */
  rejectAll(error: Error): void {
    this.rejectUnconfirmed(error);
    for (const pending of this.awaitingApply) pending.waiter.reject(error);
    this.awaitingApply.length = 0;
  }

  get size(): number {
    return this.unconfirmed.size + this.awaitingApply.length;
  }
}
