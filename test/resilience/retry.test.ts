import { describe, expect, it, vi } from 'vitest';
import {
  computeRetryDelays,
  InvalidResilienceConfigError,
  OperationAbortedError,
  ResilienceError,
  RetryExecutor,
  type RetryStrategy,
} from '../../src/resilience/index.js';
import { VirtualClock } from '../../src/util/clock.js';
import { Prng } from '../../src/util/prng.js';
import { isRaftwireError } from '../../src/core/errors.js';
import { advance, flush, runUntilSettled, track } from './helpers.js';

class TransientError extends Error {}
class FatalError extends Error {}
const codeError = (code: string): Error => Object.assign(new Error(code), { code });

/** An op that fails with `errors[i]` on attempt i+1 and then succeeds, recording when it ran. */
function scripted(clock: VirtualClock, errors: unknown[], value = 'ok') {
  const calls: number[] = [];
  const op = (attempt: number) => {
    calls.push(clock.now());
    expect(attempt).toBe(calls.length);
    if (attempt <= errors.length) return Promise.reject(errors[attempt - 1]);
    return Promise.resolve(value);
  };
  return { op, calls };
}

describe('computeRetryDelays: each strategy without jitter', () => {
  const base = { initialDelayMs: 100, maxDelayMs: 1000, jitter: false, maxRetries: 8 } as const;
  const cases: [RetryStrategy, number[]][] = [
    ['fixed', [100, 100, 100, 100, 100, 100, 100, 100]],
    ['linear', [100, 200, 300, 400, 500, 600, 700, 800]],
    ['exponentialBackoff', [100, 200, 400, 800, 1000, 1000, 1000, 1000]],
    ['fibonacci', [100, 100, 200, 300, 500, 800, 1000, 1000]],
  ];
  for (const [strategy, expected] of cases) {
    it(strategy, () => {
      expect(computeRetryDelays({ ...base, strategy })).toEqual(expected);
    });
  }

  it('exponentialBackoff follows backoffMultiplier and the cap', () => {
    expect(computeRetryDelays({ ...base, strategy: 'exponentialBackoff', backoffMultiplier: 3, maxDelayMs: 5000, maxRetries: 5 })).toEqual([100, 300, 900, 2700, 5000]);
    expect(computeRetryDelays({ ...base, strategy: 'exponentialBackoff', backoffMultiplier: 1, maxRetries: 3 })).toEqual([100, 100, 100]);
  });

  it('stays at the cap (no overflow to Infinity or NaN) after very many retries', () => {
    for (const strategy of ['linear', 'exponentialBackoff', 'fibonacci'] as const) {
      const delays = computeRetryDelays({ ...base, strategy, maxRetries: 3000 });
      expect(delays[2999]).toBe(1000);
      expect(delays.every((d) => Number.isFinite(d) && d <= 1000)).toBe(true);
    }
  });

  it('a zero initial delay gives zero waits', () => {
    expect(computeRetryDelays({ initialDelayMs: 0, maxDelayMs: 0, jitter: false, maxRetries: 3 })).toEqual([0, 0, 0]);
  });
});

describe('computeRetryDelays: jitter bounds', () => {
  for (const strategy of ['fixed', 'linear', 'exponentialBackoff', 'fibonacci'] as const) {
    it(`${strategy}: every jittered wait lies in (base * (1 - ratio), base]`, () => {
      const prng = new Prng(11);
      for (const jitterRatio of [0.5, 1, 0.1]) {
        const config = { strategy, initialDelayMs: 50, maxDelayMs: 2000, maxRetries: 12 } as const;
        const plain = computeRetryDelays({ ...config, jitter: false });
        for (let run = 0; run < 50; run++) {
          const jittered = computeRetryDelays({ ...config, jitter: true, jitterRatio, random: () => prng.next() });
          jittered.forEach((d, i) => {
            expect(d).toBeLessThanOrEqual(plain[i]!);
            expect(d).toBeGreaterThan(plain[i]! * (1 - jitterRatio));
          });
        }
      }
    });
  }

  it('uses the injected random: 0 gives the base wait, values near 1 the lower bound', () => {
    const config = { strategy: 'linear', initialDelayMs: 100, maxRetries: 3, jitterRatio: 0.5 } as const;
    expect(computeRetryDelays({ ...config, random: () => 0 })).toEqual([100, 200, 300]);
    expect(computeRetryDelays({ ...config, random: () => 0.5 })).toEqual([75, 150, 225]);
  });
});

describe('RetryExecutor.execute', () => {
  it('returns at once, with attempts 1, when the first attempt succeeds', async () => {
    const clock = new VirtualClock();
    const retry = new RetryExecutor({ clock });
    await expect(retry.execute(() => 42)).resolves.toEqual({ value: 42, attempts: 1, totalDelayMs: 0 });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('waits the computed delays on the clock between attempts and reports them', async () => {
    const clock = new VirtualClock(1000);
    const retry = new RetryExecutor({ clock, initialDelayMs: 100, jitter: false });
    const { op, calls } = scripted(clock, [new TransientError('a'), new TransientError('b'), new TransientError('c')]);
    const result = await runUntilSettled(clock, retry.execute(op));
    expect(result).toEqual({ value: 'ok', attempts: 4, totalDelayMs: 700 });
    expect(calls).toEqual([1000, 1100, 1300, 1700]);
  });

  it('does not retry before the delay has passed', async () => {
    const clock = new VirtualClock();
    const retry = new RetryExecutor({ clock, initialDelayMs: 100, jitter: false });
    const { op, calls } = scripted(clock, [new TransientError()]);
    const state = track(retry.execute(op));
    await advance(clock, 99);
    expect(calls).toEqual([0]);
    expect(state.settled).toBe(false);
    await advance(clock, 1);
    expect(calls).toEqual([0, 100]);
    expect(state.value).toEqual({ value: 'ok', attempts: 2, totalDelayMs: 100 });
  });

  it('rejects with the last error, unchanged, once maxRetries retries are spent', async () => {
    const clock = new VirtualClock();
    const retry = new RetryExecutor({ clock, maxRetries: 2, jitter: false });
    const errors = [new TransientError('1'), new TransientError('2'), new TransientError('3'), new TransientError('4')];
    const { op, calls } = scripted(clock, errors);
    await expect(runUntilSettled(clock, retry.execute(op))).rejects.toBe(errors[2]);
    expect(calls.length).toBe(3);
  });

  it('maxRetries 0 tries exactly once', async () => {
    const clock = new VirtualClock();
    const retry = new RetryExecutor({ clock, maxRetries: 0 });
    const err = new TransientError();
    const { op, calls } = scripted(clock, [err]);
    await expect(retry.execute(op)).rejects.toBe(err);
    expect(calls.length).toBe(1);
  });

  it('never retries an error that is not retryable (classes, codes, names, predicates)', async () => {
    const clock = new VirtualClock();
    const retry = new RetryExecutor({ clock, retryableErrors: [TransientError, 'ECONNRESET', (e) => e === 'weird'] });
    expect(retry.isRetryable(new TransientError())).toBe(true);
    expect(retry.isRetryable(codeError('ECONNRESET'))).toBe(true);
    expect(retry.isRetryable('weird')).toBe(true);
    expect(retry.isRetryable(new FatalError())).toBe(false);
    expect(retry.isRetryable(codeError('EACCES'))).toBe(false);
    expect(retry.isRetryable(null)).toBe(false);

    const fatal = new FatalError('no');
    const { op, calls } = scripted(clock, [new TransientError(), codeError('ECONNRESET'), fatal]);
    await expect(runUntilSettled(clock, retry.execute(op))).rejects.toBe(fatal);
    expect(calls.length).toBe(3);
  });

  it('accepts a single predicate as retryableErrors, and an empty list retries nothing', async () => {
    const clock = new VirtualClock();
    const byPredicate = new RetryExecutor({ clock, retryableErrors: (e) => e instanceof TransientError && e.message === 'again' });
    expect(byPredicate.isRetryable(new TransientError('again'))).toBe(true);
    expect(byPredicate.isRetryable(new TransientError('other'))).toBe(false);
    const none = new RetryExecutor({ clock, retryableErrors: [] });
    const err = new TransientError();
    const { op, calls } = scripted(clock, [err]);
    await expect(none.execute(op)).rejects.toBe(err);
    expect(calls.length).toBe(1);
  });

  it('by default retries every error except an abort', () => {
    const retry = new RetryExecutor();
    expect(retry.isRetryable(new Error('x'))).toBe(true);
    expect(retry.isRetryable(new OperationAbortedError('x', undefined))).toBe(false);
  });

  it('calls onRetry with the error, the failed attempt number and the delay', async () => {
    const clock = new VirtualClock();
    const onRetry = vi.fn();
    const errors = [new TransientError('a'), new TransientError('b')];
    const retry = new RetryExecutor({ clock, onRetry, strategy: 'linear', initialDelayMs: 10, jitter: false });
    const { op } = scripted(clock, errors);
    await runUntilSettled(clock, retry.execute(op));
    expect(onRetry.mock.calls).toEqual([
      [errors[0], 1, 10],
      [errors[1], 2, 20],
    ]);
  });

  it('uses the injected random for jitter, so a run replays exactly', async () => {
    const run = async () => {
      const clock = new VirtualClock();
      const prng = new Prng(5);
      const retry = new RetryExecutor({ clock, random: () => prng.next(), maxRetries: 4 });
      const { op, calls } = scripted(clock, [1, 2, 3, 4].map((i) => new TransientError(String(i))));
      const result = await runUntilSettled(clock, retry.execute(op));
      return { result, calls };
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a.result.totalDelayMs).toBeLessThan(100 + 200 + 400 + 800);
    expect(a.result.totalDelayMs).toBeGreaterThan((100 + 200 + 400 + 800) / 2);
  });

  it('an abort during the wait rejects at once with OperationAbortedError and leaves no timer', async () => {
    const clock = new VirtualClock();
    const retry = new RetryExecutor({ clock, initialDelayMs: 1000, jitter: false });
    const controller = new AbortController();
    const { op, calls } = scripted(clock, [new TransientError()]);
    const state = track(retry.execute(op, { signal: controller.signal }));
    await flush();
    expect(clock.pendingTimers()).toBe(1);
    controller.abort('shutting down');
    await flush();
    expect(state.error).toBeInstanceOf(OperationAbortedError);
    expect((state.error as OperationAbortedError).code).toBe('RESILIENCE_ERR_ABORTED');
    expect((state.error as OperationAbortedError).cause).toBe('shutting down');
    expect(clock.pendingTimers()).toBe(0);
    expect(calls.length).toBe(1);
  });

  it('does not start when the signal has already fired, and passes the signal to the op', async () => {
    const retry = new RetryExecutor({ clock: new VirtualClock() });
    const op = vi.fn(() => 1);
    await expect(retry.execute(op, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(OperationAbortedError);
    expect(op).not.toHaveBeenCalled();
    const controller = new AbortController();
    await retry.execute(op, { signal: controller.signal });
    expect(op).toHaveBeenCalledWith(1, controller.signal);
  });

  it('reports the abort, not the op error, when the op fails because the signal fired', async () => {
    const clock = new VirtualClock();
    const retry = new RetryExecutor({ clock });
    const controller = new AbortController();
    const op = (_attempt: number, signal: AbortSignal | undefined) =>
      new Promise<never>((_, reject) => signal!.addEventListener('abort', () => reject(new TransientError('cancelled'))));
    const state = track(retry.execute(op, { signal: controller.signal }));
    await flush();
    controller.abort();
    await flush();
    expect(state.error).toBeInstanceOf(OperationAbortedError);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('retries a synchronous throw the same way as a rejection', async () => {
    const clock = new VirtualClock();
    const retry = new RetryExecutor({ clock, jitter: false });
    let n = 0;
    const result = await runUntilSettled(
      clock,
      retry.execute(() => {
        if (++n < 3) throw new TransientError();
        return 'done';
      }),
    );
    expect(result).toEqual({ value: 'done', attempts: 3, totalDelayMs: 300 });
  });
});

describe('RetryConfig validation', () => {
  const bad: [string, object, RegExp][] = [
    ['negative maxRetries', { maxRetries: -1 }, /maxRetries must be an integer/],
    ['fractional maxRetries', { maxRetries: 1.5 }, /maxRetries must be an integer/],
    ['NaN initialDelayMs', { initialDelayMs: NaN }, /initialDelayMs must be a finite number >= 0, got NaN/],
    ['negative maxDelayMs', { maxDelayMs: -5 }, /maxDelayMs/],
    ['initial above max', { initialDelayMs: 500, maxDelayMs: 100 }, /initialDelayMs \(500\) must not exceed maxDelayMs \(100\)/],
    ['unknown strategy', { strategy: 'random' }, /strategy must be one of 'fixed', 'linear', 'exponentialBackoff', 'fibonacci'/],
    ['multiplier below 1', { backoffMultiplier: 0.5 }, /backoffMultiplier must be a finite number >= 1/],
    ['jitterRatio above 1', { jitterRatio: 2 }, /jitterRatio must be in \[0, 1\]/],
    ['bad matcher', { retryableErrors: [42] }, /retryableErrors entry/],
  ];
  for (const [what, config, message] of bad) {
    it(`rejects ${what} with a typed error that says the fix`, () => {
      let caught: unknown;
      try {
        new RetryExecutor(config as never);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(InvalidResilienceConfigError);
      expect(caught).toBeInstanceOf(ResilienceError);
      expect((caught as InvalidResilienceConfigError).code).toBe('RESILIENCE_ERR_INVALID_CONFIG');
      expect((caught as Error).name).toBe('InvalidResilienceConfigError');
      expect((caught as Error).message).toMatch(message);
      expect(isRaftwireError(caught)).toBe(true);
    });
  }

  it('a large initialDelayMs alone raises the default cap instead of failing', () => {
    expect(computeRetryDelays({ initialDelayMs: 20_000, jitter: false, maxRetries: 2 })).toEqual([20_000, 20_000]);
  });
});

describe('RetryExecutor defaults', () => {
  it('are the documented ones: 3 retries, 100 ms doubling up to 10 s, with jitter', () => {
    const retry = new RetryExecutor();
    expect(retry.maxRetries).toBe(3);
    expect(retry.delayConfig).toEqual({ initialDelayMs: 100, maxDelayMs: 10_000, strategy: 'exponentialBackoff', backoffMultiplier: 2, jitter: true, jitterRatio: 0.5 });
  });
});

describe('retryableErrors typing', () => {
  it('accepts classes whose constructors take arguments, including abstract ones', () => {
    class WithArgs extends Error {
      constructor(
        readonly peer: string,
        readonly attempt: number,
      ) {
        super(`${peer}#${attempt}`);
      }
    }
    abstract class Transient extends Error {}
    class Concrete extends Transient {}
    const retry = new RetryExecutor({ retryableErrors: [WithArgs, Transient, TypeError] });
    expect(retry.isRetryable(new WithArgs('n2', 1))).toBe(true);
    expect(retry.isRetryable(new Concrete())).toBe(true);
    expect(retry.isRetryable(new TypeError())).toBe(true);
    expect(retry.isRetryable(new RangeError())).toBe(false);
  });
});
