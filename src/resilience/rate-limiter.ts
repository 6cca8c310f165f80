/**
 * Rate limiting with four admission rules behind one interface. The server answers `429` with a
 * `Retry-After` from {@link RateLimiter.getTimeUntilNextPermitMs}; clients and cluster services
 * wait for a permit with {@link RateLimiter.acquire}.
 */
import { type Clock, type TimerHandle, systemClock } from '../util/clock.js';
import { InvalidResilienceConfigError, OperationAbortedError, RateLimitExceededError } from './errors.js';
import { FixedWindowMeter, LeakyBucketMeter, type RateMeter, SlidingWindowMeter, TokenBucketMeter } from './rate-meters.js';
import { checkChoice, checkInteger, checkNumber } from './validate.js';

export type RateLimiterAlgorithm = 'tokenBucket' | 'leakyBucket' | 'slidingWindow' | 'fixedWindow';

export const RATE_LIMITER_ALGORITHMS: readonly RateLimiterAlgorithm[] = ['tokenBucket', 'leakyBucket', 'slidingWindow', 'fixedWindow'];

/** Largest number of permits per window a sliding window may track (8 bytes each). */
export const slidingWindowPermitsMax = 1_000_000;
/** Largest queue of callers waiting in {@link RateLimiter.acquire} that may be configured. */
export const rateLimiterWaitersMax = 1_000_000;

/** Options of {@link RateLimiter}. Every field has a default. */
export interface RateLimiterConfig {
  /** Sustained rate, permits per second. Default 100. */
  requestsPerSecond?: number;
  /**
   * Default 10. tokenBucket: the bucket's capacity, i.e. how many permits an idle client may take at
   * once. leakyBucket: how many callers may wait in the bucket (its output never bursts). The window
   * algorithms do not use it: their burst is the whole window's quota.
   */
  burstSize?: number;
  /** Default `'tokenBucket'`. */
  algorithm?: RateLimiterAlgorithm;
  /** Window length of slidingWindow and fixedWindow, in ms; the quota per window is `requestsPerSecond * windowMs / 1000`, rounded down. Default 1000. */
  windowMs?: number;
  /** Callers that may wait in `acquire` at once (all algorithms but leakyBucket, which uses burstSize). Default 1024. */
  waitersMax?: number;
  /** Default {@link systemClock}. */
  clock?: Clock;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const owner = 'RateLimiter';

/**
 * Admits requests at a configured rate.
 *
 * - `tryAcquire()` takes a permit if one is free now (never waits); use it to shed load.
 * - `acquire()` waits for a permit, in arrival order, cancellable with an `AbortSignal`.
 * - `getTimeUntilNextPermitMs()` says how long until a permit frees up: the `Retry-After`.
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter({ requestsPerSecond: 50, burstSize: 20 });
 * if (!limiter.tryAcquire()) {
 *   res.writeStatus('429').writeHeader('Retry-After', String(limiter.getRetryAfterSeconds())).end();
 * }
 * await limiter.acquire({ signal }); // or wait for a permit
 * ```
 */
export class RateLimiter {
  readonly algorithm: RateLimiterAlgorithm;
  readonly requestsPerSecond: number;
  readonly burstSize: number;
  readonly windowMs: number;
  /** How many callers may wait in `acquire` at once. */
  readonly waitersMax: number;
  private readonly clock: Clock;
  private readonly meter: RateMeter;
  // FIFO of callers in acquire(); `waitersHead` avoids shifting the array on every grant.
  private waiters: Waiter[] = [];
  private waitersHead = 0;
  private drainTimer: TimerHandle | undefined;
  private closed = false;

  constructor(config: RateLimiterConfig = {}) {
    this.requestsPerSecond = checkNumber(owner, 'requestsPerSecond', config.requestsPerSecond ?? 100, Number.MIN_VALUE);
    this.burstSize = checkInteger(owner, 'burstSize', config.burstSize ?? 10, 1, rateLimiterWaitersMax);
    this.algorithm = checkChoice(owner, 'algorithm', config.algorithm ?? 'tokenBucket', RATE_LIMITER_ALGORITHMS);
    this.windowMs = checkNumber(owner, 'windowMs', config.windowMs ?? 1000, Number.MIN_VALUE);
    const waitersMax = checkInteger(owner, 'waitersMax', config.waitersMax ?? 1024, 0, rateLimiterWaitersMax);
    this.waitersMax = this.algorithm === 'leakyBucket' ? this.burstSize : waitersMax;
    this.clock = config.clock ?? systemClock;
    this.meter = this.createMeter();
  }

  private createMeter(): RateMeter {
    const nowMs = this.clock.now();
    switch (this.algorithm) {
      case 'tokenBucket':
        return new TokenBucketMeter(this.requestsPerSecond / 1000, this.burstSize, nowMs);
      case 'leakyBucket':
        return new LeakyBucketMeter(1000 / this.requestsPerSecond, nowMs);
      case 'fixedWindow':
        return new FixedWindowMeter(this.windowMs, this.windowLimit());
      case 'slidingWindow': {
        const limit = this.windowLimit();
        if (limit > slidingWindowPermitsMax) {
          throw new InvalidResilienceConfigError(
            `${owner}: slidingWindow would track ${limit} permits per window (max ${slidingWindowPermitsMax}); lower windowMs or use 'tokenBucket' or 'fixedWindow'`,
          );
        }
        return new SlidingWindowMeter(this.windowMs, limit);
      }
      default: {
        const never: never = this.algorithm;
        throw new InvalidResilienceConfigError(`${owner}: unknown algorithm ${String(never)}`);
      }
    }
  }

  /** The quota of the window algorithms: permits per `windowMs`. */
  windowLimit(): number {
    const limit = Math.floor((this.requestsPerSecond * this.windowMs) / 1000);
    if (limit < 1) {
      throw new InvalidResilienceConfigError(
        `${owner}: requestsPerSecond (${this.requestsPerSecond}) * windowMs (${this.windowMs}) / 1000 is below one permit per window; raise windowMs to at least ${Math.ceil(1000 / this.requestsPerSecond)}`,
      );
    }
    return limit;
  }

  /** Callers waiting in `acquire`. */
  get waiting(): number {
    return this.waiters.length - this.waitersHead;
  }

  /**
   * Takes a permit if one is free now; never waits. Returns false while callers are waiting in
   * `acquire`, so they are not overtaken.
   */
  tryAcquire(): boolean {
    if (this.waitersHead !== this.waiters.length || this.closed) return false;
    return this.meter.tryTake(this.clock.now());
  }

  /**
   * Resolves when a permit is granted. Callers are served in arrival order. Rejects with
   * {@link RateLimitExceededError} if `waitersMax` callers already wait, and with
   * {@link OperationAbortedError} if `signal` fires first (the caller then leaves the queue) or the
   * limiter is closed.
   */
  acquire(options?: { signal?: AbortSignal }): Promise<void> {
    const signal = options?.signal;
    if (this.closed) return Promise.reject(new OperationAbortedError('rate limiter acquire', 'RateLimiter closed'));
    if (signal?.aborted === true) return Promise.reject(new OperationAbortedError('rate limiter acquire', signal.reason));
    if (this.waiting === 0 && this.meter.tryTake(this.clock.now())) return Promise.resolve();
    if (this.waiting >= this.waitersMax) {
      return Promise.reject(new RateLimitExceededError(this.getTimeUntilNextPermitMs(), this.waitersMax));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => this.cancelWaiter(waiter, new OperationAbortedError('rate limiter acquire', signal.reason));
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      this.scheduleDrain();
    });
  }

  /**
   * Returns a permit that was taken and not used (say, the request was cancelled before it was
   * sent). The algorithm's own maximum still holds: a full bucket stays full. A waiting caller may
   * be served at once.
   */
  release(): void {
    this.meter.giveBack(this.clock.now());
    if (this.waiting > 0) this.drain();
  }

  /** Permits `tryAcquire` could take right now without waiting (0 while callers are queued). */
  getAvailable(): number {
    if (this.waiting > 0 || this.closed) return 0;
    return this.meter.available(this.clock.now());
  }

  /**
   * Ms until `tryAcquire` can next succeed: 0 if a permit is free now. While callers are queued in
   * `acquire`, an estimate that assumes they are served at the sustained rate.
   */
  getTimeUntilNextPermitMs(): number {
    const ownWaitMs = this.meter.waitMs(this.clock.now());
    return this.waiting === 0 ? ownWaitMs : ownWaitMs + (this.waiting * 1000) / this.requestsPerSecond;
  }

  /** {@link getTimeUntilNextPermitMs} in whole seconds, at least 1: the value of an HTTP `Retry-After` header. */
  getRetryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.getTimeUntilNextPermitMs() / 1000));
  }

  /** Rejects every waiting caller with {@link OperationAbortedError}; later calls are refused. */
  close(): void {
    this.closed = true;
    if (this.drainTimer !== undefined) this.clock.clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    while (this.waiting > 0) this.cancelWaiter(this.waiters[this.waitersHead]!, new OperationAbortedError('rate limiter acquire', 'RateLimiter closed'));
  }

  private scheduleDrain(): void {
    if (this.drainTimer !== undefined || this.waiting === 0) return;
    // Called only after the meter refused a permit at this instant, so waiting is right. Whole ms,
    // at least 1: a float remainder must never schedule a timer at the same instant forever.
    const delayMs = Math.max(1, Math.ceil(this.meter.waitMs(this.clock.now())));
    this.drainTimer = this.clock.setTimeout(() => {
      this.drainTimer = undefined;
      this.drain();
    }, delayMs);
  }

  // Grants permits to the head of the queue while the meter allows, then waits for the next one.
  private drain(): void {
    const nowMs = this.clock.now();
    while (this.waiting > 0 && this.meter.tryTake(nowMs)) {
      const waiter = this.shiftWaiter();
      waiter.resolve();
    }
    if (this.waiting === 0 && this.drainTimer !== undefined) {
      this.clock.clearTimeout(this.drainTimer);
      this.drainTimer = undefined;
    }
    this.scheduleDrain();
  }

  private shiftWaiter(): Waiter {
    const waiter = this.waiters[this.waitersHead]!;
    this.waiters[this.waitersHead] = undefined as unknown as Waiter;
    this.waitersHead++;
    if (this.waitersHead === this.waiters.length) {
      this.waiters = [];
      this.waitersHead = 0;
    } else if (this.waitersHead > 1024 && this.waitersHead * 2 > this.waiters.length) {
      this.waiters = this.waiters.slice(this.waitersHead);
      this.waitersHead = 0;
    }
    if (waiter.onAbort !== undefined) waiter.signal!.removeEventListener('abort', waiter.onAbort);
    return waiter;
  }

  private cancelWaiter(waiter: Waiter, error: unknown): void {
    const index = this.waiters.indexOf(waiter, this.waitersHead);
    if (index < 0) return;
    if (index === this.waitersHead) this.shiftWaiter();
    else {
      this.waiters.splice(index, 1);
      if (waiter.onAbort !== undefined) waiter.signal!.removeEventListener('abort', waiter.onAbort);
    }
    waiter.reject(error);
    if (this.waiting === 0 && this.drainTimer !== undefined) {
      this.clock.clearTimeout(this.drainTimer);
      this.drainTimer = undefined;
    }
  }
}
