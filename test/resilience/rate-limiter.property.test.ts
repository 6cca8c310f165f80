import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimiter, type RateLimiterAlgorithm } from '../../src/resilience/index.js';
import { VirtualClock } from '../../src/util/clock.js';
import { flush, propertyRuns } from './helpers.js';

// A run: at each step the clock moves by `advanceMs` (integer or fractional), then `tries` callers
// call tryAcquire; optionally some callers queue in acquire(). Every admission time is recorded
// and checked against the bound of the algorithm over every window that starts at an admission.

const step = fc.record({
  advanceMs: fc.oneof(fc.integer({ min: 0, max: 400 }), fc.double({ min: 0, max: 50, noNaN: true })),
  tries: fc.integer({ min: 0, max: 30 }),
  waiters: fc.integer({ min: 0, max: 3 }),
});

const params = fc.record({
  requestsPerSecond: fc.oneof(fc.integer({ min: 1, max: 500 }), fc.double({ min: 0.5, max: 200, noNaN: true })),
  burstSize: fc.integer({ min: 1, max: 20 }),
  windowMs: fc.integer({ min: 100, max: 3000 }),
});

const eps = 1e-6;

function checkBound(algorithm: RateLimiterAlgorithm, limiter: RateLimiter, times: number[]): void {
  const rate = limiter.requestsPerSecond;
  const sorted = [...times].sort((a, b) => a - b);
  switch (algorithm) {
    case 'tokenBucket':
      // Any closed interval [t, t + W]: at most burst + W * rate / 1000.
      // (Plain comparisons in the O(n^2) loop; expect() only on the first violation.)
      for (let i = 0; i < sorted.length; i++) {
        for (let j = i; j < sorted.length; j++) {
          const windowMs = sorted[j]! - sorted[i]!;
          const allowed = Math.floor(limiter.burstSize + (windowMs * rate) / 1000 + eps);
          if (j - i + 1 > allowed) expect({ from: sorted[i], to: sorted[j], admitted: j - i + 1 }).toEqual({ from: sorted[i], to: sorted[j], admitted: allowed });
        }
      }
      break;
    case 'leakyBucket':
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThanOrEqual(1000 / rate - eps);
      break;
    case 'fixedWindow': {
      const perWindow = new Map<number, number>();
      for (const t of sorted) {
        const k = Math.floor(t / limiter.windowMs);
        perWindow.set(k, (perWindow.get(k) ?? 0) + 1);
      }
      for (const count of perWindow.values()) expect(count).toBeLessThanOrEqual(limiter.windowLimit());
      break;
    }
    case 'slidingWindow': {
      // Any half-open [t, t + windowMs): at most the quota.
      let lo = 0;
      for (let hi = 0; hi < sorted.length; hi++) {
        while (sorted[hi]! - sorted[lo]! >= limiter.windowMs) lo++;
        expect(hi - lo + 1).toBeLessThanOrEqual(limiter.windowLimit());
      }
      break;
    }
  }
}

describe.each(['tokenBucket', 'leakyBucket', 'fixedWindow', 'slidingWindow'] as const)('RateLimiter %s (property)', (algorithm) => {
  it('never admits more than the algorithm allows over any window, with tryAcquire and acquire mixed', async () => {
    await fc.assert(
      fc.asyncProperty(params, fc.array(step, { minLength: 1, maxLength: 60 }), async (p, steps) => {
        // A window shorter than one permit is a config error (tested elsewhere), not a run.
        if (algorithm === 'fixedWindow' || algorithm === 'slidingWindow') fc.pre((p.requestsPerSecond * p.windowMs) / 1000 >= 1);
        const clock = new VirtualClock(0);
        const limiter = new RateLimiter({ ...p, algorithm, clock, waitersMax: 8 });
        const times: number[] = [];
        const pending: Promise<unknown>[] = [];
        for (const s of steps) {
          // Move time timer by timer so a granted waiter is recorded at the time it was granted.
          const targetMs = clock.now() + s.advanceMs;
          while ((clock.nextTimerAt() ?? Infinity) <= targetMs) {
            clock.runNext();
            await flush();
          }
          clock.advanceTo(targetMs);
          for (let i = 0; i < s.tries; i++) if (limiter.tryAcquire()) times.push(clock.now());
          for (let i = 0; i < s.waiters; i++) {
            pending.push(limiter.acquire().then(() => times.push(clock.now()), () => undefined));
          }
          await flush();
        }
        limiter.close();
        await Promise.all(pending);
        checkBound(algorithm, limiter, times);
      }),
      { numRuns: propertyRuns(150) },
    );
  });
});
