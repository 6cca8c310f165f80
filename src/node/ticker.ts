/**
 * The node's clock for the core: one tick per `tickMs` of clock time elapsed, not one per timer
 * callback. After a pause (SIGSTOP, a long GC, an overloaded machine) the core must learn that its
 * election timeout and its lease have run out, or it could serve a lease read after a new leader
 * was elected (found by the simulator: test/sim/FINDINGS.md): `catchUp()` gives every tick owed,
 * and the lease read path calls it; the timer gives them a few at a time.
 *
 * @example
 * ```ts
 * const ticker = new Ticker(clock, 10, 300, (ticks) => { for (let i = 0; i < ticks; i++) core.tick(); });
 * ticker.start();   // ticks every 10 ms of clock time
 * ticker.catchUp(); // before a lease read: ticks for any time lost first
 * ticker.stop();
 * ```
 */
import type { Clock, TimerHandle } from '../util/clock.js';

/** Ticks replayed at once after a pause, at least (and at least two election timeouts' worth). */
const TICKS_CATCH_UP_MIN = 64;
/** Ticks one timer callback gives at most; after a stall the rest follow over the next ones. */
const TICKS_PER_TIMER_MAX = 4;

/**
 * How many of the ticks owed after a pause are given at all: past two election timeouts more
 * ticks change nothing but the number of heartbeats a leader without check-quorum sends.
 */
export function catchUpTicksMax(tickMs: number, electionTimeoutMaxMs: number): number {
  return Math.max(TICKS_CATCH_UP_MIN, 2 * Math.ceil(electionTimeoutMaxMs / tickMs));
}

export class Ticker {
  private timer: TimerHandle | undefined;
  private ticking = false;
  /** Clock time up to which ticks have been given. */
  private tickedThroughMs = 0;
  private readonly ticksMax: number;

  constructor(
    private readonly clock: Clock,
    private readonly tickMs: number,
    electionTimeoutMaxMs: number,
    private readonly onTicks: (ticks: number) => void,
  ) {
    // Past an election timeout more ticks change nothing; the bound keeps a long pause cheap.
    this.ticksMax = catchUpTicksMax(tickMs, electionTimeoutMaxMs);
  }

  /** Starts ticking from now (time before it is not owed). */
  start(): void {
    this.stop();
    this.ticking = true;
    this.tickedThroughMs = this.clock.now();
    this.schedule();
  }

  stop(): void {
    this.ticking = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Gives every tick owed for the clock time elapsed (a lease read calls it before it is served). */
  catchUp(): void {
    this.give(Number.POSITIVE_INFINITY);
  }

  /** Gives up to `max` of the ticks owed; the rest stay owed. */
  private give(max: number): void {
    let due = Math.floor((this.clock.now() - this.tickedThroughMs) / this.tickMs);
    if (due <= 0) return;
    if (due > this.ticksMax) {
      this.tickedThroughMs += (due - this.ticksMax) * this.tickMs; // past the bound they change nothing
      due = this.ticksMax;
    }
    const ticks = Math.min(due, max);
    this.tickedThroughMs += ticks * this.tickMs;
    this.onTicks(ticks);
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      // After a stall (a long task, a GC, no CPU) the ticks owed are given a few per timer, with a
      // turn of I/O between: all at once, a leader stepped down (check-quorum saw a second election
      // timeout pass before it read the answers that came during the stall) and followers
      // campaigned, after 130-240 ms stalls with 200,000 cache keys (bench:cluster --keys). The
      // core's time lags meanwhile, which is safe: a lease read catches up first (catchUp).
      this.give(TICKS_PER_TIMER_MAX);
      // The ticks may have stopped the ticker (or restarted it: then it has its own timer).
      if (this.ticking && this.timer === undefined) this.schedule();
    }, this.tickMs);
  }
}
