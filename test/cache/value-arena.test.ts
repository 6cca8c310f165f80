// The cache's value arena: values are copies that stay valid, the arena counts live and dead bytes,
// and the state machine moves live values into a new generation once the dead ones pile up, so
// memory stays bounded under churn while every read sees exactly what the model holds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CacheStateMachine, DEFAULT_CACHE_LIMITS, encodeCacheCommand } from '../../src/cache/index.js';
import { ARENA_VALUE_BYTES_MAX, ValueArena } from '../../src/cache/value-arena.js';

const filled = (length: number, byte: number): Uint8Array => new Uint8Array(length).fill(byte);

describe('ValueArena', () => {
  it('copies values, counts live and dead bytes, and says when a compaction is due', () => {
    const arena = new ValueArena(1000);
    const source = filled(100, 7);
    const copies = Array.from({ length: 30 }, () => arena.copy(source));
    source.fill(0);
    expect(copies.every((c) => c.length === 100 && c.every((b) => b === 7))).toBe(true);
    expect(arena.liveBytes).toBe(3000);
    expect(arena.carvedBytes).toBe(3000);
    for (const c of copies.slice(0, 19)) arena.release(c);
    // 1,900 dead bytes: past both the 1,100 live ones and the floor of 1,000.
    expect(arena.compactionDue()).toBe(true);
    arena.beginGeneration();
    expect(arena.compactionDue()).toBe(false);
    const moved = copies.slice(19).map((c) => arena.relocate(c));
    expect(moved.every((m, k) => m !== copies[19 + k] && m.every((b) => b === 7))).toBe(true);
    // Already in the new generation: left where it is.
    expect(arena.relocate(moved[0]!)).toBe(moved[0]);
    expect(arena.carvedBytes).toBe(1100);
    expect(arena.liveBytes).toBe(1100);
  });

  it('gives values over ARENA_VALUE_BYTES_MAX memory of their own and does not count them', () => {
    const arena = new ValueArena(0);
    const big = arena.copy(filled(ARENA_VALUE_BYTES_MAX + 1, 1));
    expect(big.buffer.byteLength).toBe(ARENA_VALUE_BYTES_MAX + 1);
    expect(arena.liveBytes).toBe(0);
    arena.release(big);
    expect(arena.liveBytes).toBe(0);
    expect(arena.relocate(big)).toBe(big);
  });
});

describe('CacheStateMachine with its value arena', () => {
  type Op = { kind: 'set' | 'delete' | 'ttl'; key: number; size: number };
  const op = fc.record({ kind: fc.constantFrom<Op['kind']>('set', 'set', 'set', 'delete', 'ttl'), key: fc.integer({ min: 0, max: 40 }), size: fc.integer({ min: 0, max: 300 }) });

  it('reads what a plain map holds through churn, compactions, snapshots and restores', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 400 }), (ops) => {
        // A floor of 2 KiB: compactions happen every few dozen writes.
        const cache = new CacheStateMachine(DEFAULT_CACHE_LIMITS, 2048);
        const model = new Map<string, Uint8Array>();
        let index = 0;
        let nowMs = 1;
        const held: Uint8Array[] = []; // views handed out earlier must never change
        const heldCopies: Uint8Array[] = [];
        for (const [n, o] of ops.entries()) {
          const key = `k${o.key}`;
          nowMs++;
          if (o.kind === 'delete') {
            cache.apply(++index, encodeCacheCommand({ op: 'delete', key }, { nowMs, clientId: '', sequence: 0 }));
            model.delete(key);
          } else {
            const value = filled(o.size, n & 0xff);
            // 'ttl': expires after the next write's time, so the purge on that write removes it.
            const ttlMs = o.kind === 'ttl' ? 1 : undefined;
            cache.apply(++index, encodeCacheCommand({ op: 'set', key, value, ttlMs }, { nowMs, clientId: '', sequence: 0 }));
            if (ttlMs === undefined) model.set(key, value);
            else model.delete(key); // invisible from the next ms on, purged at the next write
          }
          const seen = cache.get(key, nowMs + 1);
          expect(seen === undefined ? undefined : [...seen]).toEqual(model.has(key) ? [...model.get(key)!] : undefined);
          if (seen !== undefined && n % 7 === 0) {
            held.push(seen);
            heldCopies.push(seen.slice());
          }
        }
        for (const [key, value] of model) expect([...(cache.get(key, nowMs + 1) ?? [])]).toEqual([...value]);
        expect(held.map((v) => [...v])).toEqual(heldCopies.map((v) => [...v]));
        const restored = new CacheStateMachine(DEFAULT_CACHE_LIMITS, 2048);
        restored.restore(cache.snapshot());
        for (const [key, value] of model) expect([...(restored.get(key, nowMs + 1) ?? [])]).toEqual([...value]);
      }),
      { numRuns: 150 },
    );
  });

  it('keeps the arena within twice the live bytes plus the floor under churn', () => {
    const floor = 64 * 1024;
    const cache = new CacheStateMachine(DEFAULT_CACHE_LIMITS, floor);
    const arena = (cache as unknown as { arena: ValueArena }).arena;
    let index = 0;
    let worst = 0;
    for (let i = 0; i < 50_000; i++) {
      const key = `k${(i * 7919) % 1000}`;
      cache.apply(++index, encodeCacheCommand({ op: 'set', key, value: filled(100, i & 0xff) }, { nowMs: 1, clientId: '', sequence: 0 }));
      const current = (cache as unknown as { arena: ValueArena }).arena;
      worst = Math.max(worst, current.carvedBytes - 2 * current.liveBytes);
    }
    // 1,000 keys × 100 bytes live; 5 MB written. Without compaction carvedBytes would reach 5 MB.
    expect(arena.liveBytes).toBe(100_000);
    expect(arena.carvedBytes).toBeLessThanOrEqual(2 * arena.liveBytes + floor + 100);
    expect(worst).toBeLessThanOrEqual(floor + 100);
  });
});
