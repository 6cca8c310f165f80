import { describe, expect, it } from 'vitest';
import { ProposalDroppedError } from '../../src/core/errors.js';
import type { Entry } from '../../src/core/types.js';
import { ProposalWaiters } from '../../src/node/proposal-waiters.js';

const entry = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array(0) });

describe('ProposalWaiters with callbacks', () => {
  it('tells the result when its own entry is applied, ProposalDroppedError when another term took the index', () => {
    const waiters = new ProposalWaiters<string>();
    const told: string[] = [];
    waiters.addCallback(1, 2, (error, result) => told.push(error === null ? `1:${result}` : `1:${error.constructor.name}`));
    waiters.addCallback(2, 2, (error, result) => told.push(error === null ? `2:${result}` : `2:${error.constructor.name}`));
    waiters.applied(entry(1, 2), 'a');
    waiters.applied(entry(2, 3), 'b');
    expect(told).toEqual(['1:a', `2:${ProposalDroppedError.name}`]);
    expect(waiters.size).toBe(0);
  });

  it('a callback that throws does not stop the others; the error is thrown again on its own microtask', () => {
    const waiters = new ProposalWaiters<string>();
    const told: string[] = [];
    const queued: (() => void)[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (fn) => void queued.push(fn);
    try {
      waiters.addCallback(1, 1, () => {
        throw new Error('caller bug');
      });
      waiters.addCallback(2, 1, (_error, result) => told.push(result!));
      waiters.applied(entry(1, 1), 'a');
      waiters.applied(entry(2, 1), 'b');
    } finally {
      globalThis.queueMicrotask = original;
    }
    expect(told).toEqual(['b']);
    expect(queued).toHaveLength(1);
    expect(() => queued[0]!()).toThrow('caller bug');
  });
});
