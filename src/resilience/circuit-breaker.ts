/**
 * A circuit breaker: after `failureThreshold` consecutive failures it opens and fails calls fast
 * with {@link CircuitOpenError} instead of piling more load on a sick peer; after `timeoutMs` it
 * lets up to `halfOpenMaxCalls` trial calls through (half-open); `successThreshold` successes close
 * it, any failure opens it again.
 *
 * State changes are computed from the clock when a call arrives (or `getState()` is asked), so a
 * breaker owns no timer and needs no disposal.
 *
 *   closed ──failureThreshold consecutive failures──▶ open
 *   open ──timeoutMs elapsed──▶ halfOpen
 *   halfOpen ──successThreshold successes──▶ closed
 *   halfOpen ──any failure──▶ open
 *   any ──forceOpen()──▶ open (held until reset())      any ──reset()──▶ closed
 */
import { type Clock, systemClock } from '../util/clock.js';
import { CircuitOpenError, InvalidResilienceConfigError } from './errors.js';
import { checkFunction, checkInteger, checkNumber } from './validate.js';

export type CircuitState = 'closed' | 'open' | 'halfOpen';

/** Options of {@link CircuitBreaker}. Every field has a default. */
export interface CircuitBreakerConfig {
  /** Consecutive failures, while closed, that open the breaker. Default 5. */
  failureThreshold?: number;
  /** Successful trial calls, while half-open, that close it. Default 3. */
  successThreshold?: number;
  /** How long the breaker stays open before letting trial calls through, in ms. Default 30000. */
  timeoutMs?: number;
  /** Trial calls allowed in flight at once while half-open; more fail fast. Default 3. */
  halfOpenMaxCalls?: number;
  /** Which errors count as failures of the peer (default: all). An error that does not count still rejects the call, but neither opens the breaker nor resets the failure count. */
  isFailure?: (error: unknown) => boolean;
  /** Called on every state change, after it happened. */
  onStateChange?: (from: CircuitState, to: CircuitState) => void;
  /** Shown in error messages. */
  name?: string;
  /** Default {@link systemClock}. */
  clock?: Clock;
}

/** A snapshot of a breaker, for metrics and health pages. */
export interface CircuitBreakerStats {
  state: CircuitState;
  /** Consecutive failures while closed. */
  consecutiveFailures: number;
  /** Successful trial calls so far while half-open. */
  halfOpenSuccesses: number;
  /** Trial calls in flight while half-open. */
  halfOpenInFlight: number;
  /** Calls refused without running them, since creation. */
  rejectedCalls: number;
  /** Ms until an open breaker lets a trial call through (0 unless open; Infinity if forced open). */
  retryAfterMs: number;
}

/** Largest value allowed for a threshold or a call limit. */
export const circuitThresholdMax = 1_000_000;

const owner = 'CircuitBreaker';

/**
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({ failureThreshold: 3, timeoutMs: 5000 });
 * try {
 *   const res = await breaker.execute(() => network.sendAppendEntries(peer, req));
 * } catch (e) {
 *   if (e instanceof CircuitOpenError) skipPeerFor(e.retryAfterMs);
 * }
 * ```
 */
export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly successThreshold: number;
  readonly timeoutMs: number;
  readonly halfOpenMaxCalls: number;
  readonly name: string | undefined;
  private readonly clock: Clock;
  private readonly isFailure: ((error: unknown) => boolean) | undefined;
  private readonly onStateChange: ((from: CircuitState, to: CircuitState) => void) | undefined;

  private state: CircuitState = 'closed';
  private forced = false;
  private openedAtMs = 0;
  private consecutiveFailures = 0;
  private halfOpenSuccesses = 0;
  private halfOpenInFlight = 0;
  private rejectedCalls = 0;
  // Bumped on every transition: an outcome that arrives for a call started in an earlier state
  // (say, a slow call from before reset()) is ignored instead of corrupting the new state's counts.
  private generation = 0;

  constructor(config: CircuitBreakerConfig = {}) {
    this.failureThreshold = checkInteger(owner, 'failureThreshold', config.failureThreshold ?? 5, 1, circuitThresholdMax);
    this.successThreshold = checkInteger(owner, 'successThreshold', config.successThreshold ?? 3, 1, circuitThresholdMax);
    this.timeoutMs = checkNumber(owner, 'timeoutMs', config.timeoutMs ?? 30_000);
    this.halfOpenMaxCalls = checkInteger(owner, 'halfOpenMaxCalls', config.halfOpenMaxCalls ?? 3, 1, circuitThresholdMax);
    if (config.isFailure !== undefined) checkFunction(owner, 'isFailure', config.isFailure);
    if (config.onStateChange !== undefined) checkFunction(owner, 'onStateChange', config.onStateChange);
    if (config.name !== undefined && typeof config.name !== 'string') throw new InvalidResilienceConfigError(`${owner}: name must be a string`);
    this.isFailure = config.isFailure;
    this.onStateChange = config.onStateChange;
    this.name = config.name;
    this.clock = config.clock ?? systemClock;
  }

  /** The state now (an open breaker whose timeout has passed reports, and becomes, half-open). */
  getState(): CircuitState {
    this.maybeHalfOpen();
    return this.state;
  }

  getStats(): CircuitBreakerStats {
    const state = this.getState();
    return {
      state,
      consecutiveFailures: this.consecutiveFailures,
      halfOpenSuccesses: this.halfOpenSuccesses,
      halfOpenInFlight: this.halfOpenInFlight,
      rejectedCalls: this.rejectedCalls,
      retryAfterMs: state === 'open' ? this.retryAfterMs() : 0,
    };
  }

  /**
   * Runs `op` if the breaker lets it through and records its outcome; otherwise rejects at once
   * with {@link CircuitOpenError} without calling `op`. The result or error of `op` is passed on
   * unchanged.
   */
  async execute<T>(op: () => T | Promise<T>): Promise<T> {
    this.maybeHalfOpen();
    if (this.state === 'open') {
      this.rejectedCalls++;
      throw new CircuitOpenError('open', this.retryAfterMs(), this.name);
    }
    const generation = this.generation;
    const trial = this.state === 'halfOpen';
    if (trial) {
      if (this.halfOpenInFlight >= this.halfOpenMaxCalls) {
        this.rejectedCalls++;
        throw new CircuitOpenError('halfOpen', 0, this.name);
      }
      this.halfOpenInFlight++;
    }
    let value: T;
    try {
      value = await op();
    } catch (error) {
      if (generation === this.generation) {
        if (trial) this.halfOpenInFlight--;
        this.recordFailure(error);
      }
      throw error;
    }
    if (generation === this.generation) {
      if (trial) this.halfOpenInFlight--;
      this.recordSuccess();
    }
    return value;
  }

  /** Closes the breaker and clears every count (also ends a `forceOpen()`). */
  reset(): void {
    this.forced = false;
    this.transition('closed');
  }

  /**
   * Opens the breaker and holds it open, whatever the timeout, until {@link reset}: for taking a
   * peer out of rotation by hand.
   */
  forceOpen(): void {
    this.forced = true;
    this.transition('open');
  }

  private retryAfterMs(): number {
    if (this.forced) return Number.POSITIVE_INFINITY;
    return Math.max(0, this.openedAtMs + this.timeoutMs - this.clock.now());
  }

  private maybeHalfOpen(): void {
    if (this.state === 'open' && !this.forced && this.clock.now() - this.openedAtMs >= this.timeoutMs) this.transition('halfOpen');
  }

  private recordSuccess(): void {
    if (this.state === 'closed') {
      this.consecutiveFailures = 0;
    } else if (this.state === 'halfOpen') {
      this.halfOpenSuccesses++;
      if (this.halfOpenSuccesses >= this.successThreshold) this.transition('closed');
    }
  }

  private recordFailure(error: unknown): void {
    if (this.isFailure !== undefined && !this.isFailure(error)) return;
    if (this.state === 'closed') {
      this.consecutiveFailures++;
      if (this.consecutiveFailures >= this.failureThreshold) this.transition('open');
    } else if (this.state === 'halfOpen') {
      this.transition('open');
    }
  }

  private transition(to: CircuitState): void {
    const from = this.state;
    this.state = to;
    this.generation++;
    this.consecutiveFailures = 0;
    this.halfOpenSuccesses = 0;
    this.halfOpenInFlight = 0;
    if (to === 'open') this.openedAtMs = this.clock.now();
    if (from !== to) this.onStateChange?.(from, to);
  }
}
