import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CacheError,
  type CacheRequest,
  CacheStateMachine,
  DEFAULT_CACHE_LIMITS,
  decodeCacheCommand,
  encodeCacheCommand,
} from '../../src/cache/index.js';
import { crc32c } from '../../src/codec/crc32c.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | null | undefined) => (value == null ? value : new TextDecoder().decode(value));

/** Applies requests in order, as the log would, with a session per client. */
class Harness {
  readonly cache = new CacheStateMachine({ ...DEFAULT_CACHE_LIMITS, sessionsMax: 4 });
  index = 0;
  apply(request: CacheRequest, nowMs = 0, clientId = '', sequence = 0) {
    return this.cache.apply(++this.index, encodeCacheCommand(request, { nowMs, clientId, sequence }));
  }
}

describe('CacheStateMachine', () => {
  it('sets, gets and deletes; delete returns what it removed', () => {
    const h = new Harness();
    expect(h.apply({ op: 'set', key: 'a', value: bytes('1') })).toEqual({ ok: true, code: null, value: null });
    expect(text(h.cache.get('a', 0))).toBe('1');
    expect(text(h.apply({ op: 'delete', key: 'a' }).value)).toBe('1');
    expect(h.cache.get('a', 0)).toBeUndefined();
    expect(h.apply({ op: 'delete', key: 'a' }).value).toBeNull();
  });

  it('compare-and-set succeeds only on the expected value, and null expects absence', () => {
    const h = new Harness();
    expect(h.apply({ op: 'cas', key: 'k', expected: null, value: bytes('x') }).ok).toBe(true);
    const mismatch = h.apply({ op: 'cas', key: 'k', expected: null, value: bytes('y') });
    expect(mismatch).toMatchObject({ ok: false, code: 'CACHE_ERR_CAS_MISMATCH' });
    expect(text(mismatch.value)).toBe('x');
    expect(h.apply({ op: 'cas', key: 'k', expected: bytes('wrong'), value: bytes('y') }).ok).toBe(false);
    expect(h.apply({ op: 'cas', key: 'k', expected: bytes('x'), value: bytes('y') }).ok).toBe(true);
    expect(text(h.cache.get('k', 0))).toBe('y');
  });

  it('increments decimal values, treats absent as 0, refuses non-numbers', () => {
    const h = new Harness();
    expect(text(h.apply({ op: 'increment', key: 'n', delta: 5 }).value)).toBe('5');
    expect(text(h.apply({ op: 'increment', key: 'n', delta: -7 }).value)).toBe('-2');
    h.apply({ op: 'set', key: 's', value: bytes('abc') });
    expect(h.apply({ op: 'increment', key: 's', delta: 1 })).toMatchObject({ ok: false, code: 'CACHE_ERR_NOT_A_NUMBER' });
    h.apply({ op: 'set', key: 'big', value: bytes(String(Number.MAX_SAFE_INTEGER)) });
    expect(h.apply({ op: 'increment', key: 'big', delta: 1 })).toMatchObject({ ok: false, code: 'CACHE_ERR_NOT_A_NUMBER' });
  });

  it('expires keys by the leader stamp in the log, and hides them from reads past expiry', () => {
    const h = new Harness();
    h.apply({ op: 'set', key: 't', value: bytes('v'), ttlMs: 100 }, 1_000);
    h.apply({ op: 'set', key: 'forever', value: bytes('v') }, 1_000);
    expect(h.cache.ttlMs('t', 1_040)).toBe(60);
    expect(text(h.cache.get('t', 1_099))).toBe('v');
    expect(h.cache.get('t', 1_100)).toBeUndefined(); // read-time: invisible at expiry
    expect(h.cache.size).toBe(2); // not yet purged: the log's time is still 1000
    h.apply({ op: 'tick' }, 1_100);
    expect(h.cache.size).toBe(1); // purged once the log's time passed it
    expect(text(h.cache.get('forever', 10 ** 12))).toBe('v');
  });

  it('an overwrite without TTL clears the earlier expiry', () => {
    const h = new Harness();
    h.apply({ op: 'set', key: 'k', value: bytes('1'), ttlMs: 10 }, 0);
    h.apply({ op: 'set', key: 'k', value: bytes('2') }, 5);
    h.apply({ op: 'tick' }, 1_000);
    expect(text(h.cache.get('k', 1_000))).toBe('2');
  });

  it('applies a retried write once and answers it with the first result', () => {
    const h = new Harness();
    const first = h.apply({ op: 'increment', key: 'c', delta: 1 }, 0, 'client-1', 1);
    const retry = h.apply({ op: 'increment', key: 'c', delta: 1 }, 0, 'client-1', 1);
    expect(text(first.value)).toBe('1');
    expect(retry).toEqual(first);
    expect(text(h.cache.get('c', 0))).toBe('1');
    expect(text(h.apply({ op: 'increment', key: 'c', delta: 1 }, 0, 'client-1', 2).value)).toBe('2');
    expect(h.apply({ op: 'increment', key: 'c', delta: 1 }, 0, 'client-1', 1)).toMatchObject({ ok: false, code: 'CACHE_ERR_STALE_SEQUENCE' });
    expect(text(h.cache.get('c', 0))).toBe('2');
  });

  it('pipelined writes applied out of order are each applied once, retries answered from memory', () => {
    const h = new Harness();
    const inc = (sequence: number, ackedThrough: number) =>
      h.cache.apply(++h.index, encodeCacheCommand({ op: 'increment', key: 'p', delta: sequence }, { nowMs: 0, clientId: 'pipe', sequence, ackedThrough }));
    expect(text(inc(3, 0).value)).toBe('3');
    expect(text(inc(1, 0).value)).toBe('4');
    expect(text(inc(2, 0).value)).toBe('6');
    expect(text(inc(1, 0).value)).toBe('4'); // a retry of 1: its first answer, not applied again
    expect(text(inc(4, 3).value)).toBe('10'); // 1..3 acknowledged: their results may go
    expect(inc(2, 1)).toMatchObject({ ok: false, code: 'CACHE_ERR_STALE_SEQUENCE' });
    expect(text(h.cache.get('p', 0))).toBe('10');
  });

  it('keeps at most sessionResultsMax results per client, and never re-applies a forgotten one', () => {
    const cache = new CacheStateMachine({ ...DEFAULT_CACHE_LIMITS, sessionResultsMax: 3 });
    let index = 0;
    const inc = (sequence: number) => cache.apply(++index, encodeCacheCommand({ op: 'increment', key: 'q', delta: 1 }, { nowMs: 0, clientId: 'c', sequence, ackedThrough: 0 }));
    for (let sequence = 1; sequence <= 5; sequence++) inc(sequence);
    expect(text(cache.get('q', 0))).toBe('5');
    expect(inc(1)).toMatchObject({ ok: false, code: 'CACHE_ERR_STALE_SEQUENCE' }); // forgotten: refused, not re-applied
    expect(text(inc(5).value)).toBe('5'); // still remembered
    expect(text(cache.get('q', 0))).toBe('5');
  });

  it('forgets the least recently used session past sessionsMax', () => {
    const h = new Harness(); // sessionsMax: 4
    for (let c = 0; c < 5; c++) h.apply({ op: 'increment', key: 'x', delta: 1 }, 0, `c${c}`, 1);
    // c0 was forgotten: its retry is applied again; c4 is remembered: its retry is not.
    h.apply({ op: 'increment', key: 'x', delta: 1 }, 0, 'c4', 1);
    expect(text(h.cache.get('x', 0))).toBe('5');
    h.apply({ op: 'increment', key: 'x', delta: 1 }, 0, 'c0', 1);
    expect(text(h.cache.get('x', 0))).toBe('6');
  });

  it('refuses oversize keys, values, TTLs and client ids before proposing', () => {
    const session = { nowMs: 0, clientId: '', sequence: 0 };
    const limits = { ...DEFAULT_CACHE_LIMITS, keyBytesMax: 4, valueBytesMax: 8 };
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(CacheError);
        return (error as CacheError).code;
      }
      return 'no error';
    };
    expect(code(() => encodeCacheCommand({ op: 'set', key: 'abcde', value: bytes('') }, session, limits))).toBe('CACHE_ERR_KEY_TOO_LARGE');
    expect(code(() => encodeCacheCommand({ op: 'set', key: 'é', value: bytes('') }, session, { ...limits, keyBytesMax: 1 }))).toBe('CACHE_ERR_KEY_TOO_LARGE');
    expect(code(() => encodeCacheCommand({ op: 'set', key: 'a', value: new Uint8Array(9) }, session, limits))).toBe('CACHE_ERR_VALUE_TOO_LARGE');
    expect(code(() => encodeCacheCommand({ op: 'set', key: '', value: bytes('') }, session, limits))).toBe('CACHE_ERR_KEY_EMPTY');
    expect(code(() => encodeCacheCommand({ op: 'set', key: 'a', value: bytes(''), ttlMs: -1 }, session, limits))).toBe('CACHE_ERR_BAD_TTL');
    expect(code(() => encodeCacheCommand({ op: 'set', key: 'a', value: bytes(''), ttlMs: 1.5 }, session, limits))).toBe('CACHE_ERR_BAD_TTL');
    expect(code(() => encodeCacheCommand({ op: 'delete', key: 'a' }, { ...session, clientId: 'x'.repeat(129) }, limits))).toBe('CACHE_ERR_CLIENT_ID_TOO_LARGE');
  });

  it('answers a malformed log entry with an error result and keeps applying', () => {
    const h = new Harness();
    expect(h.cache.apply(++h.index, new Uint8Array([9, 9, 9]))).toMatchObject({ ok: false, code: 'CACHE_ERR_MALFORMED_COMMAND' });
    expect(h.cache.apply(++h.index, new Uint8Array(0))).toEqual({ ok: true, code: null, value: null }); // a leader's no-op
    expect(h.apply({ op: 'set', key: 'a', value: bytes('1') }).ok).toBe(true);
  });

  it('throws when an entry is applied twice or out of order', () => {
    const h = new Harness();
    h.apply({ op: 'tick' });
    expect(() => h.cache.apply(1, new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'CACHE_ERR_APPLY_ORDER' }));
  });

  it('decoding random or mutated bytes fails only with CacheError', () => {
    const valid = encodeCacheCommand({ op: 'cas', key: 'key', expected: bytes('e'), value: bytes('value'), ttlMs: 5 }, { nowMs: 1, clientId: 'c', sequence: 3 });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), (random, at, byte) => {
        const mutated = valid.slice();
        mutated[at] = byte;
        for (const input of [random, mutated, valid.subarray(0, at)]) {
          try {
            decodeCacheCommand(input);
          } catch (error) {
            expect(error).toBeInstanceOf(CacheError);
          }
        }
      }),
      { numRuns: 2_000, seed: 42 },
    );
  });
});

const requestArb: fc.Arbitrary<{ request: CacheRequest; client: number; nowMs: number }> = fc.record({
  request: fc.oneof(
    fc.record({ op: fc.constant('set' as const), key: fc.constantFrom('a', 'b', 'c'), value: fc.uint8Array({ maxLength: 8 }), ttlMs: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }) }),
    fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom('a', 'b', 'c') }),
    fc.record({ op: fc.constant('cas' as const), key: fc.constantFrom('a', 'b', 'c'), expected: fc.option(fc.uint8Array({ maxLength: 2 }), { nil: null }), value: fc.uint8Array({ maxLength: 4 }) }),
    fc.record({ op: fc.constant('increment' as const), key: fc.constantFrom('a', 'n'), delta: fc.integer({ min: -5, max: 5 }) }),
    fc.constant({ op: 'tick' as const }),
  ),
  client: fc.integer({ min: 0, max: 6 }),
  nowMs: fc.integer({ min: 0, max: 200 }),
});

/** Everything a snapshot holds, with the keys sorted (their order is not part of the state). */
function content(cache: CacheStateMachine) {
  const internals = cache as unknown as { items: { entries(): Iterable<[string, unknown]> }; sessions: unknown; timeMs: number };
  return { items: [...internals.items.entries()].sort(([a], [b]) => (a < b ? -1 : 1)), sessions: internals.sessions, timeMs: internals.timeMs, appliedIndex: cache.appliedIndex };
}

describe('CacheStateMachine snapshots', () => {
  it('a replica restored from a snapshot mid-log ends in the same state with the same results', () => {
    fc.assert(
      fc.property(fc.array(requestArb, { minLength: 1, maxLength: 60 }), fc.nat(), (requests, cutSeed) => {
        const cut = cutSeed % requests.length;
        const a = new CacheStateMachine({ ...DEFAULT_CACHE_LIMITS, sessionsMax: 3 });
        let b = new CacheStateMachine({ ...DEFAULT_CACHE_LIMITS, sessionsMax: 3 });
        const sequences = new Map<number, number>();
        let time = 0;
        requests.forEach(({ request, client, nowMs }, i) => {
          time += nowMs;
          // Client 0 writes outside a session; others sometimes retry their last sequence.
          const last = sequences.get(client) ?? 0;
          const sequence = client === 0 ? 0 : nowMs % 3 === 0 && last > 0 ? last : last + 1;
          sequences.set(client, sequence);
          const data = encodeCacheCommand(request, { nowMs: time, clientId: client === 0 ? '' : `c${client}`, sequence });
          if (i === cut) {
            const restored = new CacheStateMachine({ ...DEFAULT_CACHE_LIMITS, sessionsMax: 3 });
            restored.restore(b.snapshot());
            b = restored;
          }
          expect(b.apply(i + 1, data)).toEqual(a.apply(i + 1, data));
        });
        expect(b.snapshot()).toEqual(a.snapshot());
        for (const key of ['a', 'b', 'c', 'n']) expect(b.get(key, time)).toEqual(a.get(key, time));
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('a captured snapshot, serialized while later entries are applied, holds the state as of the capture', () => {
    const limits = { ...DEFAULT_CACHE_LIMITS, sessionsMax: 3 };
    fc.assert(
      fc.property(fc.array(requestArb, { minLength: 2, maxLength: 80 }), fc.nat(), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 80 }), (requests, cutSeed, paces) => {
        const cut = cutSeed % requests.length;
        const encoded = requests.map(({ request, client, nowMs }, i) => encodeCacheCommand(request, { nowMs: nowMs * (i + 1), clientId: client === 0 ? '' : `c${client}`, sequence: client === 0 ? 0 : i + 1 }));
        const cache = new CacheStateMachine(limits);
        let index = 0;
        for (; index < cut; index++) cache.apply(index + 1, encoded[index]!);
        const expected = cache.snapshot();
        // One key per slice: entries are applied between the slices, paced by `paces`.
        const serializer = cache.captureSnapshot({ sliceItems: 1 });
        let step = serializer.next();
        for (let p = 0; !step.done; p++) {
          for (let n = paces[p] ?? 1; n > 0 && index < encoded.length; n--, index++) cache.apply(index + 1, encoded[index]!);
          step = serializer.next();
        }
        expect(step.value).toEqual(expected);
        for (; index < encoded.length; index++) cache.apply(index + 1, encoded[index]!);
        // Once the capture is closed the live state is what a plain replay gives (no tombstone
        // left). Key order is not part of the state: a key deleted and set again during a capture
        // keeps its place, so compare the content.
        const replay = new CacheStateMachine(limits);
        encoded.forEach((data, i) => replay.apply(i + 1, data));
        expect(content(cache)).toEqual(content(replay));
        expect(cache.size).toBe(replay.size);
      }),
      { numRuns: 500, seed: 11 },
    );
  });

  it('one capture at a time; an abandoned capture is closed; restore refuses to run under an open one', () => {
    const h = new Harness();
    for (let i = 0; i < 5; i++) h.apply({ op: 'set', key: `k${i}`, value: bytes(String(i)) });
    const image = h.cache.snapshot();
    const serializer = h.cache.captureSnapshot({ sliceItems: 1 });
    expect(() => h.cache.captureSnapshot({ sliceItems: 1 })).toThrow(CacheError);
    expect(() => h.cache.restore(image)).toThrow(expect.objectContaining({ code: 'CACHE_ERR_CAPTURE_OPEN' }));
    h.apply({ op: 'delete', key: 'k0' });
    expect(h.cache.get('k0', 0)).toBeUndefined();
    expect(h.cache.size).toBe(4);
    serializer.return?.();
    expect(h.cache.size).toBe(4);
    h.cache.restore(image); // the capture is closed
    expect(text(h.cache.get('k0', 0))).toBe('0');
    expect(h.cache.captureSnapshot({ sliceItems: 1 })).toBeDefined();
  });

  it('refuses a damaged snapshot and keeps its state', () => {
    const h = new Harness();
    h.apply({ op: 'set', key: 'a', value: bytes('1') });
    const image = h.cache.snapshot();
    const target = new Harness();
    target.apply({ op: 'set', key: 'mine', value: bytes('2') });
    for (let i = 0; i < image.length; i++) {
      const damaged = image.slice();
      damaged[i]! ^= 0x40;
      expect(() => target.cache.restore(damaged)).toThrow(CacheError);
    }
    expect(() => target.cache.restore(image.subarray(0, image.length - 1))).toThrow(CacheError);
    expect(text(target.cache.get('mine', 0))).toBe('2');
    target.cache.restore(image);
    expect(text(target.cache.get('a', 0))).toBe('1');
    expect(target.cache.get('mine', 0)).toBeUndefined();
    expect(target.cache.appliedIndex).toBe(1);
  });

  describe('restoreSnapshot: a restore a slice at a time', () => {
    /** A state over 1 MiB (so the checksum takes more than one step) in `keys` keys. */
    function large(keys: number) {
      const h = new Harness();
      for (let i = 0; i < keys; i++) h.apply({ op: 'set', key: `k${i}`, value: new Uint8Array(6000).fill(i % 251) });
      h.apply({ op: 'increment', key: 'counter', delta: 7 }, 0, 'client-a', 1);
      return h;
    }

    it('yields between slices, keeps the old state whole until the last one, and ends where restore ends', () => {
      const source = large(200);
      const image = source.cache.snapshot();
      expect(image.length).toBeGreaterThan(1024 * 1024);
      const target = new Harness();
      target.apply({ op: 'set', key: 'mine', value: bytes('old') });
      const steps = target.cache.restoreSnapshot(image, 16);
      let yields = 0;
      while (!steps.next().done) {
        yields++;
        // Readers between slices see the old state, all of it.
        expect(text(target.cache.get('mine', 0))).toBe('old');
        expect(target.cache.get('k0', 0)).toBeUndefined();
        expect(target.cache.size).toBe(1);
      }
      // One yield per further MiB checksummed and per 16 keys decoded.
      expect(yields).toBe(Math.ceil((image.length - 4) / (1024 * 1024)) - 1 + Math.floor(201 / 16));
      const whole = new Harness();
      whole.cache.restore(image);
      // Buffer.equals: vitest's toEqual walks a MiB-sized array element by element, for seconds.
      expect(Buffer.from(target.cache.snapshot()).equals(Buffer.from(whole.cache.snapshot()))).toBe(true);
      expect(Buffer.from(target.cache.snapshot()).equals(Buffer.from(image))).toBe(true);
      expect(target.cache.get('mine', 0)).toBeUndefined();
      // The session came along: a retried write of client-a is answered, not applied again.
      target.index = target.cache.appliedIndex;
      expect(target.apply({ op: 'increment', key: 'counter', delta: 7 }, 0, 'client-a', 1).value).toEqual(bytes('7'));
    });

    it('abandoned, or failing half-way through the keys, leaves the old state in place', () => {
      const image = large(40).cache.snapshot();
      const target = new Harness();
      target.apply({ op: 'set', key: 'mine', value: bytes('old') });
      const abandoned = target.cache.restoreSnapshot(image, 4);
      for (let i = 0; i < 5; i++) abandoned.next();
      abandoned.return?.();
      expect(text(target.cache.get('mine', 0))).toBe('old');
      expect(target.cache.size).toBe(1);

      // A key count one too high, under a valid checksum: the damage shows only after every key.
      const body = image.slice(0, image.length - 4);
      const view = new DataView(body.buffer);
      view.setUint32(21, view.getUint32(21, true) + 1, true);
      const forged = new Uint8Array(image.length);
      forged.set(body);
      new DataView(forged.buffer).setUint32(body.length, crc32c(body), true);
      const steps = target.cache.restoreSnapshot(forged, 4);
      let yields = 0;
      expect(() => {
        while (!steps.next().done) yields++;
      }).toThrow(expect.objectContaining({ code: 'CACHE_ERR_MALFORMED_SNAPSHOT' }));
      expect(yields).toBe(Math.floor(41 / 4)); // every key decoded: the damage is at the very end
      expect(text(target.cache.get('mine', 0))).toBe('old');
      expect(target.cache.size).toBe(1);
    });
  });
});
