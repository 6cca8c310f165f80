import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Inflights, Progress } from '../../src/core/progress.js';

describe('Inflights', () => {
  it('behaves like a FIFO of ascending indices freed by prefix', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.tuple(fc.boolean(), fc.nat({ max: 5 })), { maxLength: 100 }), (capacity, ops) => {
        const inflights = new Inflights(capacity);
        const model: number[] = [];
        let next = 1;
        for (const [add, step] of ops) {
          if (add && model.length < capacity) {
            next += step;
            inflights.add(next);
            model.push(next);
          } else {
            const upTo = next - step;
            inflights.freeLE(upTo);
            while (model.length > 0 && model[0] <= upTo) model.shift();
          }
          expect(inflights.size).toBe(model.length);
          expect(inflights.full()).toBe(model.length === capacity);
        }
      }),
    );
  });

  it('refuses to add when full or out of order', () => {
    const inflights = new Inflights(2);
    inflights.add(3);
    expect(() => inflights.add(2)).toThrow(/below newest/);
    inflights.add(4);
    expect(() => inflights.add(5)).toThrow(/full/);
  });
});

describe('Progress', () => {
  it('keeps 0 ≤ match < next through probe, replicate and snapshot', () => {
    const pr = new Progress(11, 4);
    expect(pr.state).toBe('probe');
    expect(pr.isPaused()).toBe(false);
    pr.probeSent = true;
    expect(pr.isPaused()).toBe(true);
    expect(pr.maybeUpdate(7)).toBe(true);
    expect(pr.probeSent).toBe(false);
    pr.becomeReplicate();
    expect(pr.nextIndex).toBe(8);
    // Slow start: one append in flight at first, one more per acknowledgement, up to the capacity.
    pr.sentEntries(8);
    expect(pr.isPaused()).toBe(true);
    expect(pr.maybeUpdate(8)).toBe(true);
    pr.inflights.freeLE(8);
    pr.growWindow();
    for (let i = 0; i < 10; i++) pr.growWindow();
    expect(pr.window).toBe(4);
    for (let i = 0; i < 4; i++) pr.sentEntries(9 + i);
    expect(pr.isPaused()).toBe(true);
    expect(pr.maybeUpdate(10)).toBe(true);
    pr.inflights.freeLE(10);
    expect(pr.isPaused()).toBe(false);
    expect(pr.maybeUpdate(5)).toBe(false); // stale acknowledgement
    expect(pr.matchIndex).toBe(10);
    pr.becomeSnapshot({ meta: { lastIncludedIndex: 50, lastIncludedTerm: 2, config: { voters: [], learners: [] } }, data: new Uint8Array(1) });
    expect(pr.isPaused()).toBe(true);
    pr.becomeProbe();
    expect(pr.nextIndex).toBe(51);
    expect(() => {
      pr.nextIndex = pr.matchIndex;
      pr.checkInvariant();
    }).toThrow(/match < next/);
  });
});
