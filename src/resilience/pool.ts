/**
 * A pool of reusable connections over a user factory. Callers `acquire()` a connection, use it
 * alone, and `release()` it (or `destroy()` it if it broke). The pool:
 *
 * - never holds more than `maxConnections` (counting those being created or validated);
 * - never hands one connection to two holders (each is `idle`, `validating` or `active`, never two);
 * - serves waiting callers in arrival order, each within `acquireTimeoutMs` or a
 *   {@link PoolAcquireTimeoutError};
 * - checks an idle connection with `factory.validate` before handing it out, and destroys it
 *   instead if it fails;
 * - destroys connections idle longer than `idleTimeoutMs` (down to `minConnections`) and any
 *   connection older than `maxLifetimeMs` (when idle, or when released);
 * - keeps serving when the factory fails: the waiter it was creating for gets a
 *   {@link PoolCreateError}, the next caller tries again.
 *
 * Timers come from the injected clock: with a `VirtualClock` every timeout and eviction happens
 * exactly when the test advances time.
 */
import { type Clock, type TimerHandle, systemClock } from '../util/clock.js';
import {
  assertResilience,
  InvalidResilienceConfigError,
  OperationAbortedError,
  PoolAcquireTimeoutError,
  PoolClosedError,
  PoolCreateError,
  PoolDoubleReleaseError,
  PoolForeignConnectionError,
  PoolQueueFullError,
} from './errors.js';
import { checkFunction, checkInteger } from './validate.js';

/** How the pool makes, checks and disposes of connections. */
export interface PoolFactory<T> {
  /** Opens a new connection. A rejection reaches the caller as {@link PoolCreateError}. */
  create(): Promise<T>;
  /** Closes a connection. Errors are reported to `onError` and otherwise ignored. */
  destroy(connection: T): Promise<void> | void;
  /** True if an idle connection is still usable; checked before each reuse. A throw counts as false. */
  validate?(connection: T): Promise<boolean> | boolean;
}

/** Options of {@link ConnectionPool}. Every field has a default. */
export interface PoolConfig {
  /** Connections kept open even when idle (filled by `warmUp()`, refilled after evictions). Default 1. */
  minConnections?: number;
  /** Hard cap on open connections, including those being created. Default 10. */
  maxConnections?: number;
  /** An idle connection beyond `minConnections` is destroyed after this long, in ms. `Infinity` for never. Default 60000. */
  idleTimeoutMs?: number;
  /** A connection older than this is destroyed instead of reused, in ms. `Infinity` for never. Default 3600000. */
  maxLifetimeMs?: number;
  /** How long `acquire()` waits before rejecting with {@link PoolAcquireTimeoutError}, in ms. `Infinity` for ever. Default 5000. */
  acquireTimeoutMs?: number;
  /** Callers that may wait in `acquire()` at once; more get {@link PoolQueueFullError}. Default 1000. */
  waitingRequestsMax?: number;
  /** Receives errors nobody awaits: `destroy` failures, failed background creations for `minConnections`. */
  onError?: (error: unknown) => void;
  /** Default {@link systemClock}. */
  clock?: Clock;
}

/** A snapshot of the pool. Invariant: `totalConnections = activeConnections + idleConnections + pendingConnections <= maxConnections`. */
export interface PoolStats {
  totalConnections: number;
  /** Handed out to a caller. */
  activeConnections: number;
  /** Open and free. */
  idleConnections: number;
  /** Being created or validated. */
  pendingConnections: number;
  /** Callers waiting in `acquire()`. */
  waitingRequests: number;
}

/** Largest `maxConnections` that may be configured. */
export const poolConnectionsMax = 100_000;
/** Largest `waitingRequestsMax` that may be configured. */
export const poolWaitingRequestsMax = 1_000_000;

type EntryState = 'idle' | 'validating' | 'active' | 'destroyed';

interface Entry<T> {
  readonly connection: T;
  readonly createdAtMs: number;
  idleSinceMs: number;
  state: EntryState;
}

interface Waiter<T> {
  resolve: (connection: T) => void;
  reject: (error: unknown) => void;
  timer: TimerHandle | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  // Once settled (served, timed out, aborted, closed) a waiter ignores everything else.
  settled: boolean;
}

const owner = 'ConnectionPool';

function checkDuration(option: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new InvalidResilienceConfigError(`${owner}: ${option} must be a number of ms >= 0 (or Infinity), got ${String(value)}`);
  }
  return value;
}

/**
 * @example
 * ```ts
 * const pool = new ConnectionPool(
 *   { create: () => connect(peerUrl), destroy: (s) => s.close(), validate: (s) => s.readyState === 1 },
 *   { maxConnections: 4, acquireTimeoutMs: 2000 },
 * );
 * const socket = await pool.acquire();
 * try { await send(socket, frame) } catch (e) { pool.destroy(socket); throw e }
 * pool.release(socket);
 * ```
 */
export class ConnectionPool<T> {
  readonly minConnections: number;
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
  readonly maxLifetimeMs: number;
  readonly acquireTimeoutMs: number;
  readonly waitingRequestsMax: number;
  private readonly factory: PoolFactory<T>;
  private readonly clock: Clock;
  private readonly onError: (error: unknown) => void;

  private readonly entries = new Map<T, Entry<T>>();
  // Idle connections, most recently released last: reuse takes from the end (warm connections),
  // idle eviction looks from the start (the longest idle).
  private readonly idle: Entry<T>[] = [];
  private waiters: Waiter<T>[] = [];
  private creating = 0;
  private validating = 0;
  private active = 0;
  private closed = false;
  private reaperTimer: TimerHandle | undefined;
  private reaperAtMs = Number.POSITIVE_INFINITY;
  private readonly destroying = new Set<Promise<void>>();

  constructor(factory: PoolFactory<T>, config: PoolConfig = {}) {
    if (typeof factory !== 'object' || factory === null) throw new InvalidResilienceConfigError(`${owner}: factory must be an object with create() and destroy()`);
    checkFunction(owner, 'factory.create', factory.create);
    checkFunction(owner, 'factory.destroy', factory.destroy);
    if (factory.validate !== undefined) checkFunction(owner, 'factory.validate', factory.validate);
    this.maxConnections = checkInteger(owner, 'maxConnections', config.maxConnections ?? 10, 1, poolConnectionsMax);
    this.minConnections = checkInteger(owner, 'minConnections', config.minConnections ?? Math.min(1, this.maxConnections), 0, poolConnectionsMax);
    if (this.minConnections > this.maxConnections) {
      throw new InvalidResilienceConfigError(`${owner}: minConnections (${this.minConnections}) must not exceed maxConnections (${this.maxConnections}); raise maxConnections or lower minConnections`);
    }
    this.idleTimeoutMs = checkDuration('idleTimeoutMs', config.idleTimeoutMs ?? 60_000);
    this.maxLifetimeMs = checkDuration('maxLifetimeMs', config.maxLifetimeMs ?? 3_600_000);
    this.acquireTimeoutMs = checkDuration('acquireTimeoutMs', config.acquireTimeoutMs ?? 5000);
    this.waitingRequestsMax = checkInteger(owner, 'waitingRequestsMax', config.waitingRequestsMax ?? 1000, 0, poolWaitingRequestsMax);
    if (config.onError !== undefined) checkFunction(owner, 'onError', config.onError);
    this.factory = factory;
    this.clock = config.clock ?? systemClock;
    this.onError = config.onError ?? (() => undefined);
  }

  getStats(): PoolStats {
    const pendingConnections = this.creating + this.validating;
    return {
      totalConnections: this.active + this.idle.length + pendingConnections,
      activeConnections: this.active,
      idleConnections: this.idle.length,
      pendingConnections,
      waitingRequests: this.waiters.length,
    };
  }

  /** Opens connections until `minConnections` exist. Rejects with {@link PoolCreateError} if one cannot be created. */
  async warmUp(): Promise<void> {
    const creations: Promise<void>[] = [];
    while (!this.closed && this.openCount() < this.minConnections) creations.push(this.createIdle(true));
    await Promise.all(creations);
  }

  /**
   * Resolves with a connection for the caller's sole use until `release()` or `destroy()`.
   * Callers are served in arrival order. Rejects with {@link PoolAcquireTimeoutError} after
   * `acquireTimeoutMs`, {@link PoolQueueFullError}, {@link PoolCreateError},
   * {@link PoolClosedError}, or {@link OperationAbortedError} when `signal` fires first.
   */
  acquire(options?: { signal?: AbortSignal }): Promise<T> {
    const signal = options?.signal;
    if (this.closed) return Promise.reject(new PoolClosedError());
    if (signal?.aborted === true) return Promise.reject(new OperationAbortedError('pool acquire', signal.reason));
    if (this.waiters.length >= this.waitingRequestsMax) return Promise.reject(new PoolQueueFullError(this.waitingRequestsMax));
    const promise = new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject, timer: undefined, signal, onAbort: undefined, settled: false };
      if (Number.isFinite(this.acquireTimeoutMs)) {
        waiter.timer = this.clock.setTimeout(() => {
          waiter.timer = undefined;
          this.failWaiter(waiter, new PoolAcquireTimeoutError(this.acquireTimeoutMs));
        }, this.acquireTimeoutMs);
      }
      if (signal !== undefined) {
        waiter.onAbort = () => this.failWaiter(waiter, new OperationAbortedError('pool acquire', signal.reason));
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
    this.dispatch();
    return promise;
  }

  /**
   * Gives back a connection obtained from `acquire()`. Throws {@link PoolDoubleReleaseError} if it
   * is not currently acquired, {@link PoolForeignConnectionError} if it is not from this pool.
   */
  release(connection: T): void {
    const entry = this.acquiredEntry(connection, 'release');
    if (this.closed || this.isExpired(entry, this.clock.now())) {
      this.destroyEntry(entry);
      this.ensureMinConnections();
    } else {
      this.active--;
      entry.state = 'idle';
      entry.idleSinceMs = this.clock.now();
      this.idle.push(entry);
      this.scheduleReaper();
    }
    this.dispatch();
  }

  /**
   * Gives back a connection that broke: it is destroyed and never handed out again, and its place
   * is free for a new one. Same misuse errors as `release()`.
   */
  destroy(connection: T): void {
    const entry = this.acquiredEntry(connection, 'destroy');
    this.destroyEntry(entry);
    this.ensureMinConnections();
    this.dispatch();
  }

  /**
   * Refuses new callers, rejects waiting ones with {@link PoolClosedError}, destroys idle
   * connections now and acquired ones when they are released. Resolves when every destroy started
   * so far has finished.
   */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      if (this.reaperTimer !== undefined) this.clock.clearTimeout(this.reaperTimer);
      this.reaperTimer = undefined;
      this.reaperAtMs = Number.POSITIVE_INFINITY;
      for (const waiter of this.waiters.slice()) this.failWaiter(waiter, new PoolClosedError());
      for (const entry of this.idle.slice()) this.destroyEntry(entry);
    }
    await Promise.all(this.destroying);
  }

  // ---- serving waiters ---------------------------------------------------------------------

  // Hands free connections, or new ones while under maxConnections, to waiters in arrival order.
  private dispatch(): void {
    while (this.waiters.length > 0 && !this.closed) {
      const entry = this.idle.pop();
      if (entry !== undefined) {
        if (this.isExpired(entry, this.clock.now())) {
          this.destroyEntry(entry);
          this.ensureMinConnections();
          continue;
        }
        const waiter = this.waiters.shift()!;
        if (this.factory.validate === undefined) this.handOut(entry, waiter);
        else void this.validateFor(entry, waiter);
      } else if (this.openCount() < this.maxConnections) {
        void this.createFor(this.waiters.shift()!);
      } else {
        break;
      }
    }
    this.checkInvariants();
  }

  private async validateFor(entry: Entry<T>, waiter: Waiter<T>): Promise<void> {
    assertResilience(entry.state === 'idle', () => `validating a connection in state ${entry.state}`);
    entry.state = 'validating';
    this.validating++;
    let usable: boolean;
    try {
      usable = (await this.factory.validate!(entry.connection)) === true;
    } catch {
      usable = false;
    }
    // The entry is still 'validating': handOut, returnToIdle or destroyEntry moves it on and
    // settles the count.
    if (!usable || this.closed) {
      this.destroyEntry(entry);
      this.ensureMinConnections();
      if (this.closed) this.failWaiter(waiter, new PoolClosedError());
      else if (!waiter.settled) this.waiters.unshift(waiter); // keeps its place at the head
    } else if (waiter.settled) {
      this.returnToIdle(entry);
    } else {
      this.handOut(entry, waiter);
    }
    this.dispatch();
  }

  private async createFor(waiter: Waiter<T>): Promise<void> {
    let entry: Entry<T>;
    try {
      entry = await this.createEntry();
    } catch (error) {
      this.failWaiter(waiter, new PoolCreateError(error));
      this.dispatch();
      return;
    }
    if (this.closed) {
      this.destroyEntry(entry);
      this.failWaiter(waiter, new PoolClosedError());
    } else if (waiter.settled) {
      this.returnToIdle(entry);
    } else {
      this.handOut(entry, waiter);
    }
    this.dispatch();
  }

  // Creates a connection counted in `creating` until it exists; the entry starts as 'validating'
  // so that nothing else can take it before the caller decides where it goes.
  private async createEntry(): Promise<Entry<T>> {
    this.creating++;
    let connection: T;
    try {
      connection = await this.factory.create();
    } finally {
      this.creating--;
    }
    assertResilience(!this.entries.has(connection), 'factory.create() returned a connection that is already in the pool');
    const nowMs = this.clock.now();
    const entry: Entry<T> = { connection, createdAtMs: nowMs, idleSinceMs: nowMs, state: 'validating' };
    this.entries.set(connection, entry);
    this.validating++;
    return entry;
  }

  private handOut(entry: Entry<T>, waiter: Waiter<T>): void {
    assertResilience(entry.state === 'idle' || entry.state === 'validating', () => `handing out a connection in state ${entry.state}`);
    assertResilience(!waiter.settled, 'handing a connection to a waiter that already settled');
    if (entry.state === 'validating') this.validating--;
    entry.state = 'active';
    this.active++;
    this.settleWaiter(waiter);
    waiter.resolve(entry.connection);
  }

  private returnToIdle(entry: Entry<T>): void {
    if (entry.state === 'validating') this.validating--;
    entry.state = 'idle';
    entry.idleSinceMs = this.clock.now();
    this.idle.push(entry);
    this.scheduleReaper();
  }

  private failWaiter(waiter: Waiter<T>, error: unknown): void {
    if (waiter.settled) return;
    const index = this.waiters.indexOf(waiter);
    if (index >= 0) this.waiters.splice(index, 1);
    this.settleWaiter(waiter);
    waiter.reject(error);
  }

  private settleWaiter(waiter: Waiter<T>): void {
    waiter.settled = true;
    if (waiter.timer !== undefined) this.clock.clearTimeout(waiter.timer);
    waiter.timer = undefined;
    if (waiter.onAbort !== undefined) waiter.signal!.removeEventListener('abort', waiter.onAbort);
  }

  // ---- lifecycle of connections ---------------------------------------------------------------

  private acquiredEntry(connection: T, what: 'release' | 'destroy'): Entry<T> {
    const entry = this.entries.get(connection);
    if (entry === undefined) throw new PoolForeignConnectionError(what);
    if (entry.state !== 'active') throw new PoolDoubleReleaseError(what);
    return entry;
  }

  private openCount(): number {
    return this.entries.size + this.creating;
  }

  private isExpired(entry: Entry<T>, nowMs: number): boolean {
    return nowMs - entry.createdAtMs >= this.maxLifetimeMs;
  }

  private destroyEntry(entry: Entry<T>): void {
    assertResilience(entry.state !== 'destroyed', 'destroying a connection twice');
    if (entry.state === 'active') {
      this.active--;
    } else if (entry.state === 'idle') {
      const index = this.idle.indexOf(entry);
      assertResilience(index >= 0, 'an idle connection missing from the idle list');
      this.idle.splice(index, 1);
    } else if (entry.state === 'validating') {
      this.validating--;
    }
    entry.state = 'destroyed';
    this.entries.delete(entry.connection);
    const done = (async () => {
      try {
        await this.factory.destroy(entry.connection);
      } catch (error) {
        this.onError(error);
      }
    })();
    this.destroying.add(done);
    void done.then(() => this.destroying.delete(done));
  }

  private async createIdle(rethrow: boolean): Promise<void> {
    let entry: Entry<T>;
    try {
      entry = await this.createEntry();
    } catch (error) {
      if (rethrow) throw new PoolCreateError(error);
      this.onError(new PoolCreateError(error));
      return;
    }
    if (this.closed) this.destroyEntry(entry);
    else this.returnToIdle(entry);
    this.dispatch();
  }

  // Replaces evicted or broken connections so that minConnections stay open. A failure is
  // reported to onError and not retried in a loop: the next eviction or release tries again.
  private ensureMinConnections(): void {
    while (!this.closed && this.openCount() < this.minConnections) void this.createIdle(false);
  }

  private scheduleReaper(): void {
    if (this.closed) return;
    const nextMs = this.nextEvictionAtMs(this.clock.now());
    if (nextMs === this.reaperAtMs) return;
    if (this.reaperTimer !== undefined) this.clock.clearTimeout(this.reaperTimer);
    this.reaperTimer = undefined;
    this.reaperAtMs = nextMs;
    if (!Number.isFinite(nextMs)) return;
    this.reaperTimer = this.clock.setTimeout(() => {
      this.reaperTimer = undefined;
      this.reaperAtMs = Number.POSITIVE_INFINITY;
      this.evictIdle();
    }, nextMs - this.clock.now());
  }

  // The earliest time an idle connection must go. An idle timeout that has passed but is held back
  // by minConnections is not a deadline (it would fire again at once, forever).
  private nextEvictionAtMs(nowMs: number): number {
    let nextMs = Number.POSITIVE_INFINITY;
    const aboveMin = this.openCount() > this.minConnections;
    for (const entry of this.idle) {
      nextMs = Math.min(nextMs, entry.createdAtMs + this.maxLifetimeMs);
      const idleDeadlineMs = entry.idleSinceMs + this.idleTimeoutMs;
      if (aboveMin || idleDeadlineMs > nowMs) nextMs = Math.min(nextMs, idleDeadlineMs);
    }
    return nextMs;
  }

  private evictIdle(): void {
    const nowMs = this.clock.now();
    // Oldest idle first, so that the most recently used connections are the ones kept.
    for (const entry of this.idle.slice()) {
      if (this.isExpired(entry, nowMs)) this.destroyEntry(entry);
      else if (nowMs - entry.idleSinceMs >= this.idleTimeoutMs && this.openCount() > this.minConnections) this.destroyEntry(entry);
    }
    this.ensureMinConnections();
    this.scheduleReaper();
  }

  // Runs after every dispatch, so no per-call allocation: plain arithmetic on the counters.
  private checkInvariants(): void {
    const total = this.active + this.idle.length + this.creating + this.validating;
    assertResilience(total <= this.maxConnections, () => `pool holds ${total} connections, above maxConnections ${this.maxConnections}`);
    assertResilience(this.entries.size === this.active + this.idle.length + this.validating, () =>
      `pool counts disagree: ${this.entries.size} entries, ${this.active} active, ${this.idle.length} idle, ${this.validating} validating`,
    );
  }
}
