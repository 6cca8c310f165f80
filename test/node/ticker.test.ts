import { describe, expect, it } from 'vitest';
import { Ticker } from '../../src/node/ticker.js';
import { VirtualClock } from '../../src/util/clock.js';

/** A clock whose time and timer the test moves by hand: a timer can fire late, as after a stall. */
class HandClock {
  time = 0;
  private pending: (() => void) | undefined;
  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void): object {
    this.pending = callback;
    return {};
  }
  clearTimeout(): void {
    this.pending = undefined;
  }
  fire(): void {
    const callback = this.pending;
    this.pending = undefined;
    callback?.();
  }
}

describe('Ticker', () => {
  it('gives one tick per tickMs of clock time, and after a pause the ticks owed, bounded', () => {
    const clock = new VirtualClock();
    const given: number[] = [];
    const ticker = new Ticker(clock, 10, 300, (ticks) => given.push(ticks));
    ticker.start();
    clock.advance(35);
    expect(given).toEqual([1, 1, 1]);
    ticker.stop();
    // A pause: the clock jumps 10 s without the timer firing in between (as after SIGSTOP).
    const paused = new HandClock();
    given.length = 0;
    const resumed = new Ticker(paused, 10, 300, (ticks) => given.push(ticks));
    resumed.start();
    paused.time = 10_000;
    resumed.catchUp();
    // 1,000 ticks owed; past two election timeouts (2 × 30 ticks, at least 64) more change nothing.
    expect(given).toEqual([64]);
    resumed.catchUp();
    expect(given).toEqual([64]); // nothing more owed: the time was paid for, not just the ticks given
  });

  it('stops for good when stopped, even from inside its own ticks', () => {
    const clock = new VirtualClock();
    let ticks = 0;
    const ticker = new Ticker(clock, 10, 300, (n) => {
      ticks += n;
      if (ticks >= 2) ticker.stop();
    });
    ticker.start();
    clock.advance(100);
    expect(ticks).toBe(2);
    ticker.start(); // a restart owes nothing for the stopped time
    clock.advance(10);
    expect(ticks).toBe(3);
    ticker.stop();
  });
});

describe('Ticker after a stall', () => {
  it('gives the owed ticks a few per timer, with the turns between them free for I/O; a lease read takes them all at once', () => {
    const clock = new HandClock();
    const given: number[] = [];
    const ticker = new Ticker(clock, 10, 300, (ticks) => given.push(ticks));
    ticker.start();
    clock.time = 10;
    clock.fire(); // on time: one
    expect(given).toEqual([1]);
    clock.time = 210;
    clock.fire(); // 200 ms late: 20 owed, 4 now
    expect(given).toEqual([1, 4]);
    clock.time = 220;
    clock.fire(); // 17 owed: 4 more
    expect(given).toEqual([1, 4, 4]);
    ticker.catchUp(); // a lease read: every tick owed, at once
    expect(given).toEqual([1, 4, 4, 13]);
    clock.time = 230;
    clock.fire();
    expect(given).toEqual([1, 4, 4, 13, 1]); // nothing owed twice
    ticker.stop();
  });
});
