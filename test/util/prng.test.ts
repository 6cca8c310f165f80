import { describe, expect, it } from 'vitest';
import { Prng } from '../../src/util/prng.js';

describe('Prng', () => {
  it('replays the same sequence from the same seed and differs across seeds', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const c = new Prng(8);
    const seqA = Array.from({ length: 64 }, () => a.nextU32());
    const seqB = Array.from({ length: 64 }, () => b.nextU32());
    const seqC = Array.from({ length: 64 }, () => c.nextU32());
    expect(seqA).toEqual(seqB);
    expect(seqA).not.toEqual(seqC);
  });

  it('stays in range and covers it roughly evenly', () => {
    const rand = new Prng(1);
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = rand.next();
      expect(x >= 0 && x < 1).toBe(true);
      buckets[rand.int(10)]++;
    }
    // Each bucket expects 10,000; a fair generator stays well within ±5%.
    for (const n of buckets) expect(Math.abs(n - 10_000)).toBeLessThan(500);
  });

  it('forks independent generators deterministically', () => {
    const parent1 = new Prng(3);
    const parent2 = new Prng(3);
    expect(parent1.fork().nextU32()).toBe(parent2.fork().nextU32());
    expect(new Prng(0).nextU32()).not.toBe(new Prng(0).fork().nextU32());
  });

  it('shuffles into a permutation, the same one for the same seed', () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    const a = new Prng(11).shuffle([...items]);
    expect(new Prng(11).shuffle([...items])).toEqual(a);
    expect([...a].sort((x, y) => x - y)).toEqual(items);
    expect(a).not.toEqual(items);
  });
});
