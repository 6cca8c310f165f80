import { describe, expect, it } from 'vitest';
import type { Ready } from '../../src/core/ready.js';
import { ReadyWrites } from '../../src/node/ready-writes.js';

const ready = (over: Partial<Ready>): Ready => ({
  hardState: null, softState: null, entries: [], snapshot: null, messages: [], committedEntries: [], readStates: [], mustSync: false, logLastIndex: 0, logLastTerm: 0, ...over,
});
const deferred = <T>() => {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

describe('ReadyWrites', () => {
  it('keeps a commit-only hard state for the next write that syncs anyway', () => {
    const writes = new ReadyWrites();
    expect(writes.update(ready({ hardState: { term: 2, vote: 'a', commit: 5 } }))).toBeNull();
    expect(writes.update(ready({}))).toBeNull(); // messages only: still nothing to write
    const entry = { index: 6, term: 2, type: 'normal' as const, data: new Uint8Array() };
    expect(writes.update(ready({ entries: [entry], mustSync: true }))).toEqual({ snapshotMeta: null, entries: [entry], hardState: { term: 2, vote: 'a', commit: 5 } });
    expect(writes.takeDeferred()).toBeNull();
    // A vote must be written at once.
    expect(writes.update(ready({ hardState: { term: 3, vote: 'b', commit: 5 }, mustSync: true }))?.hardState).toEqual({ term: 3, vote: 'b', commit: 5 });
    // A commit that applies a membership change too.
    const change = { index: 7, term: 3, type: 'confChange' as const, data: new Uint8Array() };
    expect(writes.update(ready({ hardState: { term: 3, vote: 'b', commit: 7 }, committedEntries: [change] }))?.hardState?.commit).toBe(7);
    writes.update(ready({ hardState: { term: 3, vote: 'b', commit: 8 } }));
    expect(writes.takeDeferred()).toEqual({ term: 3, vote: 'b', commit: 8 });
  });

  it('runs follow-ups in the order the writes were chained, whatever order they finish in', async () => {
    const writes = new ReadyWrites();
    const first = deferred<void>();
    const second = deferred<void>();
    const order: string[] = [];
    writes.chain(first.promise, () => order.push('first'), () => order.push('first failed'));
    writes.chain(undefined, () => order.push('nothing to write'), () => order.push('?'));
    writes.chain(second.promise, () => order.push('second'), () => order.push('second failed'));
    second.resolve();
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]); // waits for the first
    first.resolve();
    await writes.drained();
    expect(order).toEqual(['first', 'nothing to write', 'second']);
  });

  it('reports a failed write, and drops follow-ups chained before a reset', async () => {
    const writes = new ReadyWrites();
    const failing = deferred<void>();
    const errors: unknown[] = [];
    writes.chain(failing.promise, () => errors.push('durable?'), (error) => errors.push(error));
    failing.reject(new Error('disk full'));
    await writes.drained();
    expect(errors).toEqual([new Error('disk full')]);
    const late = deferred<void>();
    let ran = false;
    writes.chain(late.promise, () => (ran = true), () => (ran = true));
    writes.reset();
    late.resolve();
    await writes.drained();
    expect(ran).toBe(false);
  });
});
