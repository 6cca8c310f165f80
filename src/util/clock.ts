/**
 * Time as a dependency. Everything above `core` that waits or measures takes a {@link Clock}, so
 * tests and the simulator run on {@link VirtualClock} (no sleeps, reproducible) and production on
 * {@link systemClock}.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * clock.setTimeout(() => console.log('fired at', clock.now()), 100);
 * clock.advance(100); // prints "fired at 100"
 * ```
 */

import { MinHeap } from './min-heap.js';

/** Opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = { readonly __timer: true } | object;

export interface Clock {
  /** Milliseconds; monotonic (never goes back). Only differences are meaningful. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `performance.now()` and Node's timers. Timers are unref'd only if asked. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, Math.max(0, delayMs)) as unknown as TimerHandle,
  clearTimeout: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout),
};

interface VirtualTimer {
  at: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told. Timers fire in order of due time, ties in order of creation,
 * so a run is a pure function of its inputs.
 */
export class VirtualClock implements Clock {
  private nowMs: number;
  private seq = 0;
  // Due time first, then creation order: a run is a pure function of its inputs.
  private readonly heap = new MinHeap<VirtualTimer>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));

  constructor(startMs = 0) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer: VirtualTimer = { at: this.nowMs + Math.max(0, delayMs), seq: this.seq++, callback, cancelled: false };
    this.heap.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    (handle as VirtualTimer).cancelled = true;
  }

  /** Number of timers still pending (cancelled ones excluded). */
  pendingTimers(): number {
    let n = 0;
    for (const t of this.heap.values()) if (!t.cancelled) n++;
    return n;
  }

  /** Due time of the next pending timer, or undefined. */
  nextTimerAt(): number | undefined {
    while (this.heap.size > 0 && this.heap.peek()!.cancelled) this.heap.pop();
    return this.heap.peek()?.at;
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): void {
    this.advanceTo(this.nowMs + ms);
  }

  /** Moves time to `targetMs` (never backwards), firing due timers in order. */
  advanceTo(targetMs: number): void {
    if (targetMs < this.nowMs) throw new RangeError(`VirtualClock cannot go back from ${this.nowMs} to ${targetMs}`);
    for (;;) {
      const next = this.nextTimerAt();
      if (next === undefined || next > targetMs) break;
      const timer = this.heap.pop()!;
      this.nowMs = timer.at;
      timer.callback();
    }
    this.nowMs = targetMs;
  }

  /** Fires the next pending timer (moving time to it). Returns false if none is pending. */
  runNext(): boolean {
    const next = this.nextTimerAt();
    if (next === undefined) return false;
    const timer = this.heap.pop()!;
    this.nowMs = timer.at;
    timer.callback();
    return true;
  }
}
