import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type KvInput, type KvOutput, kvModel } from './kv-model.js';
import { checkLinearizability, describeFailure, type Operation } from './linearizability.js';

const op = (clientId: number, input: KvInput, output: KvOutput | undefined, invokeMs: number, returnMs = output === undefined ? Infinity : invokeMs + 1): Operation => ({
  clientId,
  input,
  output,
  invokeMs,
  returnMs,
});
const set = (key: string, value: string) => ({ op: 'set' as const, key, value });
const get = (key: string) => ({ op: 'get' as const, key });
const del = (key: string) => ({ op: 'delete' as const, key });
const cas = (key: string, expected: string | null, value: string) => ({ op: 'cas' as const, key, expected, value });

describe('linearizability checker: accepts linearizable histories', () => {
  it('a sequential history', () => {
    const v = checkLinearizability([
      op(1, set('x', '1'), {}, 0),
      op(1, get('x'), { value: '1' }, 2),
      op(2, cas('x', '1', '2'), { ok: true }, 4),
      op(2, cas('x', '1', '3'), { ok: false }, 6),
      op(1, del('x'), {}, 8),
      op(2, get('x'), { value: null }, 10),
    ]);
    expect(v.ok).toBe(true);
    expect(v.operations).toBe(6);
  });

  it('a read concurrent with a write may see either value', () => {
    for (const seen of [null, '1']) {
      const v = checkLinearizability([op(1, set('x', '1'), {}, 0, 10), op(2, get('x'), { value: seen }, 5, 6)]);
      expect(v.ok).toBe(true);
    }
  });

  it('a timed-out write may have been applied, or not', () => {
    for (const seen of [null, '1']) {
      const v = checkLinearizability([op(1, set('x', '1'), undefined, 0), op(2, get('x'), { value: seen }, 5)]);
      expect(v.ok).toBe(true);
    }
  });

  it('partitions by key: operations on other keys do not interfere', () => {
    const v = checkLinearizability([op(1, set('x', '1'), {}, 0), op(2, set('y', '2'), {}, 2), op(1, get('x'), { value: '1' }, 4), op(2, get('y'), { value: '2' }, 4)]);
    expect(v.ok).toBe(true);
    expect(v.keys.map((k) => k.key).sort()).toEqual(['x', 'y']);
  });
});

describe('linearizability checker: catches anomalies', () => {
  it('a stale read', () => {
    const v = checkLinearizability([op(1, set('x', '1'), {}, 0), op(1, set('x', '2'), {}, 2), op(2, get('x'), { value: '1' }, 4)]);
    expect(v.ok).toBe(false);
    expect(v.failures[0]!.key).toBe('x');
    expect(describeFailure(v.failures[0]!)).toContain('get(x) → "1"');
    expect(v.failures[0]!.blocked.map((op) => op.input.op)).toContain('get');
    expect(v.failures[0]!.longestLinearized.map((op) => op.input)).toEqual([set('x', '1'), set('x', '2')]);
  });

  it('a lost write', () => {
    const v = checkLinearizability([op(1, set('x', '1'), {}, 0), op(2, get('x'), { value: null }, 4)]);
    expect(v.ok).toBe(false);
  });

  it('a write applied twice', () => {
    const v = checkLinearizability([
      op(1, set('x', '1'), {}, 0),
      op(2, set('x', '2'), {}, 2),
      op(3, get('x'), { value: '2' }, 4),
      op(3, get('x'), { value: '1' }, 6), // set('x','1') took effect again after set('x','2')
    ]);
    expect(v.ok).toBe(false);
    const doubleCas = checkLinearizability([op(1, cas('y', null, 'a'), { ok: true }, 0), op(2, cas('y', null, 'a'), { ok: true }, 2)]);
    expect(doubleCas.ok).toBe(false);
  });

  it('a read of an uncommitted value', () => {
    // The write timed out; a read saw it, and a later read did not: it was never committed.
    const v = checkLinearizability([op(1, set('x', '1'), undefined, 0), op(2, get('x'), { value: '1' }, 2), op(3, get('x'), { value: null }, 4)]);
    expect(v.ok).toBe(false);
    const phantom = checkLinearizability([op(2, get('x'), { value: 'never-written' }, 2)]);
    expect(phantom.ok).toBe(false);
  });
});

/**
 * Random histories of concurrent clients against one atomic register per key: each operation takes
 * effect at a random instant inside its [invoke, return] window, so the history is linearizable by
 * construction. Corrupting one read to a value never written makes it non-linearizable.
 */
function randomHistory(seed: number, clients: number, opsPerClient: number): Operation[] {
  const rand = fc.sample(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { seed, numRuns: clients * opsPerClient * 6 });
  let r = 0;
  const next = () => rand[r++ % rand.length]!;
  type Pending = { clientId: number; input: KvInput; invokeMs: number; effectMs: number; returnMs: number; timedOut: boolean };
  const pending: Pending[] = [];
  for (let c = 0; c < clients; c++) {
    let t = next() * 5;
    for (let i = 0; i < opsPerClient; i++) {
      const key = next() < 0.5 ? 'a' : 'b';
      const kind = next();
      const value = `${c}.${i}`;
      const input: KvInput = kind < 0.4 ? get(key) : kind < 0.7 ? set(key, value) : kind < 0.8 ? del(key) : cas(key, next() < 0.5 ? null : `${Math.floor(next() * clients)}.${Math.max(0, i - 1)}`, value);
      const duration = 1 + next() * 20;
      const timedOut = input.op !== 'get' && next() < 0.05;
      pending.push({ clientId: c, input, invokeMs: t, effectMs: t + next() * duration, returnMs: t + duration, timedOut });
      t += duration + next() * 3;
    }
  }
  const state = new Map<string, string | null>();
  const history: Operation[] = [];
  for (const p of [...pending].sort((a, b) => a.effectMs - b.effectMs)) {
    const before = state.get(p.input.key) ?? null;
    let output: KvOutput;
    if (p.input.op === 'get') output = { value: before };
    else if (p.input.op === 'cas') output = { ok: before === p.input.expected };
    else output = {};
    // A timed-out write takes effect with probability 1/2 (it may or may not have been applied).
    const applied = !p.timedOut || next() < 0.5;
    if (applied) state.set(p.input.key, kvModel.step(before, p.input, output)!);
    history.push({ clientId: p.clientId, input: p.input, output: p.timedOut ? undefined : output, invokeMs: p.invokeMs, returnMs: p.timedOut ? Infinity : p.returnMs });
  }
  return history;
}

describe('linearizability checker: against histories linearizable by construction', () => {
  it('accepts them all, and rejects each once a read is corrupted', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
        const history = randomHistory(seed, 4, 25);
        const verdict = checkLinearizability(history);
        expect(verdict.unknown).toBe(false);
        expect(verdict.ok).toBe(true);
        const readIndex = history.findIndex((o) => o.input.op === 'get');
        if (readIndex < 0) return;
        const corrupted = history.map((o, i) => (i === readIndex ? { ...o, output: { value: 'never-written' } } : o));
        expect(checkLinearizability(corrupted).ok).toBe(false);
      }),
      { numRuns: 200, seed: 11 },
    );
  });

  it('handles a long history with many concurrent clients', () => {
    const history = randomHistory(99, 8, 250);
    const verdict = checkLinearizability(history);
    expect(verdict.operations).toBe(2_000);
    expect(verdict.ok).toBe(true);
  });
});
