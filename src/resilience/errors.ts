/**
 * Errors of the resilience layer. `resilience` imports nothing but `util`, so it cannot extend the
 * core's `RaftwireError`; instead every class here carries the same `Symbol.for('raftwire.error')`
 * brand and a stable `code`, so `isRaftwireError()` recognises them and callers match on `code`,
 * never on the message.
 *
 * Codes:
 * - `RESILIENCE_ERR_INVALID_CONFIG`: an option is out of range or inconsistent (the message says the fix).
 * - `RESILIENCE_ERR_ABORTED`: the caller's `AbortSignal` fired while waiting.
 * - `RESILIENCE_ERR_CIRCUIT_OPEN`: the circuit breaker refused the call without running it.
 * - `RESILIENCE_ERR_RATE_LIMITED`: a rate limiter's wait queue is full.
 * - `RESILIENCE_ERR_POOL_ACQUIRE_TIMEOUT`: no connection within `acquireTimeoutMs`.
 * - `RESILIENCE_ERR_POOL_QUEUE_FULL`: too many callers already waiting for a connection.
 * - `RESILIENCE_ERR_POOL_CLOSED`: the pool was closed.
 * - `RESILIENCE_ERR_POOL_CREATE`: the factory failed to create a connection (`cause` holds why).
 * - `RESILIENCE_ERR_POOL_DOUBLE_RELEASE`: a connection was released (or destroyed) twice.
 * - `RESILIENCE_ERR_POOL_FOREIGN_CONNECTION`: a connection that this pool never handed out.
 * - `RESILIENCE_ERR_ASSERTION`: a broken invariant, i.e. a bug in raftwire.
 *
 * @example
 * ```ts
 * try { await breaker.execute(() => fetchPeer()) } catch (e) {
 *   if (e instanceof ResilienceError && e.code === 'RESILIENCE_ERR_CIRCUIT_OPEN') useFallback()
 * }
 * ```
 */

const kRaftwireError = Symbol.for('raftwire.error');

/** Root of every error this layer raises. */
export class ResilienceError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
    (this as unknown as Record<symbol, boolean>)[kRaftwireError] = true;
  }
}

/** An option is negative, NaN, not an integer where one is needed, or inconsistent with another. */
export class InvalidResilienceConfigError extends ResilienceError {
  constructor(message: string) {
    super('RESILIENCE_ERR_INVALID_CONFIG', message);
  }
}

/** The caller's `AbortSignal` fired; `cause` is the signal's `reason`. */
export class OperationAbortedError extends ResilienceError {
  constructor(what: string, reason: unknown) {
    super('RESILIENCE_ERR_ABORTED', `${what} aborted`, { cause: reason });
  }
}

/**
 * The breaker is open (or half-open with every trial slot taken) and refused the call without
 * running it. `retryAfterMs` is when it will next let a trial call through (0 if that depends on
 * calls in flight, not on time).
 */
export class CircuitOpenError extends ResilienceError {
  readonly state: 'open' | 'halfOpen';
  readonly retryAfterMs: number;

  constructor(state: 'open' | 'halfOpen', retryAfterMs: number, name?: string) {
    const who = name === undefined ? 'circuit breaker' : `circuit breaker ${name}`;
    super(
      'RESILIENCE_ERR_CIRCUIT_OPEN',
      state === 'open'
        ? `${who} is open; next trial call in ${Math.ceil(retryAfterMs)} ms`
        : `${who} is half-open and every trial slot is in use`,
    );
    this.state = state;
    this.retryAfterMs = retryAfterMs;
  }
}

/** A rate limiter's wait queue is full; `retryAfterMs` is when the next permit frees up. */
export class RateLimitExceededError extends ResilienceError {
  readonly retryAfterMs: number;

  constructor(retryAfterMs: number, waitingMax: number) {
    super('RESILIENCE_ERR_RATE_LIMITED', `rate limit exceeded: ${waitingMax} callers already waiting; retry in ${Math.ceil(retryAfterMs)} ms`);
    this.retryAfterMs = retryAfterMs;
  }
}

/** Failures of {@link ConnectionPool}; the `code` says which. */
export class PoolError extends ResilienceError {}

/** No connection became free within `acquireTimeoutMs`. */
export class PoolAcquireTimeoutError extends PoolError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super('RESILIENCE_ERR_POOL_ACQUIRE_TIMEOUT', `no connection available within ${timeoutMs} ms (raise maxConnections or acquireTimeoutMs, or release connections sooner)`);
    this.timeoutMs = timeoutMs;
  }
}

/** Too many callers already wait in `acquire()` (`waitingRequestsMax`). */
export class PoolQueueFullError extends PoolError {
  constructor(waitingRequestsMax: number) {
    super('RESILIENCE_ERR_POOL_QUEUE_FULL', `${waitingRequestsMax} callers already wait for a connection (waitingRequestsMax); shed load or raise maxConnections`);
  }
}

/** The pool was closed: waiting and later `acquire()` calls reject with this. */
export class PoolClosedError extends PoolError {
  constructor() {
    super('RESILIENCE_ERR_POOL_CLOSED', 'connection pool is closed');
  }
}

/** The factory's `create()` failed; `cause` is its error. The pool keeps serving. */
export class PoolCreateError extends PoolError {
  constructor(cause: unknown) {
    super('RESILIENCE_ERR_POOL_CREATE', `could not create a connection: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** A connection was released or destroyed while not handed out (twice, or after `destroy`). */
export class PoolDoubleReleaseError extends PoolError {
  constructor(what: 'release' | 'destroy') {
    super('RESILIENCE_ERR_POOL_DOUBLE_RELEASE', `${what}() of a connection that is not currently acquired (released twice, or already destroyed)`);
  }
}

/** A connection this pool never handed out (or one it has already destroyed and forgotten). */
export class PoolForeignConnectionError extends PoolError {
  constructor(what: 'release' | 'destroy') {
    super('RESILIENCE_ERR_POOL_FOREIGN_CONNECTION', `${what}() of a connection that does not belong to this pool (or was already destroyed)`);
  }
}

/** A broken invariant of this layer: a bug, not an operating error. Not meant to be caught. */
export class ResilienceAssertionError extends ResilienceError {
  constructor(message: string) {
    super('RESILIENCE_ERR_ASSERTION', message);
  }
}

/** Throws {@link ResilienceAssertionError} when `condition` is false. Kept on in production. */
export function assertResilience(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new ResilienceAssertionError(typeof message === 'function' ? message() : message);
}
