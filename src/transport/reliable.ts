/**
 * `ReliableNetwork`: wraps any {@link NetworkInterface} with a timeout per attempt and retries of
 * transient failures, on the shared `RetryExecutor` of the resilience layer.
 *
 * - Attempt k (0-based) may take `min(initialTimeout * backoffMultiplier^k, maxTimeout)` ms, then
 *   fails with {@link NetworkTimeoutError}: a slow peer gets more time on each try.
 * - Between attempts the executor waits `min(retryDelay * backoffMultiplier^k, maxTimeout)` ms,
 *   with jitter, so peers that lost a leader together do not retry in lockstep.
 * - Only transient errors (`error.transient`: timeouts, lost connections, partitions, full queues)
 *   are retried, and of those timeouts only with `retryOnTimeout`, the others only with
 *   `retryOnError`. Permanent errors (unknown node, handler error, stopped) reject at once, unchanged.
 * - When every attempt failed, the call rejects with {@link NetworkRetryExhaustedError}, whose
 *   `lastError` is the last attempt's failure.
 *
 * @example
 * ```ts
 * const net = new ReliableNetwork(new UwsNetwork('n1', opts), { maxRetries: 3, initialTimeout: 200, maxTimeout: 2000, backoffMultiplier: 2 });
 * ```
 * @module
 */
import { setMaxListeners } from 'node:events';
import { InvalidConfigError } from '../core/errors.js';
import type { NodeId } from '../core/types.js';
import { RetryExecutor } from '../resilience/index.js';
import { type Clock, systemClock } from '../util/clock.js';
import { NetworkRetryExhaustedError, NetworkStoppedError, NetworkTimeoutError, isTransportError } from './errors.js';
import type { PeerAddress } from './addresses.js';
import {
  hasPeerAddressBook,
  type AppendEntriesParams,
  type AppendEntriesResponse,
  type InstallSnapshotParams,
  type InstallSnapshotResponse,
  type NetworkInterface,
  type RaftRpcHandlers,
  type RequestVoteParams,
  type RequestVoteResponse,
  type TimeoutNowParams,
} from './types.js';

export interface ReliableNetworkOptions {
  /** Retries after the first attempt. Default 3. */
  maxRetries?: number;
  /** Timeout of the first attempt, ms. Default 1000. */
  initialTimeout?: number;
  /** Cap on any attempt's timeout and on any wait between attempts, ms. Default 10000. */
  maxTimeout?: number;
  /** Growth of timeouts and waits per attempt. Default 2. */
  backoffMultiplier?: number;
  /** Wait before the first retry, ms. Default 50. */
  retryDelay?: number;
  /** Retry attempts that timed out. Default true. */
  retryOnTimeout?: boolean;
  /** Retry other transient errors (lost connection, partition, full queue). Default true. */
  retryOnError?: boolean;
  /** Time source for timeouts and waits. Default the system clock. */
  clock?: Clock;
  /** Uniform [0, 1) source for jitter. Default Math.random. */
  random?: () => number;
  /** Called before each retry with the error, the 1-based attempt that failed and the wait. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** The timeout of attempt `attempt` (0-based): `min(initialTimeout * backoffMultiplier^attempt, maxTimeout)`. Pure. */
export function attemptTimeoutMs(attempt: number, options: { initialTimeout: number; backoffMultiplier: number; maxTimeout: number }): number {
  return Math.min(options.initialTimeout * options.backoffMultiplier ** attempt, options.maxTimeout);
}

/** Retrying wrapper; see the module comment. */
export class ReliableNetwork implements NetworkInterface {
  readonly inner: NetworkInterface;
  private readonly clock: Clock;
  private readonly executor: RetryExecutor;
  private readonly timeouts: { initialTimeout: number; backoffMultiplier: number; maxTimeout: number };
  private readonly retryOnTimeout: boolean;
  private readonly retryOnError: boolean;
  private stopController = stopControllerFor();
  /**
   * Present exactly when `inner` is a {@link PeerAddressBook} (so `hasPeerAddressBook(reliable)`
   * tells the truth): delegates to it. A request whose attempt fails because the peer was removed
   * is retried, and the retry fails at once with the permanent `NoAddressError`.
   */
  readonly setNodeAddress?: (nodeId: NodeId, address: PeerAddress) => void;
  /** See {@link ReliableNetwork.setNodeAddress}. */
  readonly removeNodeAddress?: (nodeId: NodeId) => void;

  constructor(inner: NetworkInterface, options: ReliableNetworkOptions = {}) {
    this.inner = inner;
    if (hasPeerAddressBook(inner)) {
      this.setNodeAddress = (nodeId, address) => inner.setNodeAddress(nodeId, address);
      this.removeNodeAddress = (nodeId) => inner.removeNodeAddress(nodeId);
    }
    this.clock = options.clock ?? systemClock;
    const initialTimeout = options.initialTimeout ?? 1000;
    const maxTimeout = options.maxTimeout ?? Math.max(10_000, initialTimeout);
    const backoffMultiplier = options.backoffMultiplier ?? 2;
    if (!(initialTimeout > 0)) throw new InvalidConfigError(`initialTimeout must be > 0 ms (got ${initialTimeout})`);
    if (!(maxTimeout >= initialTimeout)) throw new InvalidConfigError(`maxTimeout (${maxTimeout}) must be >= initialTimeout (${initialTimeout})`);
    if (!(backoffMultiplier >= 1)) throw new InvalidConfigError(`backoffMultiplier must be >= 1 (got ${backoffMultiplier})`);
    this.timeouts = { initialTimeout, backoffMultiplier, maxTimeout };
    this.retryOnTimeout = options.retryOnTimeout ?? true;
    this.retryOnError = options.retryOnError ?? true;
    const retryDelay = Math.min(options.retryDelay ?? 50, maxTimeout);
    this.executor = new RetryExecutor({
      maxRetries: options.maxRetries ?? 3,
      initialDelayMs: retryDelay,
      maxDelayMs: maxTimeout,
      strategy: 'exponentialBackoff',
      backoffMultiplier,
      jitter: true,
      retryableErrors: (error) => this.shouldRetry(error),
      clock: this.clock,
      ...(options.random ? { random: options.random } : {}),
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    });
  }

  /** Whether `error` is worth another attempt under this network's options. */
  shouldRetry(error: unknown): boolean {
    if (!isTransportError(error) || !error.transient) return false;
    return error instanceof NetworkTimeoutError ? this.retryOnTimeout : this.retryOnError;
  }

  registerHandlers(handlers: RaftRpcHandlers): void {
    this.inner.registerHandlers(handlers);
  }

  async start(): Promise<void> {
    if (this.stopController.signal.aborted) this.stopController = stopControllerFor();
    await this.inner.start();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    await this.inner.stop();
  }

  sendRequestVote(target: NodeId, req: RequestVoteParams): Promise<RequestVoteResponse> {
    return this.withRetries(target, () => this.inner.sendRequestVote(target, req));
  }

  sendAppendEntries(target: NodeId, req: AppendEntriesParams): Promise<AppendEntriesResponse> {
    return this.withRetries(target, () => this.inner.sendAppendEntries(target, req));
  }

  sendInstallSnapshot(target: NodeId, req: InstallSnapshotParams): Promise<InstallSnapshotResponse> {
    return this.withRetries(target, () => this.inner.sendInstallSnapshot(target, req));
  }

  sendTimeoutNow(target: NodeId, req: TimeoutNowParams): Promise<void> {
    return this.withRetries(target, () => this.inner.sendTimeoutNow(target, req));
  }

  private async withRetries<T>(target: NodeId, send: () => Promise<T>): Promise<T> {
    const signal = this.stopController.signal;
    let lastError: unknown;
    let attempts = 0;
    try {
      const { value } = await this.executor.execute(
        (attempt) => {
          attempts = attempt;
          return this.attempt(target, send, attemptTimeoutMs(attempt - 1, this.timeouts)).catch((error: unknown) => {
            lastError = error;
            throw error;
          });
        },
        { signal },
      );
      return value;
    } catch (error) {
      if (signal.aborted) throw new NetworkStoppedError(target, 'reliable network');
      // Ran out of attempts on a failure we would have retried: say so, keeping the cause.
      if (error === lastError && this.shouldRetry(error)) throw new NetworkRetryExhaustedError(target, attempts, error);
      throw error;
    }
  }

  /** One attempt, failed with {@link NetworkTimeoutError} after `timeoutMs` (the send itself goes on and is ignored). */
  private attempt<T>(target: NodeId, send: () => Promise<T>, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const onStop = (): void => finish(new NetworkStoppedError(target, 'reliable network'));
      const finish = (error: unknown, value?: T): void => {
        if (done) return;
        done = true;
        this.clock.clearTimeout(timer);
        this.stopController.signal.removeEventListener('abort', onStop);
        if (error !== undefined) reject(error);
        else resolve(value as T);
      };
      const timer = this.clock.setTimeout(() => finish(new NetworkTimeoutError(target, timeoutMs, 'attempt')), timeoutMs);
      this.stopController.signal.addEventListener('abort', onStop, { once: true });
      let sent: Promise<T>;
      try {
        sent = send();
      } catch (error) {
        finish(error);
        return;
      }
      sent.then((value) => finish(undefined, value), (error: unknown) => finish(error));
    });
  }
}

/**
 * The controller whose signal `stop()` fires. Every attempt in flight (and every backoff wait)
 * listens on it and removes its listener when it settles, so the count is the number of requests
 * in flight: dozens on a busy peer. Node's leak heuristic warns past 10 listeners and would
 * report a leak that is not there, so the limit is lifted for this one signal.
 */
function stopControllerFor(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
