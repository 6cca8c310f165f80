import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type CircuitBreakerConfig, CircuitOpenError, type CircuitState, InvalidResilienceConfigError } from '../../src/resilience/index.js';
import { VirtualClock } from '../../src/util/clock.js';
import { isRaftwireError } from '../../src/core/errors.js';
import { flush } from './helpers.js';

const ok = () => Promise.resolve('ok');
const fail = () => Promise.reject(new Error('peer down'));

function make(config: CircuitBreakerConfig = {}) {
  const clock = new VirtualClock(1000);
  const changes: string[] = [];
  const breaker = new CircuitBreaker({
    failureThreshold: 3,
    successThreshold: 2,
    timeoutMs: 500,
    halfOpenMaxCalls: 2,
    ...config,
    clock,
    onStateChange: (from: CircuitState, to: CircuitState) => changes.push(`${from}->${to}`),
  });
  return { clock, breaker, changes };
}

async function failTimes(breaker: CircuitBreaker, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await expect(breaker.execute(fail)).rejects.toThrow('peer down');
}

/** An operation whose outcome the test decides later. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('CircuitBreaker transitions', () => {
  it('closed: passes results and errors through and opens after failureThreshold consecutive failures', async () => {
    const { breaker, changes } = make();
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    await failTimes(breaker, 2);
    expect(breaker.getState()).toBe('closed');
    await failTimes(breaker, 1);
    expect(breaker.getState()).toBe('open');
    expect(changes).toEqual(['closed->open']);
  });

  it('closed: a success resets the count of consecutive failures', async () => {
    const { breaker } = make();
    await failTimes(breaker, 2);
    await breaker.execute(ok);
    await failTimes(breaker, 2);
    expect(breaker.getState()).toBe('closed');
    expect(breaker.getStats().consecutiveFailures).toBe(2);
  });

  it('open: fails fast with a typed CircuitOpenError without calling the op, until timeoutMs has passed', async () => {
    const { clock, breaker } = make();
    await failTimes(breaker, 3);
    let called = 0;
    const op = () => {
      called++;
      return 'x';
    };
    clock.advance(200);
    const error = await breaker.execute(op).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).code).toBe('RESILIENCE_ERR_CIRCUIT_OPEN');
    expect((error as CircuitOpenError).state).toBe('open');
    expect((error as CircuitOpenError).retryAfterMs).toBe(300);
    expect(isRaftwireError(error)).toBe(true);
    clock.advance(299);
    await expect(breaker.execute(op)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(called).toBe(0);
    expect(breaker.getStats().rejectedCalls).toBe(2);
    clock.advance(1);
    expect(breaker.getState()).toBe('halfOpen');
    await expect(breaker.execute(op)).resolves.toBe('x');
    expect(called).toBe(1);
  });

  it('halfOpen: successThreshold successes close it', async () => {
    const { clock, breaker, changes } = make();
    await failTimes(breaker, 3);
    clock.advance(500);
    await breaker.execute(ok);
    expect(breaker.getState()).toBe('halfOpen');
    await breaker.execute(ok);
    expect(breaker.getState()).toBe('closed');
    expect(changes).toEqual(['closed->open', 'open->halfOpen', 'halfOpen->closed']);
    // Closed again with a clean slate: it takes failureThreshold new failures to open.
    await failTimes(breaker, 2);
    expect(breaker.getState()).toBe('closed');
  });

  it('halfOpen: any failure opens it again for another timeoutMs', async () => {
    const { clock, breaker, changes } = make();
    await failTimes(breaker, 3);
    clock.advance(500);
    await breaker.execute(ok);
    await failTimes(breaker, 1);
    expect(breaker.getState()).toBe('open');
    expect(changes).toEqual(['closed->open', 'open->halfOpen', 'halfOpen->open']);
    clock.advance(499);
    expect(breaker.getState()).toBe('open');
    clock.advance(1);
    expect(breaker.getState()).toBe('halfOpen');
  });

  it('halfOpen: at most halfOpenMaxCalls trial calls in flight; more fail fast', async () => {
    const { clock, breaker } = make({ successThreshold: 3 });
    await failTimes(breaker, 3);
    clock.advance(500);
    const a = deferred<string>();
    const b = deferred<string>();
    const first = breaker.execute(() => a.promise);
    const second = breaker.execute(() => b.promise);
    expect(breaker.getStats().halfOpenInFlight).toBe(2);
    const third = await breaker.execute(ok).catch((e: unknown) => e);
    expect(third).toBeInstanceOf(CircuitOpenError);
    expect((third as CircuitOpenError).state).toBe('halfOpen');
    a.resolve('a');
    await first;
    // A slot is free again.
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    b.resolve('b');
    await second;
    expect(breaker.getState()).toBe('closed');
  });

  it('ignores the outcome of a call that started before the state changed', async () => {
    const { clock, breaker } = make();
    const slow = deferred<string>();
    const slowCall = breaker.execute(() => slow.promise);
    await failTimes(breaker, 3); // opens while the slow call is in flight
    clock.advance(500);
    await breaker.execute(ok); // halfOpen, 1 of 2 successes
    slow.reject(new Error('late failure'));
    await expect(slowCall).rejects.toThrow('late failure');
    expect(breaker.getState()).toBe('halfOpen');
    await breaker.execute(ok);
    expect(breaker.getState()).toBe('closed');
  });

  it('isFailure: errors that do not count pass through without opening the breaker', async () => {
    class NotFound extends Error {}
    const { breaker } = make({ isFailure: (e) => !(e instanceof NotFound) });
    for (let i = 0; i < 10; i++) await expect(breaker.execute(() => Promise.reject(new NotFound()))).rejects.toBeInstanceOf(NotFound);
    expect(breaker.getState()).toBe('closed');
  });

  it('a synchronous throw counts like a rejection', async () => {
    const { breaker } = make({ failureThreshold: 1 });
    await expect(
      breaker.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(breaker.getState()).toBe('open');
  });
});

describe('CircuitBreaker.reset and forceOpen', () => {
  it('forceOpen holds the breaker open past the timeout until reset', async () => {
    const { clock, breaker, changes } = make();
    breaker.forceOpen();
    clock.advance(1_000_000);
    expect(breaker.getState()).toBe('open');
    const error = (await breaker.execute(ok).catch((e: unknown) => e)) as CircuitOpenError;
    expect(error.retryAfterMs).toBe(Infinity);
    breaker.reset();
    expect(breaker.getState()).toBe('closed');
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(changes).toEqual(['closed->open', 'open->closed']);
  });

  it('reset closes an open breaker and clears the counts', async () => {
    const { breaker } = make();
    await failTimes(breaker, 3);
    breaker.reset();
    expect(breaker.getStats()).toMatchObject({ state: 'closed', consecutiveFailures: 0, halfOpenInFlight: 0 });
    await failTimes(breaker, 2);
    expect(breaker.getState()).toBe('closed');
  });

  it('timeoutMs 0 goes half-open on the next call', async () => {
    const { breaker } = make({ timeoutMs: 0, failureThreshold: 1 });
    await failTimes(breaker, 1);
    expect(breaker.getState()).toBe('halfOpen');
    await flush();
  });
});

describe('CircuitBreakerConfig validation', () => {
  const bad: [string, CircuitBreakerConfig, RegExp][] = [
    ['zero failureThreshold', { failureThreshold: 0 }, /failureThreshold must be an integer in \[1,/],
    ['NaN successThreshold', { successThreshold: NaN }, /successThreshold .* got NaN/],
    ['negative timeoutMs', { timeoutMs: -1 }, /timeoutMs must be a finite number >= 0/],
    ['zero halfOpenMaxCalls', { halfOpenMaxCalls: 0 }, /halfOpenMaxCalls/],
    ['non-function isFailure', { isFailure: 3 as never }, /isFailure must be a function/],
  ];
  for (const [what, config, message] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => new CircuitBreaker(config)).toThrow(InvalidResilienceConfigError);
      expect(() => new CircuitBreaker(config)).toThrow(message);
    });
  }

  it('has the documented defaults', () => {
    const breaker = new CircuitBreaker();
    expect([breaker.failureThreshold, breaker.successThreshold, breaker.timeoutMs, breaker.halfOpenMaxCalls]).toEqual([5, 3, 30000, 3]);
  });
});
