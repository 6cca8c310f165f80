import { describe, expect, it } from 'vitest';
import type { Entry } from '../../src/core/index.js';
import { RaftLog } from '../../src/core/raft-log.js';

const e = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array(0) });
const log3 = (): RaftLog => new RaftLog(0, 0, [e(1, 1), e(2, 2), e(3, 2)], 1);

describe('RaftLog', () => {
  it('reports terms inside the log only', () => {
    const log = log3();
    expect([0, 1, 2, 3, 4].map((i) => log.term(i))).toEqual([0, 1, 2, 2, undefined]);
    expect(log.lastIndex()).toBe(3);
    expect(log.lastTerm()).toBe(2);
  });

  it('finds the first conflicting or new entry', () => {
    const log = log3();
    expect(log.findConflict([e(1, 1), e(2, 2)])).toBe(0);
    expect(log.findConflict([e(2, 2), e(3, 2), e(4, 3)])).toBe(4);
    expect(log.findConflict([e(2, 2), e(3, 3)])).toBe(3);
  });

  it('truncates a conflicting suffix on append and marks it unstable', () => {
    const log = log3();
    expect(log.unstableFrom).toBe(4);
    log.append([e(3, 3), e(4, 3)]);
    expect([log.term(3), log.term(4)]).toEqual([3, 3]);
    expect(log.unstableFrom).toBe(3);
    expect(log.persistedIndex).toBe(2);
    expect(log.unstableEntries().map((x) => x.index)).toEqual([3, 4]);
  });

  it('never overwrites a committed entry', () => {
    const log = log3();
    expect(() => log.append([e(1, 5)])).toThrow(/committed/);
  });

  it('answers the up-to-date check of §5.4.1', () => {
    const log = log3();
    expect(log.isUpToDate(3, 2)).toBe(true);
    expect(log.isUpToDate(2, 2)).toBe(false);
    expect(log.isUpToDate(1, 3)).toBe(true);
    expect(log.isUpToDate(9, 1)).toBe(false);
  });

  it('gives the first index of a term for rejection hints', () => {
    const log = new RaftLog(0, 0, [e(1, 1), e(2, 2), e(3, 2), e(4, 2), e(5, 4)], 0);
    expect(log.firstIndexOfTermAt(4)).toBe(2);
    expect(log.firstIndexOfTermAt(5)).toBe(5);
    expect(log.lastIndexWithTermAtMost(3, 5)).toBe(4);
    expect(log.lastIndexWithTermAtMost(1, 5)).toBe(1);
  });

  it('slices by bytes but always returns at least one entry', () => {
    const big = (i: number): Entry => ({ index: i, term: 1, type: 'normal', data: new Uint8Array(10) });
    const log = new RaftLog(0, 0, [big(1), big(2), big(3)], 0);
    expect(log.slice(1, 4, 70).length).toBe(2); // 10 bytes + 24 of header each
    expect(log.slice(1, 4, 5).length).toBe(1);
    expect(log.slice(1, 4).length).toBe(3);
  });

  it('compacts up to an applied, persisted index and keeps terms at the boundary', () => {
    const log = log3();
    log.applying = 1;
    log.applied = 1;
    log.compact(1);
    expect(log.firstIndex()).toBe(2);
    expect(log.term(1)).toBe(1);
    expect(log.term(0)).toBeUndefined();
    expect(() => log.compact(3)).toThrow(/beyond applied/);
  });

  it('keeps applied ≤ commit ≤ lastIndex', () => {
    const log = log3();
    expect(() => log.commitTo(9)).toThrow(/beyond the log/);
    expect(log.commitTo(3)).toBe(true);
    expect(log.takeCommitted(Infinity).map((x) => x.index)).toEqual([1, 2, 3]);
    expect(log.takeCommitted(Infinity)).toEqual([]);
  });
});

describe('RaftLog hint searches agree with a linear scan', () => {
  it('for random logs', async () => {
    const fc = (await import('fast-check')).default;
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 40 }), fc.nat({ max: 5 }), fc.nat(), fc.nat(), (steps, snap, a, b) => {
        let term = 1;
        const all = steps.map((step, k) => ({ index: k + 1, term: (term += step), type: 'normal' as const, data: new Uint8Array(0) }));
        const snapshotIndex = Math.min(snap, all.length - 1);
        const snapshotTerm = snapshotIndex === 0 ? 0 : all[snapshotIndex - 1].term;
        const log = new RaftLog(snapshotIndex, snapshotTerm, all.slice(snapshotIndex), snapshotIndex);
        const at = snapshotIndex + 1 + (a % (all.length - snapshotIndex));
        let first = at;
        while (first > snapshotIndex + 1 && log.term(first - 1) === log.term(at)) first--;
        expect(log.firstIndexOfTermAt(at)).toBe(first);
        const t = b % (term + 2);
        let last = Math.min(at, log.lastIndex());
        while (last > snapshotIndex && log.term(last)! > t) last--;
        expect(log.lastIndexWithTermAtMost(t, at)).toBe(last);
      }),
      { numRuns: 2000 },
    );
  });
});
