import { describe, expect, it } from 'vitest';
import { ReadQueue } from '../../src/node/read-queue.js';

describe('ReadQueue', () => {
  it('tells confirmed reads once their index is applied, in order, and keeps the rest', () => {
    const q = new ReadQueue();
    const told: string[] = [];
    for (const [context, index] of [[1, 5], [2, 7], [3, 6]] as const) {
      q.add(context, (error, at) => told.push(`${context}:${error === null ? at : error.message}`));
      q.confirm({ context, index });
    }
    q.confirm({ context: 99, index: 1 }); // unknown: ignored
    q.release(6);
    expect(told).toEqual(['1:5', '3:6']);
    expect(q.size).toBe(1);
    q.release(7);
    expect(told).toEqual(['1:5', '3:6', '2:7']);
    expect(q.size).toBe(0);
  });

  it('a callback that fails every read while reads are being released: each read is told exactly once', () => {
    const q = new ReadQueue();
    const told = new Map<number, (string | number)[]>();
    const record = (context: number) => (error: Error | null, index?: number) => {
      told.set(context, [...(told.get(context) ?? []), error === null ? index! : error.message]);
      if (context === 1) q.rejectAll(new Error('stopped')); // e.g. the node stopped from inside a callback
    };
    for (let context = 1; context <= 4; context++) {
      q.add(context, record(context));
      if (context <= 3) q.confirm({ context, index: context });
    }
    q.release(2); // 1 and 2 are due; 1's callback fails everything else
    expect(Object.fromEntries(told)).toEqual({ 1: [1], 2: [2], 3: ['stopped'], 4: ['stopped'] });
    q.release(10);
    expect(q.size).toBe(0);
    expect([...told.values()].every((calls) => calls.length === 1)).toBe(true);
  });

  it('a callback that throws does not stop the others; the error is thrown again on its own microtask', () => {
    const q = new ReadQueue();
    const told: number[] = [];
    const queued: (() => void)[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (fn) => void queued.push(fn);
    try {
      q.add(1, () => {
        throw new Error('caller bug');
      });
      q.add(2, (_error, index) => told.push(index!));
      q.confirm({ context: 1, index: 1 });
      q.confirm({ context: 2, index: 1 });
      q.release(1);
    } finally {
      globalThis.queueMicrotask = original;
    }
    expect(told).toEqual([1]);
    expect(queued).toHaveLength(1);
    expect(() => queued[0]!()).toThrow('caller bug');
  });
});
