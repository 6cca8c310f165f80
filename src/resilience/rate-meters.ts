/**
 * The four admission rules behind {@link RateLimiter}, each a small synchronous meter over a clock
 * reading. They know nothing of waiters or timers: `RateLimiter` serves its queue from them.
 *
 * Invariants (checked by the property tests in `test/resilience/rate-limiter.property.test.ts`):
 * - tokenBucket: in any closed interval of length W ms, admissions <= burstSize + W * rate.
 * - leakyBucket: any two admissions are at least 1000 / rate ms apart (a steady output, no bursts).
 * - fixedWindow: in each aligned window [k * windowMs, (k + 1) * windowMs), admissions <= limit.
 * - slidingWindow: in any half-open interval of length windowMs, admissions <= limit.
 */

export interface RateMeter {
  /** Takes one permit at `nowMs` if the rule allows it now. */
  tryTake(nowMs: number): boolean;
  /** Permits that could be taken at `nowMs` without waiting (an integer >= 0). */
  available(nowMs: number): number;
  /** Ms from `nowMs` until one permit can be taken (0 if one can be taken now). */
  waitMs(nowMs: number): number;
  /** Returns one permit taken and not used; never raises capacity above the rule's maximum. */
  giveBack(nowMs: number): void;
}

/** Holds up to `burstSize` tokens, refilled continuously at `ratePerMs`; a permit costs one token. */
export class TokenBucketMeter implements RateMeter {
  private tokens: number;
  private refilledAtMs: number;

  constructor(
    private readonly ratePerMs: number,
    private readonly burstSize: number,
    nowMs: number,
  ) {
    // Starts full: a client that was idle may send its whole burst at once.
    this.tokens = burstSize;
    this.refilledAtMs = nowMs;
  }

  private refill(nowMs: number): void {
    if (nowMs <= this.refilledAtMs) return;
    const tokens = this.tokens + (nowMs - this.refilledAtMs) * this.ratePerMs;
    this.tokens = tokens > this.burstSize ? this.burstSize : tokens;
    this.refilledAtMs = nowMs;
  }

  tryTake(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  available(nowMs: number): number {
    this.refill(nowMs);
    return Math.floor(this.tokens);
  }

  waitMs(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens >= 1 ? 0 : (1 - this.tokens) / this.ratePerMs;
  }

  giveBack(nowMs: number): void {
    this.refill(nowMs);
    this.tokens = Math.min(this.burstSize, this.tokens + 1);
  }
}

/**
 * A leaky bucket used as a queue: requests leave one every `intervalMs`, never faster, so the
 * output is smooth. The bucket's capacity (the number of callers that may wait in it) is enforced
 * by `RateLimiter`, not here.
 */
export class LeakyBucketMeter implements RateMeter {
  // The earliest time the next request may leave. Invariant: only moves forward on tryTake.
  private nextLeaveAtMs: number;

  constructor(private readonly intervalMs: number, nowMs: number) {
    this.nextLeaveAtMs = nowMs;
  }

  tryTake(nowMs: number): boolean {
    if (nowMs < this.nextLeaveAtMs) return false;
    this.nextLeaveAtMs = nowMs + this.intervalMs;
    return true;
  }

  available(nowMs: number): number {
    return nowMs >= this.nextLeaveAtMs ? 1 : 0;
  }

  waitMs(nowMs: number): number {
    return nowMs >= this.nextLeaveAtMs ? 0 : this.nextLeaveAtMs - nowMs;
  }

  giveBack(nowMs: number): void {
    // Undo the last departure's slot, but never into the past: that would allow a burst later.
    this.nextLeaveAtMs = Math.max(nowMs, this.nextLeaveAtMs - this.intervalMs);
  }
}

/** At most `limit` permits per aligned window `[k * windowMs, (k + 1) * windowMs)`. */
export class FixedWindowMeter implements RateMeter {
  private windowStartMs = Number.NEGATIVE_INFINITY;
  private taken = 0;

  constructor(
    private readonly windowMs: number,
    private readonly limit: number,
  ) {}

  private roll(nowMs: number): void {
    if (nowMs < this.windowStartMs + this.windowMs) return;
    this.windowStartMs = Math.floor(nowMs / this.windowMs) * this.windowMs;
    this.taken = 0;
  }

  tryTake(nowMs: number): boolean {
    this.roll(nowMs);
    if (this.taken >= this.limit) return false;
    this.taken++;
    return true;
  }

  available(nowMs: number): number {
    this.roll(nowMs);
    return this.limit - this.taken;
  }

  waitMs(nowMs: number): number {
    this.roll(nowMs);
    return this.taken < this.limit ? 0 : this.windowStartMs + this.windowMs - nowMs;
  }

  giveBack(nowMs: number): void {
    this.roll(nowMs);
    if (this.taken > 0) this.taken--;
  }
}

/**
 * At most `limit` permits in any interval of length `windowMs`: a log of the last `limit`
 * admission times in a ring buffer (no allocation per permit).
 */
export class SlidingWindowMeter implements RateMeter {
  private readonly times: Float64Array;
  private head = 0; // index of the oldest admission
  private size = 0;

  constructor(
    private readonly windowMs: number,
    private readonly limit: number,
  ) {
    this.times = new Float64Array(limit);
  }

  private evict(nowMs: number): void {
    const cutoffMs = nowMs - this.windowMs;
    while (this.size > 0 && this.times[this.head]! <= cutoffMs) {
      this.head = this.head + 1 === this.limit ? 0 : this.head + 1;
      this.size--;
    }
  }

  tryTake(nowMs: number): boolean {
    this.evict(nowMs);
    if (this.size >= this.limit) return false;
    let tail = this.head + this.size;
    if (tail >= this.limit) tail -= this.limit;
    this.times[tail] = nowMs;
    this.size++;
    return true;
  }

  available(nowMs: number): number {
    this.evict(nowMs);
    return this.limit - this.size;
  }

  waitMs(nowMs: number): number {
    this.evict(nowMs);
    // The same expression as evict()'s cutoff, so float rounding cannot make the two disagree
    // (a wait of 0 here with the permit still refused there would spin a timer loop).
    return this.size < this.limit ? 0 : this.times[this.head]! - (nowMs - this.windowMs);
  }

  giveBack(nowMs: number): void {
    this.evict(nowMs);
    // Forget the newest admission: the one most likely to be the unused permit.
    if (this.size > 0) this.size--;
  }
}
