import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/util/clock.js';

describe('VirtualClock', () => {
  it('fires timers in due order, ties in creation order, only when advanced past them', () => {
    const clock = new VirtualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    clock.advance(9);
    expect(fired).toEqual([]);
    clock.advance(11);
    expect(fired).toEqual(['a@1010', 'b@1020', 'c@1020']);
    expect(clock.now()).toBe(1020);
  });

  it('does not fire cancelled timers, and timers set by timers run in the same advance', () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    const t = clock.setTimeout(() => fired.push(-1), 5);
    clock.setTimeout(() => clock.setTimeout(() => fired.push(clock.now()), 5), 5);
    clock.clearTimeout(t);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(10);
    expect(fired).toEqual([10]);
    expect(clock.runNext()).toBe(false);
  });

  it('refuses to go back in time', () => {
    const clock = new VirtualClock(50);
    expect(() => clock.advanceTo(49)).toThrow(RangeError);
  });
});
