import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SHARDS, SnapshotMap, shardOf } from '../../src/cache/snapshot-map.js';

const opArb = fc.record({ kind: fc.constantFrom('set', 'set', 'delete', 'step'), key: fc.integer({ min: 0, max: 29 }), value: fc.integer() });

describe('SnapshotMap', () => {
  it('a capture walked while writes go on yields the entries as of the capture, in their order', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), fc.array(opArb, { maxLength: 120 }), (setup, during) => {
        const map = new SnapshotMap<number>();
        const model = new Map<string, number>();
        const write = (op: { kind: string; key: number; value: number }) => {
          const key = `k${op.key}`;
          if (op.kind === 'set') {
            map.set(key, op.value);
            model.set(key, op.value);
          } else if (op.kind === 'delete') {
            map.delete(key);
            model.delete(key);
          }
        };
        setup.forEach(write);
        // The map's own order (shard by shard) at the capture; the entries are the model's.
        const atCapture = [...map.entries()];
        expect(new Map(atCapture)).toEqual(model);
        const view = map.beginCapture();
        expect(view.size).toBe(atCapture.length);
        const walk = view.entries[Symbol.iterator]();
        const walked: [string, number][] = [];
        for (const op of during) {
          if (op.kind === 'step') {
            const next = walk.next();
            if (!next.done) walked.push(next.value);
          } else write(op);
          // Reads see the live state throughout.
          expect(map.get(`k${op.key}`)).toBe(model.get(`k${op.key}`));
          expect(map.size).toBe(model.size);
        }
        for (let next = walk.next(); !next.done; next = walk.next()) walked.push(next.value);
        expect(walked).toEqual(atCapture);
        map.endCapture();
        expect(map.capturing).toBe(false);
        expect(map.size).toBe(model.size);
        expect([...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1))).toEqual([...model].sort(([a], [b]) => (a < b ? -1 : 1)));
      }),
      { numRuns: 1_000, seed: 5 },
    );
  });

  it('without a capture, a delete removes the key at once', () => {
    const map = new SnapshotMap<number>();
    map.set('a', 1);
    map.delete('a');
    map.set('b', 2);
    map.set('a', 3);
    expect([...map.entries()]).toEqual([['b', 2], ['a', 3]]);
  });

  it('spreads keys of common shapes evenly over the shards (a Map that outgrows its table rehashes all of it at once)', () => {
    const shapes: ((i: number) => string)[] = [
      (i) => `k${i}`,
      (i) => `user:${i}:profile`,
      (i) => `${(i * 2654435761) >>> 0}`.padStart(12, '0'),
      (i) => `session/${i.toString(16).padStart(8, '0')}-4a7e-9c1d-${'x'.repeat(40)}`,
    ];
    for (const shape of shapes) {
      const counts = new Array<number>(SHARDS).fill(0);
      const keys = 64 * SHARDS * 4;
      for (let i = 0; i < keys; i++) counts[shardOf(shape(i))]!++;
      const mean = keys / SHARDS;
      expect(Math.max(...counts), shape(7)).toBeLessThan(1.5 * mean);
      expect(Math.min(...counts), shape(7)).toBeGreaterThan(0.5 * mean);
    }
  });
});
