/**
 * The node's clock for the core: one tick per `tickMs` of clock time elapsed, not one per timer
 * callback. After a pause (SIGSTOP, a long GC, an overloaded machine) the core must learn that its
 * election timeout and its lease have run out, or it could serve a lease read after a new leader
 * was elected (found by the simulator: test/sim/FINDINGS.md).
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
    this.ticksMax = Math.max(TICKS_CATCH_UP_MIN, 2 * Math.ceil(electionTimeoutMaxMs / tickMs));
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

  /** Gives the ticks owed for the clock time elapsed since the last ones, if any. */
  catchUp(): void {
    const due = Math.floor((this.clock.now() - this.tickedThroughMs) / this.tickMs);
    if (due <= 0) return;
    this.tickedThroughMs += due * this.tickMs;
    this.onTicks(Math.min(due, this.ticksMax));
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.catchUp();
      // The ticks may have stopped the ticker (or restarted it: then it has its own timer).
      if (this.ticking && this.timer === undefined) this.schedule();
    }, this.tickMs);
  }
}
