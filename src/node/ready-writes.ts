/**
 * How each Ready's writes reach the log store: what to write at all (a hard state whose only change
 * is the commit index waits for the next write that syncs anyway), and, with asynchronous storage
 * writes (src/core/ready.ts), the chain that runs each Ready's follow-up — its held-back messages,
 * the core's `persisted()` — only once its write and every earlier one are durable.
 *
 * @example
 * ```ts
 * const update = writes.update(ready);
 * writes.chain(update === null ? undefined : store.save(update), () => core.persisted(ready.logLastIndex, ready.logLastTerm), die);
 * await writes.drained(); // every chained write has finished
 * ```
 */
import type { Ready } from '../core/ready.js';
import type { HardState } from '../core/types.js';
import type { LogUpdate } from '../storage/log-store.js';

export class ReadyWrites {
  /** The last chained write's follow-up; never rejects (each link handles its own failure). */
  private done: Promise<void> = Promise.resolve();
  private deferred: HardState | null = null;
  /** Bumped by reset(): follow-ups of writes chained before it are dropped. */
  private epoch = 0;

  /**
   * What to write for `ready`, or null for nothing. A commit-index-only hard state needs no sync
   * (Raft re-learns the commit index from the leader after a restart), so it is kept and written
   * with the next write that syncs anyway: a follower then syncs once per AppendEntries with
   * entries instead of once more per commit advance. A commit that makes a membership change
   * applicable is written at once (a restarted node tells its own old removal from a new one by
   * the durable commit index).
   */
  update(ready: Ready): LogUpdate | null {
    const hardState = ready.hardState ?? this.deferred;
    const needsWrite =
      ready.snapshot !== null ||
      ready.entries.length > 0 ||
      (ready.hardState !== null && ready.mustSync) ||
      (hardState !== null && ready.committedEntries.some((e) => e.type === 'confChange'));
    if (!needsWrite) {
      this.deferred = hardState;
      return null;
    }
    this.deferred = null;
    return { snapshotMeta: ready.snapshot?.meta ?? null, entries: ready.entries, hardState };
  }

  /**
   * Runs `durable` once `write` (none: nothing to wait for of its own) and every write chained
   * before it are done, or `failed` if `write` failed. Follow-ups chained before a reset() never run.
   */
  chain(write: Promise<void> | undefined, durable: () => void, failed: (error: unknown) => void): void {
    const epoch = this.epoch;
    const ready = write === undefined ? this.done : Promise.all([this.done, write]);
    this.done = ready.then(
      () => {
        if (epoch === this.epoch) durable();
      },
      (error: unknown) => {
        if (epoch === this.epoch) failed(error);
      },
    );
  }

  /** Resolves once every chained write has finished (never rejects). */
  drained(): Promise<void> {
    return this.done;
  }

  /** The core was rebuilt or abandoned: drop the deferred hard state and pending follow-ups. */
  reset(): void {
    this.epoch++;
    this.deferred = null;
  }

  /** The commit-index-only hard state not yet written, if any (taken: written on stop). */
  takeDeferred(): HardState | null {
    const deferred = this.deferred;
    this.deferred = null;
    return deferred;
  }
}
