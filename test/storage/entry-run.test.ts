// EntryRun against a Map by index (what LogPlan used before): random pushes, truncations and
// compactions must leave both holding the same entries, and the run refuses a gap.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../src/core/types.js';
import { EntryRun } from '../../src/storage/entry-run.js';

const entry = (index: number, term = 1): Entry => ({ index, term, type: 'normal', data: new Uint8Array([index & 0xff]) });

type Op = { kind: 'push'; count: number; term: number } | { kind: 'truncateFrom'; back: number } | { kind: 'dropThrough'; forward: number } | { kind: 'clear' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('push' as const), count: fc.integer({ min: 1, max: 700 }), term: fc.integer({ min: 1, max: 3 }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('truncateFrom' as const), back: fc.integer({ min: -2, max: 400 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('dropThrough' as const), forward: fc.integer({ min: -2, max: 1500 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('clear' as const) }), weight: 1 },
);

describe('EntryRun', () => {
  it('holds what a Map by index holds, through any pushes, truncations and compactions', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.array(op, { maxLength: 60 }), (start, ops) => {
        const run = new EntryRun();
        const model = new Map<number, Entry>();
        let next = start; // the index the next push takes
        const lo = (): number => (model.size === 0 ? Number.POSITIVE_INFINITY : Math.min(...model.keys()));
        for (const o of ops) {
          switch (o.kind) {
            case 'push':
              for (let k = 0; k < o.count; k++, next++) {
                const e = entry(next, o.term);
                run.push(e);
                model.set(next, e);
              }
              break;
            case 'truncateFrom': {
              const index = next - o.back;
              run.truncateFrom(index);
              for (const key of [...model.keys()]) if (key >= index) model.delete(key);
              if (model.size > 0) next = Math.max(...model.keys()) + 1;
              else next = Math.min(next, index);
              break;
            }
            case 'dropThrough': {
              const index = (model.size === 0 ? next : lo()) + o.forward;
              run.dropThrough(index);
              for (const key of [...model.keys()]) if (key <= index) model.delete(key);
              if (model.size === 0) next = Math.max(next, index + 1);
              break;
            }
            case 'clear':
              run.clear();
              model.clear();
              break;
          }
          expect(run.size).toBe(model.size);
          expect(run.lo).toBe(lo());
          expect(run.hi).toBe(model.size === 0 ? Number.NEGATIVE_INFINITY : Math.max(...model.keys()));
          expect(run.toArray()).toEqual([...model.values()].sort((a, b) => a.index - b.index));
          for (const probe of [run.lo - 1, run.lo, run.hi, run.hi + 1, next + 5]) expect(run.get(probe)).toBe(model.get(probe));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses an entry that does not follow the last one', () => {
    const run = new EntryRun();
    run.push(entry(7));
    expect(() => run.push(entry(9))).toThrow(/does not follow/);
    expect(() => run.push(entry(7))).toThrow(/does not follow/);
    const other = new EntryRun();
    other.push(entry(10));
    expect(() => run.pushRun(other)).toThrow(/does not follow/);
    run.push(entry(8));
    const following = new EntryRun();
    following.push(entry(9));
    following.push(entry(10));
    run.pushRun(following);
    expect(run.toArray().map((e) => e.index)).toEqual([7, 8, 9, 10]);
  });
});
