import { describe, expect, it } from 'vitest';
import {
  ConnectionPool,
  InvalidResilienceConfigError,
  OperationAbortedError,
  PoolAcquireTimeoutError,
  PoolClosedError,
  PoolCreateError,
  PoolDoubleReleaseError,
  PoolForeignConnectionError,
  PoolQueueFullError,
  type PoolConfig,
} from '../../src/resilience/index.js';
import { VirtualClock } from '../../src/util/clock.js';
import { advance, flush, track } from './helpers.js';
import { type FakeConnection, FakeFactory } from './pool-support.js';

function make(config: PoolConfig = {}) {
  const clock = new VirtualClock();
  const factory = new FakeFactory();
  const errors: unknown[] = [];
  const pool = new ConnectionPool(factory, { minConnections: 0, maxConnections: 2, idleTimeoutMs: 1000, maxLifetimeMs: 10_000, acquireTimeoutMs: 500, onError: (e) => errors.push(e), ...config, clock });
  return { clock, factory, pool, errors };
}

describe('ConnectionPool acquire and release', () => {
  it('creates on demand, reuses a released connection, and reports stats', async () => {
    const { pool, factory } = make();
    const a = await pool.acquire();
    expect(pool.getStats()).toEqual({ totalConnections: 1, activeConnections: 1, idleConnections: 0, pendingConnections: 0, waitingRequests: 0 });
    pool.release(a);
    expect(pool.getStats()).toMatchObject({ totalConnections: 1, activeConnections: 0, idleConnections: 1 });
    const again = await pool.acquire();
    expect(again).toBe(a);
    expect(factory.created.length).toBe(1);
    expect(factory.validations).toBe(1);
  });

  it('never opens more than maxConnections; extra callers wait and are served in arrival order', async () => {
    const { pool, factory } = make({ maxConnections: 2 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    const served: string[] = [];
    const w1 = pool.acquire().then((c) => (served.push(`w1:${c.id}`), c));
    const w2 = pool.acquire().then((c) => (served.push(`w2:${c.id}`), c));
    const w3 = pool.acquire().then((c) => (served.push(`w3:${c.id}`), c));
    await flush();
    expect(pool.getStats()).toMatchObject({ totalConnections: 2, activeConnections: 2, waitingRequests: 3 });
    pool.release(b);
    await flush();
    pool.release(a);
    await flush();
    expect(served).toEqual([`w1:${b.id}`, `w2:${a.id}`]);
    pool.release(await w1);
    expect(await w3).toBe(b);
    expect(served).toEqual([`w1:${b.id}`, `w2:${a.id}`, `w3:${b.id}`]);
    expect(factory.created.length).toBe(2);
    pool.release(await w2);
    pool.release(await w3);
  });

  it('a waiter times out after acquireTimeoutMs with a typed error, and leaves the queue', async () => {
    const { clock, pool } = make({ maxConnections: 1, acquireTimeoutMs: 500 });
    const held = await pool.acquire();
    const waiter = track(pool.acquire());
    await advance(clock, 499);
    expect(waiter.settled).toBe(false);
    await advance(clock, 1);
    expect(waiter.error).toBeInstanceOf(PoolAcquireTimeoutError);
    expect((waiter.error as PoolAcquireTimeoutError).code).toBe('RESILIENCE_ERR_POOL_ACQUIRE_TIMEOUT');
    expect(pool.getStats().waitingRequests).toBe(0);
    // The connection released later goes idle; nobody is handed a connection twice.
    pool.release(held);
    expect(pool.getStats()).toMatchObject({ idleConnections: 1, activeConnections: 0 });
  });

  it('an aborted acquire leaves the queue at once', async () => {
    const { pool } = make({ maxConnections: 1 });
    const held = await pool.acquire();
    const controller = new AbortController();
    const waiter = track(pool.acquire({ signal: controller.signal }));
    controller.abort('bye');
    await flush();
    expect(waiter.error).toBeInstanceOf(OperationAbortedError);
    expect(pool.getStats().waitingRequests).toBe(0);
    pool.release(held);
    await expect(pool.acquire({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(OperationAbortedError);
  });

  it('refuses callers past waitingRequestsMax', async () => {
    const { pool } = make({ maxConnections: 1, waitingRequestsMax: 1 });
    await pool.acquire();
    const queued = track(pool.acquire());
    await expect(pool.acquire()).rejects.toBeInstanceOf(PoolQueueFullError);
    await pool.close();
    await flush();
    expect(queued.error).toBeInstanceOf(PoolClosedError);
  });
});

describe('ConnectionPool broken connections', () => {
  it('destroys an idle connection that fails validation and hands out a fresh one instead', async () => {
    const { pool, factory } = make();
    const a = await pool.acquire();
    pool.release(a);
    a.broken = true;
    const b = await pool.acquire();
    expect(b).not.toBe(a);
    expect(a.destroyed).toBe(true);
    expect(factory.destroyed).toEqual([a]);
    expect(pool.getStats()).toMatchObject({ totalConnections: 1, activeConnections: 1 });
  });

  it('a validator that throws counts as a failed validation', async () => {
    const clock = new VirtualClock();
    const factory = new FakeFactory();
    let calls = 0;
    const pool = new ConnectionPool<FakeConnection>(
      { create: () => factory.create(), destroy: (c) => factory.destroy(c), validate: () => (calls++ === 0 ? Promise.reject(new Error('ping failed')) : true) },
      { clock, minConnections: 0 },
    );
    const a = await pool.acquire();
    pool.release(a);
    const b = await pool.acquire();
    expect(b).not.toBe(a);
    expect(a.destroyed).toBe(true);
  });

  it('destroy(conn) disposes a broken connection, frees its place, and it is never handed out again', async () => {
    const { pool, factory } = make({ maxConnections: 1 });
    const a = await pool.acquire();
    const waiter = pool.acquire();
    pool.destroy(a);
    const b = await waiter;
    expect(b).not.toBe(a);
    expect(a.destroyed).toBe(true);
    expect(() => pool.release(a)).toThrow(PoolForeignConnectionError);
    pool.release(b);
    expect(await pool.acquire()).toBe(b);
    expect(factory.created.length).toBe(2);
  });
});

describe('ConnectionPool misuse', () => {
  it('releasing twice throws a typed error and changes nothing', async () => {
    const { pool } = make();
    const a = await pool.acquire();
    pool.release(a);
    const before = pool.getStats();
    expect(() => pool.release(a)).toThrow(PoolDoubleReleaseError);
    expect(() => pool.destroy(a)).toThrow(PoolDoubleReleaseError);
    expect(pool.getStats()).toEqual(before);
    try {
      pool.release(a);
    } catch (e) {
      expect((e as PoolDoubleReleaseError).code).toBe('RESILIENCE_ERR_POOL_DOUBLE_RELEASE');
    }
  });

  it('releasing a connection from elsewhere throws a typed error', () => {
    const { pool } = make();
    const stranger: FakeConnection = { id: 99, broken: false, destroyed: false };
    expect(() => pool.release(stranger)).toThrow(PoolForeignConnectionError);
    expect(() => pool.destroy(stranger)).toThrow(/does not belong to this pool/);
  });
});

describe('ConnectionPool eviction', () => {
  it('destroys connections idle longer than idleTimeoutMs, down to minConnections, longest idle first', async () => {
    const { clock, pool } = make({ minConnections: 1, maxConnections: 3, idleTimeoutMs: 1000, maxLifetimeMs: Infinity });
    const [a, b, c] = [await pool.acquire(), await pool.acquire(), await pool.acquire()];
    pool.release(a);
    await advance(clock, 100);
    pool.release(b);
    await advance(clock, 100);
    pool.release(c);
    await advance(clock, 799); // t=999: nobody idle for 1000 ms yet
    expect(pool.getStats().idleConnections).toBe(3);
    await advance(clock, 1); // t=1000: a has been idle 1000 ms
    expect(a.destroyed).toBe(true);
    expect(pool.getStats().idleConnections).toBe(2);
    await advance(clock, 100); // t=1100: b goes
    expect(b.destroyed).toBe(true);
    await advance(clock, 10_000); // c stays: it is the minimum
    expect(c.destroyed).toBe(false);
    expect(pool.getStats()).toMatchObject({ totalConnections: 1, idleConnections: 1 });
  });

  it('destroys an idle connection at maxLifetimeMs and replaces it to keep minConnections', async () => {
    const { clock, pool, factory } = make({ minConnections: 1, maxLifetimeMs: 5000, idleTimeoutMs: Infinity });
    await pool.warmUp();
    const [first] = factory.created;
    expect(pool.getStats().idleConnections).toBe(1);
    await advance(clock, 4999);
    expect(first!.destroyed).toBe(false);
    await advance(clock, 1);
    expect(first!.destroyed).toBe(true);
    await flush();
    expect(factory.created.length).toBe(2);
    expect(pool.getStats()).toMatchObject({ totalConnections: 1, idleConnections: 1 });
  });

  it('destroys an active connection past maxLifetimeMs when it is released, not before', async () => {
    const { clock, pool } = make({ maxLifetimeMs: 1000 });
    const a = await pool.acquire();
    await advance(clock, 5000);
    expect(a.destroyed).toBe(false);
    pool.release(a);
    await flush();
    expect(a.destroyed).toBe(true);
    expect(pool.getStats().totalConnections).toBe(0);
  });

  it('leaves no timer behind once idle connections are at the minimum', async () => {
    const { clock, pool } = make({ minConnections: 1, idleTimeoutMs: 100, maxLifetimeMs: Infinity });
    const a = await pool.acquire();
    pool.release(a);
    await advance(clock, 1000);
    expect(a.destroyed).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('ConnectionPool with a failing factory', () => {
  it('rejects the waiter with PoolCreateError (cause kept) and keeps serving once the factory recovers', async () => {
    const { pool, factory } = make({ maxConnections: 1 });
    factory.failNext = 1;
    const error = await pool.acquire().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PoolCreateError);
    expect((error as PoolCreateError).code).toBe('RESILIENCE_ERR_POOL_CREATE');
    expect(((error as PoolCreateError).cause as Error).message).toBe('connect ECONNREFUSED');
    expect(pool.getStats().totalConnections).toBe(0);
    const a = await pool.acquire();
    expect(a.id).toBe(1);
  });

  it('a failed creation lets the next waiter try', async () => {
    const { pool, factory } = make({ maxConnections: 1 });
    factory.manual = true;
    const first = track(pool.acquire());
    const second = track(pool.acquire());
    await flush();
    expect(factory.heldCreates).toBe(1); // only one creation: maxConnections is 1
    factory.failNext = 1;
    factory.completeCreate();
    await flush();
    expect(first.error).toBeInstanceOf(PoolCreateError);
    expect(factory.heldCreates).toBe(1);
    factory.completeCreate();
    await flush();
    expect(second.value?.id).toBe(1);
  });

  it('warmUp rejects with PoolCreateError; background refills report to onError', async () => {
    const { clock, pool, factory, errors } = make({ minConnections: 1, maxLifetimeMs: 100, idleTimeoutMs: Infinity });
    factory.failNext = 1;
    await expect(pool.warmUp()).rejects.toBeInstanceOf(PoolCreateError);
    await pool.warmUp();
    factory.failNext = 1;
    await advance(clock, 100); // lifetime eviction, then a refill that fails
    expect(errors.length).toBe(1);
    expect(errors[0]).toBeInstanceOf(PoolCreateError);
    expect(pool.getStats().totalConnections).toBe(0);
    const a = await pool.acquire();
    expect(a.destroyed).toBe(false);
  });

  it('a creation that completes after its waiter timed out goes idle for the next caller', async () => {
    const { clock, pool, factory } = make({ maxConnections: 1, acquireTimeoutMs: 100 });
    factory.manual = true;
    const late = track(pool.acquire());
    await advance(clock, 100);
    expect(late.error).toBeInstanceOf(PoolAcquireTimeoutError);
    factory.completeCreate();
    await flush();
    expect(pool.getStats()).toMatchObject({ totalConnections: 1, idleConnections: 1, activeConnections: 0 });
    factory.manual = false;
    const a = await pool.acquire();
    expect(a.id).toBe(1);
  });
});

describe('ConnectionPool.close', () => {
  it('rejects waiters and new callers, destroys idle connections now and active ones on release', async () => {
    const { pool, clock } = make({ maxConnections: 2 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    pool.release(b);
    const c = await pool.acquire();
    const waiter = track(pool.acquire());
    pool.release(c);
    await flush();
    const w = waiter.value!;
    const queued = track(pool.acquire());
    await pool.close();
    await flush();
    expect(queued.error).toBeInstanceOf(PoolClosedError);
    await expect(pool.acquire()).rejects.toBeInstanceOf(PoolClosedError);
    expect(a.destroyed).toBe(false);
    pool.release(a);
    pool.release(w);
    await pool.close();
    expect(a.destroyed && w.destroyed).toBe(true);
    expect(pool.getStats().totalConnections).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('PoolConfig validation', () => {
  const factory = new FakeFactory();
  const bad: [string, PoolConfig, RegExp][] = [
    ['min above max', { minConnections: 5, maxConnections: 2 }, /minConnections \(5\) must not exceed maxConnections \(2\)/],
    ['zero max', { maxConnections: 0 }, /maxConnections must be an integer in \[1,/],
    ['negative min', { minConnections: -1 }, /minConnections/],
    ['NaN idle timeout', { idleTimeoutMs: NaN }, /idleTimeoutMs must be a number of ms >= 0/],
    ['negative lifetime', { maxLifetimeMs: -1 }, /maxLifetimeMs/],
    ['negative acquire timeout', { acquireTimeoutMs: -5 }, /acquireTimeoutMs/],
  ];
  for (const [what, config, message] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => new ConnectionPool(factory, config)).toThrow(InvalidResilienceConfigError);
      expect(() => new ConnectionPool(factory, config)).toThrow(message);
    });
  }

  it('rejects a factory without create or destroy', () => {
    expect(() => new ConnectionPool({ create: () => Promise.resolve(1) } as never)).toThrow(/factory.destroy must be a function/);
  });

  it('has the documented defaults', () => {
    const pool = new ConnectionPool(factory);
    expect([pool.minConnections, pool.maxConnections, pool.idleTimeoutMs, pool.maxLifetimeMs, pool.acquireTimeoutMs]).toEqual([1, 10, 60000, 3600000, 5000]);
  });
});
