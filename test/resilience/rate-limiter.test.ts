import { describe, expect, it } from 'vitest';
import {
  InvalidResilienceConfigError,
  OperationAbortedError,
  RateLimiter,
  RateLimitExceededError,
  type RateLimiterConfig,
} from '../../src/resilience/index.js';
import { VirtualClock } from '../../src/util/clock.js';
import { advance, flush, track } from './helpers.js';

/** Calls tryAcquire `n` times and counts the admissions. */
function burst(limiter: RateLimiter, n: number): number {
  let admitted = 0;
  for (let i = 0; i < n; i++) if (limiter.tryAcquire()) admitted++;
  return admitted;
}

function make(config: RateLimiterConfig, startMs = 0): { clock: VirtualClock; limiter: RateLimiter } {
  const clock = new VirtualClock(startMs);
  return { clock, limiter: new RateLimiter({ ...config, clock }) };
}

describe('RateLimiter tokenBucket', () => {
  it('admits a full burst at once, then refills at the rate, never above the burst', () => {
    const { clock, limiter } = make({ algorithm: 'tokenBucket', requestsPerSecond: 10, burstSize: 5 });
    expect(limiter.getAvailable()).toBe(5);
    expect(burst(limiter, 100)).toBe(5);
    expect(limiter.getAvailable()).toBe(0);
    expect(limiter.getTimeUntilNextPermitMs()).toBe(100);
    clock.advance(99);
    expect(burst(limiter, 100)).toBe(0);
    clock.advance(1);
    expect(burst(limiter, 100)).toBe(1);
    clock.advance(350);
    expect(limiter.getAvailable()).toBe(3);
    expect(burst(limiter, 100)).toBe(3);
    clock.advance(60_000);
    expect(limiter.getAvailable()).toBe(5);
  });

  it('admits burst + rate * T over T ms of steady pressure', () => {
    const { clock, limiter } = make({ algorithm: 'tokenBucket', requestsPerSecond: 100, burstSize: 10 });
    let admitted = 0;
    for (let t = 0; t < 1000; t++) {
      admitted += burst(limiter, 5);
      clock.advance(1);
    }
    // 10 at t=0, then one every 10 ms for t in [10, 990].
    expect(admitted).toBe(10 + 99);
  });
});

describe('RateLimiter leakyBucket', () => {
  it('lets requests out one every 1000/rate ms, never in a burst', () => {
    const { clock, limiter } = make({ algorithm: 'leakyBucket', requestsPerSecond: 20, burstSize: 5 });
    expect(burst(limiter, 100)).toBe(1);
    expect(limiter.getTimeUntilNextPermitMs()).toBe(50);
    clock.advance(49);
    expect(burst(limiter, 100)).toBe(0);
    clock.advance(1);
    expect(burst(limiter, 100)).toBe(1);
    // Idle time does not build up a burst.
    clock.advance(10_000);
    expect(limiter.getAvailable()).toBe(1);
    expect(burst(limiter, 100)).toBe(1);
  });

  it('queues up to burstSize callers and serves them at the steady rate', async () => {
    const { clock, limiter } = make({ algorithm: 'leakyBucket', requestsPerSecond: 10, burstSize: 3 });
    expect(limiter.waitersMax).toBe(3);
    const granted: number[] = [];
    const first = limiter.acquire().then(() => granted.push(clock.now()));
    const queued = [1, 2, 3].map(() => limiter.acquire().then(() => granted.push(clock.now())));
    const overflow = track(limiter.acquire());
    await flush();
    expect(overflow.error).toBeInstanceOf(RateLimitExceededError);
    expect((overflow.error as RateLimitExceededError).code).toBe('RESILIENCE_ERR_RATE_LIMITED');
    for (let i = 0; i < 4; i++) await advance(clock, 100);
    await Promise.all([first, ...queued]);
    expect(granted).toEqual([0, 100, 200, 300]);
  });
});

describe('RateLimiter fixedWindow', () => {
  it('admits the quota per aligned window and resets at the boundary', () => {
    const { clock, limiter } = make({ algorithm: 'fixedWindow', requestsPerSecond: 5, windowMs: 1000 }, 500);
    expect(burst(limiter, 100)).toBe(5);
    expect(limiter.getTimeUntilNextPermitMs()).toBe(500);
    clock.advance(499);
    expect(burst(limiter, 100)).toBe(0);
    clock.advance(1); // t = 1000: a new window
    expect(burst(limiter, 100)).toBe(5);
  });

  it('scales the quota with windowMs', () => {
    const { limiter } = make({ algorithm: 'fixedWindow', requestsPerSecond: 100, windowMs: 50 });
    expect(limiter.windowLimit()).toBe(5);
    expect(burst(limiter, 100)).toBe(5);
  });
});

describe('RateLimiter slidingWindow', () => {
  it('admits the quota in any window of windowMs, freeing each permit windowMs after it was taken', () => {
    const { clock, limiter } = make({ algorithm: 'slidingWindow', requestsPerSecond: 4, windowMs: 1000 });
    expect(burst(limiter, 2)).toBe(2); // t=0
    clock.advance(600);
    expect(burst(limiter, 10)).toBe(2); // t=600
    clock.advance(399);
    expect(burst(limiter, 10)).toBe(0); // t=999
    expect(limiter.getTimeUntilNextPermitMs()).toBe(1);
    clock.advance(1);
    expect(burst(limiter, 10)).toBe(2); // t=1000: the two from t=0 expired
    clock.advance(599);
    expect(burst(limiter, 10)).toBe(0); // t=1599
    clock.advance(1);
    expect(burst(limiter, 10)).toBe(2); // t=1600
  });

  it('unlike a fixed window, does not admit twice the quota across a boundary', () => {
    const sliding = make({ algorithm: 'slidingWindow', requestsPerSecond: 10 }, 900);
    const fixed = make({ algorithm: 'fixedWindow', requestsPerSecond: 10 }, 900);
    const admittedSliding = burst(sliding.limiter, 20);
    const admittedFixed = burst(fixed.limiter, 20);
    sliding.clock.advance(100);
    fixed.clock.advance(100);
    expect(admittedSliding + burst(sliding.limiter, 20)).toBe(10);
    expect(admittedFixed + burst(fixed.limiter, 20)).toBe(20);
  });
});

describe('RateLimiter.acquire', () => {
  it('resolves at once when a permit is free, otherwise when the clock reaches it, in arrival order', async () => {
    const { clock, limiter } = make({ algorithm: 'tokenBucket', requestsPerSecond: 10, burstSize: 1 });
    const order: string[] = [];
    await limiter.acquire();
    const a = limiter.acquire().then(() => order.push(`a@${clock.now()}`));
    const b = limiter.acquire().then(() => order.push(`b@${clock.now()}`));
    const c = limiter.acquire().then(() => order.push(`c@${clock.now()}`));
    expect(limiter.waiting).toBe(3);
    expect(limiter.tryAcquire()).toBe(false);
    expect(limiter.getAvailable()).toBe(0);
    await advance(clock, 99);
    expect(order).toEqual([]);
    await advance(clock, 1);
    expect(order).toEqual(['a@100']);
    // A waiter is never overtaken by tryAcquire, even once a permit is free.
    await advance(clock, 100);
    await advance(clock, 100);
    await Promise.all([a, b, c]);
    expect(order).toEqual(['a@100', 'b@200', 'c@300']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('an aborted waiter leaves the queue, the next one is served in its place, and no timer is left', async () => {
    const { clock, limiter } = make({ algorithm: 'fixedWindow', requestsPerSecond: 1 });
    expect(limiter.tryAcquire()).toBe(true);
    const controller = new AbortController();
    const first = track(limiter.acquire({ signal: controller.signal }));
    const second = track(limiter.acquire());
    controller.abort('gone');
    await flush();
    expect(first.error).toBeInstanceOf(OperationAbortedError);
    expect((first.error as OperationAbortedError).cause).toBe('gone');
    expect(limiter.waiting).toBe(1);
    await advance(clock, 1000);
    expect(second.settled).toBe(true);
    expect(second.error).toBeUndefined();
    expect(clock.pendingTimers()).toBe(0);

    const lone = track(limiter.acquire({ signal: AbortSignal.abort() }));
    await flush();
    expect(lone.error).toBeInstanceOf(OperationAbortedError);
  });

  it('refuses callers past waitersMax with a typed error carrying the wait', async () => {
    const { limiter } = make({ algorithm: 'tokenBucket', requestsPerSecond: 1, burstSize: 1, waitersMax: 2 });
    limiter.tryAcquire();
    const queued = [track(limiter.acquire()), track(limiter.acquire())];
    const refused = track(limiter.acquire());
    await flush();
    expect(refused.error).toBeInstanceOf(RateLimitExceededError);
    expect((refused.error as RateLimitExceededError).retryAfterMs).toBe(3000);
    limiter.close();
    await flush();
    for (const q of queued) expect(q.error).toBeInstanceOf(OperationAbortedError);
  });

  it('close() rejects every waiter and later calls, and cancels the timer', async () => {
    const { clock, limiter } = make({ requestsPerSecond: 1, burstSize: 1 });
    limiter.tryAcquire();
    const waiting = [track(limiter.acquire()), track(limiter.acquire())];
    limiter.close();
    await flush();
    for (const w of waiting) expect(w.error).toBeInstanceOf(OperationAbortedError);
    expect(clock.pendingTimers()).toBe(0);
    await expect(limiter.acquire()).rejects.toBeInstanceOf(OperationAbortedError);
    expect(limiter.tryAcquire()).toBe(false);
  });
});

describe('RateLimiter.release and Retry-After', () => {
  it('release returns an unused permit but never overfills', () => {
    const { limiter } = make({ algorithm: 'tokenBucket', requestsPerSecond: 1, burstSize: 2 });
    expect(burst(limiter, 5)).toBe(2);
    limiter.release();
    expect(limiter.getAvailable()).toBe(1);
    limiter.release();
    limiter.release();
    expect(limiter.getAvailable()).toBe(2);
  });

  for (const algorithm of ['leakyBucket', 'fixedWindow', 'slidingWindow'] as const) {
    it(`${algorithm}: release makes one more permit available now`, () => {
      const { limiter } = make({ algorithm, requestsPerSecond: 3 });
      while (limiter.tryAcquire());
      expect(limiter.getAvailable()).toBe(0);
      limiter.release();
      expect(limiter.tryAcquire()).toBe(true);
      expect(limiter.tryAcquire()).toBe(false);
    });
  }

  it('release serves a waiting caller at once', async () => {
    const { limiter } = make({ algorithm: 'fixedWindow', requestsPerSecond: 1 });
    limiter.tryAcquire();
    const waiter = track(limiter.acquire());
    limiter.release();
    await flush();
    expect(waiter.settled).toBe(true);
  });

  it('getRetryAfterSeconds rounds up and is at least 1', () => {
    const { clock, limiter } = make({ algorithm: 'fixedWindow', requestsPerSecond: 2, windowMs: 5000 });
    while (limiter.tryAcquire());
    expect(limiter.getTimeUntilNextPermitMs()).toBe(5000);
    expect(limiter.getRetryAfterSeconds()).toBe(5);
    clock.advance(4500);
    expect(limiter.getRetryAfterSeconds()).toBe(1);
    clock.advance(500);
    expect(limiter.getTimeUntilNextPermitMs()).toBe(0);
  });
});

describe('RateLimiterConfig validation', () => {
  const bad: [string, RateLimiterConfig, RegExp][] = [
    ['zero rate', { requestsPerSecond: 0 }, /requestsPerSecond must be a finite number/],
    ['NaN rate', { requestsPerSecond: NaN }, /requestsPerSecond .* got NaN/],
    ['zero burst', { burstSize: 0 }, /burstSize must be an integer in \[1,/],
    ['fractional burst', { burstSize: 2.5 }, /burstSize/],
    ['unknown algorithm', { algorithm: 'gcra' as never }, /algorithm must be one of 'tokenBucket', 'leakyBucket', 'slidingWindow', 'fixedWindow'/],
    ['window below one permit', { algorithm: 'fixedWindow', requestsPerSecond: 1, windowMs: 10 }, /raise windowMs to at least 1000/],
    ['huge sliding window', { algorithm: 'slidingWindow', requestsPerSecond: 1e9 }, /lower windowMs or use 'tokenBucket'/],
    ['negative waitersMax', { waitersMax: -1 }, /waitersMax/],
  ];
  for (const [what, config, message] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => new RateLimiter(config)).toThrow(InvalidResilienceConfigError);
      expect(() => new RateLimiter(config)).toThrow(message);
    });
  }
});

describe('RateLimiter defaults', () => {
  it('are the documented ones: token bucket, 100 per second, bursts of 10', () => {
    const limiter = new RateLimiter({ clock: new VirtualClock() });
    expect([limiter.algorithm, limiter.requestsPerSecond, limiter.burstSize, limiter.windowMs, limiter.waitersMax]).toEqual(['tokenBucket', 100, 10, 1000, 1024]);
    expect(burst(limiter, 100)).toBe(10);
  });
});
