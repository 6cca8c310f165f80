import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConnectionPool, PoolCreateError, type PoolFactory, ResilienceError } from '../../src/resilience/index.js';
import type { Clock } from '../../src/util/clock.js';
import { VirtualClock } from '../../src/util/clock.js';
import { flush, propertyRuns } from './helpers.js';

interface Conn {
  id: number;
  broken: boolean;
  destroyed: number;
}

/** Creation and validation take virtual time and fail as the script says. */
class ScriptedFactory implements PoolFactory<Conn> {
  nextId = 1;
  all: Conn[] = [];
  constructor(
    private readonly clock: Clock,
    private readonly createDelaysMs: number[],
    private readonly createFailures: boolean[],
  ) {}

  private n = 0;
  create(): Promise<Conn> {
    const i = this.n++;
    const delayMs = this.createDelaysMs[i % this.createDelaysMs.length]!;
    const fails = this.createFailures[i % this.createFailures.length]!;
    return new Promise((resolve, reject) => {
      this.clock.setTimeout(() => {
        if (fails) reject(new Error('refused'));
        else {
          const conn = { id: this.nextId++, broken: false, destroyed: 0 };
          this.all.push(conn);
          resolve(conn);
        }
      }, delayMs);
    });
  }

  destroy(conn: Conn): void {
    conn.destroyed++;
  }

  validate(conn: Conn): Promise<boolean> | boolean {
    // Alternate sync and async answers, so both paths interleave with other operations.
    return conn.id % 2 === 0 ? !conn.broken : Promise.resolve(!conn.broken);
  }
}

const command = fc.oneof(
  fc.record({ kind: fc.constant('acquire' as const), abortAfterMs: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }) }),
  fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('destroy' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('break' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 400 }) }),
);

describe('ConnectionPool (property)', () => {
  it('never exceeds maxConnections, never hands one connection to two holders, never hands out a destroyed or broken one', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          minConnections: fc.integer({ min: 0, max: 3 }),
          extra: fc.integer({ min: 0, max: 4 }),
          idleTimeoutMs: fc.integer({ min: 0, max: 500 }),
          maxLifetimeMs: fc.integer({ min: 1, max: 2000 }),
          acquireTimeoutMs: fc.integer({ min: 1, max: 500 }),
        }),
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
        fc.array(command, { minLength: 1, maxLength: 80 }),
        async (p, createDelaysMs, createFailures, commands) => {
          const clock = new VirtualClock();
          const factory = new ScriptedFactory(clock, createDelaysMs, createFailures);
          const maxConnections = p.minConnections + p.extra + 1;
          const unexpected: unknown[] = [];
          const pool = new ConnectionPool(factory, { ...p, maxConnections, clock, onError: (e) => (e instanceof PoolCreateError ? undefined : unexpected.push(e)) });
          const holders = new Set<Conn>();
          const outcomes: Promise<unknown>[] = [];

          const check = (): void => {
            const stats = pool.getStats();
            expect(stats.totalConnections).toBeLessThanOrEqual(maxConnections);
            expect(stats.totalConnections).toBe(stats.activeConnections + stats.idleConnections + stats.pendingConnections);
            expect(stats.activeConnections).toBe(holders.size);
            const open = factory.all.filter((c) => c.destroyed === 0).length;
            expect(open).toBeLessThanOrEqual(maxConnections);
            for (const c of holders) expect(c.destroyed).toBe(0);
            for (const c of factory.all) expect(c.destroyed).toBeLessThanOrEqual(1);
          };
          const pick = (n: number): Conn | undefined => [...holders][n % Math.max(1, holders.size)];

          for (const cmd of commands) {
            switch (cmd.kind) {
              case 'acquire': {
                const controller = cmd.abortAfterMs === undefined ? undefined : new AbortController();
                if (controller !== undefined) clock.setTimeout(() => controller.abort(), cmd.abortAfterMs!);
                outcomes.push(
                  pool.acquire({ signal: controller?.signal }).then(
                    (conn) => {
                      expect(holders.has(conn)).toBe(false);
                      expect(conn.destroyed).toBe(0);
                      // Validation runs within the same turn, so a broken one was never handed out.
                      expect(conn.broken).toBe(false);
                      holders.add(conn);
                    },
                    (e: unknown) => expect(e).toBeInstanceOf(ResilienceError),
                  ),
                );
                break;
              }
              case 'release':
              case 'destroy': {
                const conn = pick(cmd.pick);
                if (conn === undefined) break;
                holders.delete(conn);
                if (cmd.kind === 'release') pool.release(conn);
                else pool.destroy(conn);
                break;
              }
              case 'break': {
                const conn = factory.all[cmd.pick % Math.max(1, factory.all.length)];
                if (conn !== undefined) conn.broken = true;
                break;
              }
              case 'advance':
                for (let i = 0; i < cmd.ms; i += 10) {
                  clock.advance(Math.min(10, cmd.ms - i));
                  await flush();
                  check();
                }
                break;
            }
            await flush();
            check();
          }
          // Let every waiter settle (timeouts fire), then give everything back and close.
          clock.advance(1000);
          await flush();
          await Promise.all(outcomes);
          for (const conn of holders) pool.release(conn);
          holders.clear();
          await pool.close();
          clock.advance(1000); // creations still in flight complete and are destroyed
          await flush();
          check();
          expect(pool.getStats().totalConnections).toBe(0);
          for (const c of factory.all) expect(c.destroyed).toBe(1);
          expect(unexpected).toEqual([]);
        },
      ),
      { numRuns: propertyRuns(200) },
    );
  });
});
