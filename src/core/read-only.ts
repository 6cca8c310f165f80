/**
 * Linearizable reads on the leader (thesis §6.4): ReadIndex and leases.
 *
 * Every AppendEntries the leader sends carries the current *round* in `context`, and every
 * heartbeat broadcast starts a new round (so does every change of a follower's progress state,
 * which lets replication.ts tell stale answers apart); followers echo the context back. A follower that
 * acknowledges round r accepted this leader at some time after round r began. So:
 * - a read registered in round r (with the commit index at that moment) is confirmed once a quorum
 *   (the leader included) acknowledged a round ≥ r: no other leader could have committed anything
 *   newer at that time;
 * - with check-quorum on, followers refuse to vote for an election timeout after they hear from the
 *   leader, so a quorum acknowledgement of a round begun at tick t gives a lease until
 *   t + electionTimeoutMin (ticks of this node; assumes bounded clock drift, as every lease does).
 *
 * @module
 */
import { assert } from './errors.js';
import type { ReadState } from './ready.js';

/** Rounds remembered for the lease (older acknowledgements give no lease). */
const ROUND_TICKS_MAX = 4096;

interface PendingRead {
  round: number;
  index: number;
  context: number;
}

/** Largest number of ReadIndex requests waiting for confirmation; more are dropped by the caller. */
export const PENDING_READS_MAX = 65_536;

export class ReadOnly {
  /** The current round; starts at 1 so that 0 means "acknowledged nothing". */
  round = 1;
  private readonly roundTicks = new Float64Array(ROUND_TICKS_MAX);
  /** Reads waiting for a quorum, in round order (a queue with a head cursor: no shifting). */
  private pending: PendingRead[] = [];
  private pendingHead = 0;

  constructor(nowTick: number) {
    this.roundTicks[this.round % ROUND_TICKS_MAX] = nowTick;
  }

  /** Starts a new round at `nowTick` and returns it. */
  nextRound(nowTick: number): number {
    this.round++;
    this.roundTicks[this.round % ROUND_TICKS_MAX] = nowTick;
    return this.round;
  }

  /** The tick at which `round` began, or -Infinity when it is too old to remember. */
  roundTick(round: number): number {
    if (round <= 0 || round > this.round || this.round - round >= ROUND_TICKS_MAX) return Number.NEGATIVE_INFINITY;
    return this.roundTicks[round % ROUND_TICKS_MAX];
  }

  /** The round the oldest pending read waits for; Infinity when none waits. */
  headRound(): number {
    return this.pendingHead < this.pending.length ? this.pending[this.pendingHead].round : Number.POSITIVE_INFINITY;
  }

  get pendingCount(): number {
    return this.pending.length - this.pendingHead;
  }

  /** Registers a read at the commit index `index`, to be confirmed by acknowledgements of `round`. */
  add(context: number, index: number, round: number): void {
    assert(this.pendingCount < PENDING_READS_MAX, () => `more than ${PENDING_READS_MAX} pending reads`);
    this.pending.push({ round, index, context });
  }

  /**
   * Releases, in order, every pending read whose round is ≤ `confirmedRound` (the highest round a
   * quorum acknowledged) into `out`.
   */
  release(confirmedRound: number, out: ReadState[]): void {
    while (this.pendingHead < this.pending.length && this.pending[this.pendingHead].round <= confirmedRound) {
      const read = this.pending[this.pendingHead++];
      out.push({ context: read.context, index: read.index });
    }
    if (this.pendingHead === this.pending.length) {
      this.pending = [];
      this.pendingHead = 0;
    }
  }

  /** Drops every pending read (leadership lost: the caller retries elsewhere). */
  reset(): void {
    this.pending = [];
    this.pendingHead = 0;
  }
}
