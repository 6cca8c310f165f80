/**
 * Retrying an operation with a backoff between attempts. `ReliableNetwork`, `UwsNetwork`'s
 * reconnects and the client all build on {@link RetryExecutor} instead of keeping private copies of
 * the same loop, so every retry in raftwire follows the same rules:
 *
 * - only a retryable error is retried (see {@link RetryConfig.retryableErrors}); any other error
 *   rejects at once, unchanged;
 * - after `maxRetries` retries the last error rejects, unchanged;
 * - the wait between attempts comes from {@link computeRetryDelay}, capped at `maxDelayMs`;
 * - an `AbortSignal` stops the loop at once, even in the middle of a wait.
 *
 * Time comes from an injected {@link Clock} and jitter from an injected `random`, so a test on a
 * `VirtualClock` with a fixed `random` sees exactly the same run every time.
 */
import { type Clock, systemClock } from '../util/clock.js';
import { InvalidResilienceConfigError, OperationAbortedError } from './errors.js';
import { checkBoolean, checkChoice, checkFunction, checkInteger, checkNumber } from './validate.js';
import { waitFor } from './wait.js';

/** How the wait grows from one retry to the next (before the cap and jitter). */
export type RetryStrategy = 'fixed' | 'linear' | 'exponentialBackoff' | 'fibonacci';

export const RETRY_STRATEGIES: readonly RetryStrategy[] = ['fixed', 'linear', 'exponentialBackoff', 'fibonacci'];

/** A class of errors (matched with `instanceof`). */
export type ErrorClass = abstract new (...args: never[]) => Error;

/** Decides whether an error is transient. Must not throw. */
export type RetryPredicate = (error: unknown) => boolean;

/**
 * One way to recognise a retryable error: a class (`instanceof`), a string equal to the error's
 * `code` (e.g. `'ECONNRESET'`, `'TRANSPORT_ERR_TIMEOUT'`) or `name`, or a predicate.
 */
export type RetryableErrorMatcher = ErrorClass | string | RetryPredicate;

/** Options of {@link RetryExecutor}. Every field has a default. */
export interface RetryConfig {
  /** Retries after the first attempt; 0 means try once. Default 3. */
  maxRetries?: number;
  /** Wait before the first retry, in ms. Default 100. */
  initialDelayMs?: number;
  /** No wait is longer than this, in ms. Default 10000 (or `initialDelayMs`, if that is larger). Must be >= `initialDelayMs`. */
  maxDelayMs?: number;
  /** Default `'exponentialBackoff'`. */
  strategy?: RetryStrategy;
  /** Growth factor of `'exponentialBackoff'`: the wait before retry k (0-based) is `initialDelayMs * backoffMultiplier^k`. Default 2; must be >= 1. */
  backoffMultiplier?: number;
  /** Spread each wait at random so that many clients do not retry in lockstep. Default true. */
  jitter?: boolean;
  /** With jitter, a wait `d` becomes a uniform draw in `(d * (1 - jitterRatio), d]`. In [0, 1]; 1 is "full jitter". Default 0.5. */
  jitterRatio?: number;
  /**
   * Which errors are transient. A list (an error is retryable if ANY entry matches) or a single
   * predicate. Default: every error except {@link OperationAbortedError}. An empty list retries nothing.
   */
  retryableErrors?: readonly RetryableErrorMatcher[] | RetryPredicate;
  /** Called before each wait with the error, the 1-based number of the attempt that failed, and the wait in ms. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Default {@link systemClock}. */
  clock?: Clock;
  /** Uniform in [0, 1), for jitter. Default `Math.random`. */
  random?: () => number;
}

/** What {@link RetryExecutor.execute} resolves to. */
export interface RetryResult<T> {
  value: T;
  /** Attempts made, including the one that succeeded (1 if no retry was needed). */
  attempts: number;
  /** Sum of the waits between attempts, in ms. */
  totalDelayMs: number;
}

/** Per-call options of {@link RetryExecutor.execute}. */
export interface RetryExecuteOptions {
  /** Stops the retries: a pending wait ends at once and `execute` rejects with {@link OperationAbortedError}. */
  signal?: AbortSignal;
}

/** The delay-relevant part of {@link RetryConfig}, all fields resolved. */
export interface RetryDelayConfig {
  initialDelayMs: number;
  maxDelayMs: number;
  strategy: RetryStrategy;
  backoffMultiplier: number;
  jitter: boolean;
  jitterRatio: number;
}

/** Upper bound on `maxRetries` (one that can never be reached in practice, but keeps counts exact). */
export const retriesMax = Number.MAX_SAFE_INTEGER;

const owner = 'RetryExecutor';

/** Resolves defaults and validates; throws {@link InvalidResilienceConfigError} with the fix. */
export function resolveRetryConfig(config: RetryConfig = {}): Required<Omit<RetryConfig, 'onRetry' | 'retryableErrors'>> &
  Pick<RetryConfig, 'onRetry' | 'retryableErrors'> {
  const maxRetries = checkInteger(owner, 'maxRetries', config.maxRetries ?? 3, 0, retriesMax);
  const initialDelayMs = checkNumber(owner, 'initialDelayMs', config.initialDelayMs ?? 100);
  const maxDelayMs = checkNumber(owner, 'maxDelayMs', config.maxDelayMs ?? Math.max(10_000, initialDelayMs));
  if (initialDelayMs > maxDelayMs) {
    throw new InvalidResilienceConfigError(`${owner}: initialDelayMs (${initialDelayMs}) must not exceed maxDelayMs (${maxDelayMs}); raise maxDelayMs or lower initialDelayMs`);
  }
  const strategy = checkChoice(owner, 'strategy', config.strategy ?? 'exponentialBackoff', RETRY_STRATEGIES);
  const backoffMultiplier = checkNumber(owner, 'backoffMultiplier', config.backoffMultiplier ?? 2, 1);
  const jitter = checkBoolean(owner, 'jitter', config.jitter ?? true);
  const jitterRatio = checkNumber(owner, 'jitterRatio', config.jitterRatio ?? 0.5);
  if (jitterRatio > 1) throw new InvalidResilienceConfigError(`${owner}: jitterRatio must be in [0, 1], got ${jitterRatio}`);
  const retryableErrors = config.retryableErrors;
  if (retryableErrors !== undefined && typeof retryableErrors !== 'function') {
    if (!Array.isArray(retryableErrors)) {
      throw new InvalidResilienceConfigError(`${owner}: retryableErrors must be a list of error classes, codes or predicates, or one predicate`);
    }
    for (const m of retryableErrors) {
      if (typeof m !== 'string' && typeof m !== 'function') {
        throw new InvalidResilienceConfigError(`${owner}: each retryableErrors entry must be an error class, a code string or a predicate, got ${typeof m}`);
      }
    }
  }
  if (config.onRetry !== undefined) checkFunction(owner, 'onRetry', config.onRetry);
  const clock = config.clock ?? systemClock;
  const random = config.random ?? Math.random;
  checkFunction(owner, 'random', random);
  return { maxRetries, initialDelayMs, maxDelayMs, strategy, backoffMultiplier, jitter, jitterRatio, retryableErrors, onRetry: config.onRetry, clock, random };
}

/**
 * The wait before retry `retryIndex` (0-based: 0 is the wait after the first failed attempt), before
 * jitter, capped at `maxDelayMs`. Pure.
 *
 * - fixed: `initialDelayMs`
 * - linear: `initialDelayMs * (retryIndex + 1)`
 * - exponentialBackoff: `initialDelayMs * backoffMultiplier^retryIndex`
 * - fibonacci: `initialDelayMs * F(retryIndex + 1)` with F = 1, 1, 2, 3, 5, 8, …
 */
export function computeBaseRetryDelay(retryIndex: number, config: Pick<RetryDelayConfig, 'initialDelayMs' | 'maxDelayMs' | 'strategy' | 'backoffMultiplier'>): number {
  const { initialDelayMs, maxDelayMs } = config;
  if (initialDelayMs === 0) return 0;
  let delay: number;
  switch (config.strategy) {
    case 'fixed':
      delay = initialDelayMs;
      break;
    case 'linear':
      delay = initialDelayMs * (retryIndex + 1);
      break;
    case 'exponentialBackoff':
      delay = initialDelayMs * config.backoffMultiplier ** retryIndex;
      break;
    case 'fibonacci': {
      // Stops as soon as the cap is passed, so a huge retryIndex costs nothing.
      let previous = 0;
      let current = 1;
      for (let i = 0; i < retryIndex && current * initialDelayMs < maxDelayMs; i++) {
        const next = previous + current;
        previous = current;
        current = next;
      }
      delay = initialDelayMs * current;
      break;
    }
    default: {
      const never: never = config.strategy;
      throw new InvalidResilienceConfigError(`${owner}: unknown strategy ${String(never)}`);
    }
  }
  return Number.isNaN(delay) || delay > maxDelayMs ? maxDelayMs : delay;
}

/**
 * The wait before retry `retryIndex` (0-based), jitter applied with one draw of `random`. Pure
 * given `random`. With jitter the result is in `(base * (1 - jitterRatio), base]`, never above
 * `maxDelayMs`.
 */
export function computeRetryDelay(retryIndex: number, config: RetryDelayConfig, random: () => number = Math.random): number {
  const base = computeBaseRetryDelay(retryIndex, config);
  if (!config.jitter || base === 0 || config.jitterRatio === 0) return base;
  return base * (1 - config.jitterRatio * random());
}

/**
 * The whole sequence of waits a {@link RetryExecutor} with this config would use: `count` entries
 * (default `maxRetries`). Pure given `random`; for tests and for showing users their schedule.
 *
 * @example
 * ```ts
 * computeRetryDelays({ strategy: 'exponentialBackoff', initialDelayMs: 100, maxDelayMs: 1000, jitter: false, maxRetries: 5 });
 * // [100, 200, 400, 800, 1000]
 * ```
 */
export function computeRetryDelays(config: RetryConfig = {}, count?: number): number[] {
  const resolved = resolveRetryConfig(config);
  const n = checkInteger(owner, 'count', count ?? resolved.maxRetries, 0, 1_000_000);
  const delays: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) delays[i] = computeRetryDelay(i, resolved, resolved.random);
  return delays;
}

/** True if `error` matches `matchers` (see {@link RetryConfig.retryableErrors}). */
export function isRetryableError(error: unknown, matchers: RetryConfig['retryableErrors']): boolean {
  if (error instanceof OperationAbortedError) return false;
  if (matchers === undefined) return true;
  if (typeof matchers === 'function') return matchers(error);
  for (const m of matchers) if (matchOne(error, m)) return true;
  return false;
}

function matchOne(error: unknown, matcher: RetryableErrorMatcher): boolean {
  if (typeof matcher === 'string') {
    if (typeof error !== 'object' || error === null) return false;
    const e = error as { code?: unknown; name?: unknown };
    return e.code === matcher || e.name === matcher;
  }
  // A class has a prototype object that errors inherit; a predicate (arrow function) has none.
  if (isErrorClass(matcher)) return error instanceof matcher;
  return (matcher as RetryPredicate)(error);
}

// A function, so that TypeScript does not keep the narrowing of `aborted` across awaits.
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal !== undefined && signal.aborted;
}

function isErrorClass(fn: RetryableErrorMatcher): fn is ErrorClass {
  const proto = (fn as { prototype?: unknown }).prototype;
  return typeof proto === 'object' && proto !== null && (proto === Error.prototype || proto instanceof Error);
}

/**
 * Runs an operation, retrying transient failures with a backoff.
 *
 * @example
 * ```ts
 * const retry = new RetryExecutor({ maxRetries: 5, initialDelayMs: 50, retryableErrors: ['ECONNRESET', TimeoutError] });
 * const { value, attempts } = await retry.execute(() => fetchPeer(), { signal: AbortSignal.timeout(2000) });
 * ```
 */
export class RetryExecutor {
  private readonly config: ReturnType<typeof resolveRetryConfig>;

  constructor(config: RetryConfig = {}) {
    this.config = resolveRetryConfig(config);
  }

  /** The resolved delay options (defaults filled in). */
  get delayConfig(): RetryDelayConfig {
    const { initialDelayMs, maxDelayMs, strategy, backoffMultiplier, jitter, jitterRatio } = this.config;
    return { initialDelayMs, maxDelayMs, strategy, backoffMultiplier, jitter, jitterRatio };
  }

  get maxRetries(): number {
    return this.config.maxRetries;
  }

  /** True if this executor would retry `error` (retries left permitting). */
  isRetryable(error: unknown): boolean {
    return isRetryableError(error, this.config.retryableErrors);
  }

  /**
   * Calls `op` until it succeeds, a non-retryable error occurs, retries are spent or `signal`
   * fires. `op` receives the 1-based attempt number and the signal (pass it on to cancel the work
   * itself). Rejects with the last error unchanged, or with {@link OperationAbortedError} on abort.
   * A result produced after the signal fired is still returned: the work was done.
   */
  async execute<T>(op: (attempt: number, signal: AbortSignal | undefined) => T | Promise<T>, options?: RetryExecuteOptions): Promise<RetryResult<T>> {
    const signal = options?.signal;
    const config = this.config;
    let totalDelayMs = 0;
    for (let attempt = 1; ; attempt++) {
      if (isAborted(signal)) throw new OperationAbortedError('retry', signal!.reason);
      try {
        const value = await op(attempt, signal);
        return { value, attempts: attempt, totalDelayMs };
      } catch (error) {
        // The op may have failed because it honoured the signal; report the abort, not its error.
        if (isAborted(signal)) throw new OperationAbortedError('retry', signal!.reason);
        const retryIndex = attempt - 1;
        if (retryIndex >= config.maxRetries || !isRetryableError(error, config.retryableErrors)) throw error;
        const delayMs = computeRetryDelay(retryIndex, config, config.random);
        config.onRetry?.(error, attempt, delayMs);
        await waitFor(config.clock, delayMs, signal, 'retry');
        totalDelayMs += delayMs;
      }
    }
  }
}
