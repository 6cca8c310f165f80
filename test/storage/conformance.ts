// One conformance suite for every LogStore implementation: the same calls, the same answers.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Entry, HardState, SnapshotMeta } from '../../src/core/types.js';
import type { LogStore } from '../../src/storage/index.js';
import { isRaftwireError } from '../../src/core/errors.js';
import { entries, entry, payload } from './helpers.js';

export interface StoreFactory {
  /** A fresh, empty store. */
  create(): Promise<LogStore>;
  /** Closes `store` and opens what it persisted, as a restarted node would. */
  reopen(store: LogStore): Promise<LogStore>;
  /** Releases everything `create` made. */
  cleanup(): Promise<void>;
}

const meta = (lastIncludedIndex: number, lastIncludedTerm: number): SnapshotMeta => ({
  lastIncludedIndex,
  lastIncludedTerm,
  config: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] },
});

async function codeOf(promise: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    if (typeof promise === 'function') promise();
    else await promise;
  } catch (error) {
    if (isRaftwireError(error)) return error.code;
    throw error;
  }
  return 'none';
}

/** Every stored entry, checked against the bounds. */
function all(store: LogStore): Entry[] {
  return store.entries(store.firstIndex(), store.lastIndex() + 1);
}

export function logStoreConformance(name: string, factory: StoreFactory): void {
  describe(`LogStore conformance: ${name}`, () => {
    let store: LogStore;
    afterEach(async () => {
      await store?.close();
      await factory.cleanup();
    });

    it('starts empty: firstIndex 1, lastIndex 0, term(0) 0, empty hard state', async () => {
      store = await factory.create();
      expect(store.firstIndex()).toBe(1);
      expect(store.lastIndex()).toBe(0);
      expect(store.term(0)).toBe(0);
      expect(store.entries(1, 1)).toEqual([]);
      expect(store.hardState()).toEqual({ term: 0, vote: null, commit: 0 });
      expect(store.snapshotMeta()).toBeNull();
      expect(await codeOf(() => store.term(1))).toBe('STORAGE_ERR_UNAVAILABLE');
    });

    it('appends and reads back exact bytes, terms and types', async () => {
      store = await factory.create();
      const written = [...entries(1, 5, 1), ...entries(6, 9, 2)];
      await store.append(written);
      expect(store.lastIndex()).toBe(9);
      expect(all(store)).toEqual(written);
      expect(store.term(5)).toBe(1);
      expect(store.term(6)).toBe(2);
      expect(store.entries(3, 7).map((e) => e.index)).toEqual([3, 4, 5, 6]);
      expect(await codeOf(() => store.entries(3, 11))).toBe('STORAGE_ERR_UNAVAILABLE');
    });

    it('stores empty and large payloads byte for byte, across a reopen', async () => {
      store = await factory.create();
      const written: Entry[] = [
        { index: 1, term: 1, type: 'normal', data: new Uint8Array(0) },
        { index: 2, term: 1, type: 'normal', data: payload(2, 1, 70_000) },
        { index: 3, term: 2, type: 'confChange', data: payload(3, 2, 3_333) },
      ];
      await store.append(written);
      expect(all(store)).toEqual(written);
      store = await factory.reopen(store);
      expect(all(store)).toEqual(written);
    });

    it('stops a range read at bytesMax, but returns at least one entry', async () => {
      store = await factory.create();
      const written = entries(1, 10, 1);
      await store.append(written);
      const firstTwo = written[0]!.data.length + written[1]!.data.length;
      expect(store.entries(1, 11, firstTwo).map((e) => e.index)).toEqual([1, 2]);
      expect(store.entries(1, 11, firstTwo - 1).map((e) => e.index)).toEqual([1]);
      expect(store.entries(1, 11, 0).map((e) => e.index)).toEqual([1]);
    });

    it('keeps its own copy: changing the appended buffer changes nothing stored', async () => {
      store = await factory.create();
      const e = entry(1, 1);
      const original = e.data.slice();
      await store.append([e]);
      e.data.fill(0xee);
      expect(store.entries(1, 2)[0]!.data).toEqual(original);
    });

    it('truncate-then-append: a conflicting append replaces the suffix', async () => {
      store = await factory.create();
      await store.append(entries(1, 10, 1));
      await store.append(entries(6, 8, 2));
      expect(store.lastIndex()).toBe(8);
      expect(all(store)).toEqual([...entries(1, 5, 1), ...entries(6, 8, 2)]);
      await store.truncateSuffix(4);
      expect(store.lastIndex()).toBe(3);
      expect(await codeOf(() => store.term(4))).toBe('STORAGE_ERR_UNAVAILABLE');
      await store.append(entries(4, 6, 3));
      expect(all(store)).toEqual([...entries(1, 3, 1), ...entries(4, 6, 3)]);
      await store.truncateSuffix(100); // past the end: nothing to do
      expect(store.lastIndex()).toBe(6);
    });

    it('refuses a gap, decreasing terms and bad values, and stays unchanged', async () => {
      store = await factory.create();
      await store.append(entries(1, 3, 2));
      expect(await codeOf(store.append(entries(5, 6, 2)))).toBe('STORAGE_ERR_INVALID_WRITE');
      expect(await codeOf(store.append([entry(4, 3), entry(5, 2)]))).toBe('STORAGE_ERR_INVALID_WRITE');
      expect(await codeOf(store.append([{ ...entry(4, 2), term: -1 }]))).toBe('STORAGE_ERR_INVALID_WRITE');
      expect(await codeOf(store.append([{ ...entry(4, 2), index: 2 ** 53 }]))).toBe('STORAGE_ERR_INVALID_WRITE');
      expect(await codeOf(store.setHardState({ term: 1, vote: '', commit: 0 }))).toBe('STORAGE_ERR_INVALID_WRITE');
      expect(all(store)).toEqual(entries(1, 3, 2));
    });

    it('compact-then-read: compacted entries are gone, the boundary term stays', async () => {
      store = await factory.create();
      await store.append([...entries(1, 4, 1), ...entries(5, 10, 2)]);
      await store.compact(5);
      expect(store.firstIndex()).toBe(6);
      expect(store.lastIndex()).toBe(10);
      expect(store.term(5)).toBe(2);
      expect(await codeOf(() => store.term(4))).toBe('STORAGE_ERR_COMPACTED');
      expect(await codeOf(() => store.entries(5, 7))).toBe('STORAGE_ERR_COMPACTED');
      expect(all(store)).toEqual(entries(6, 10, 2));
      await store.compact(3); // already compacted: nothing to do
      expect(store.firstIndex()).toBe(6);
      expect(await codeOf(store.compact(11))).toBe('STORAGE_ERR_UNAVAILABLE');
      // An append overlapping the compacted prefix keeps only the part after it.
      await store.append(entries(4, 12, 2));
      expect(all(store)).toEqual(entries(6, 12, 2));
      expect(await codeOf(store.truncateSuffix(5))).toBe('STORAGE_ERR_COMPACTED');
      // Compacting everything leaves an empty log that still knows where it is.
      await store.compact(12);
      expect([store.firstIndex(), store.lastIndex(), store.term(12)]).toEqual([13, 12, 2]);
      await store.append(entries(13, 14, 3));
      expect(all(store)).toEqual(entries(13, 14, 3));
    });

    it('a snapshot that matches the log compacts it and keeps the suffix', async () => {
      store = await factory.create();
      await store.append([...entries(1, 5, 1), ...entries(6, 10, 2)]);
      await store.setSnapshotMeta(meta(7, 2));
      expect(store.snapshotMeta()).toEqual(meta(7, 2));
      expect([store.firstIndex(), store.lastIndex(), store.term(7)]).toEqual([8, 10, 2]);
      expect(all(store)).toEqual(entries(8, 10, 2));
    });

    it('a snapshot that conflicts with the log, or is past its end, discards the log', async () => {
      store = await factory.create();
      await store.append(entries(1, 10, 1));
      await store.setSnapshotMeta(meta(7, 3));
      expect([store.firstIndex(), store.lastIndex(), store.term(7)]).toEqual([8, 7, 3]);
      await store.append(entries(8, 9, 3));
      await store.setSnapshotMeta(meta(20, 4));
      expect([store.firstIndex(), store.lastIndex(), store.term(20)]).toEqual([21, 20, 4]);
      expect(all(store)).toEqual([]);
      expect(await codeOf(store.setSnapshotMeta(meta(15, 4)))).toBe('STORAGE_ERR_INVALID_WRITE');
      expect(store.snapshotMeta()).toEqual(meta(20, 4));
    });

    it('persists the hard state, with or without a vote', async () => {
      store = await factory.create();
      const states: HardState[] = [{ term: 3, vote: 'n2', commit: 0 }, { term: 4, vote: null, commit: 0 }, { term: 5, vote: 'nœud-ü', commit: 0 }];
      for (const hs of states) {
        await store.setHardState(hs);
        expect(store.hardState()).toEqual(hs);
      }
    });

    it('save(): snapshot, then entries (truncating), then hard state, as one update', async () => {
      store = await factory.create();
      await store.append(entries(1, 6, 1));
      const hardState = { term: 2, vote: 'n1', commit: 4 };
      await store.save({ snapshotMeta: meta(3, 1), entries: entries(5, 7, 2), hardState });
      expect(store.snapshotMeta()).toEqual(meta(3, 1));
      expect(all(store)).toEqual([entry(4, 1), ...entries(5, 7, 2)]);
      expect(store.hardState()).toEqual(hardState);
      // An update with one bad part changes nothing at all.
      expect(await codeOf(store.save({ entries: entries(9, 9, 2), hardState: { term: 9, vote: null, commit: 0 } }))).toBe('STORAGE_ERR_INVALID_WRITE');
      expect(store.hardState()).toEqual(hardState);
      expect(store.lastIndex()).toBe(7);
    });

    it('concurrent appends all resolve, in order, with every entry durable', async () => {
      store = await factory.create();
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 40; i++) writes.push(store.append(entries(i * 3 + 1, i * 3 + 3, 1 + Math.floor(i / 10))));
      writes.push(store.setHardState({ term: 4, vote: 'n1', commit: 120 }));
      await Promise.all(writes);
      expect(store.lastIndex()).toBe(120);
      expect(all(store).map((e) => [e.index, e.term])).toEqual(Array.from({ length: 120 }, (_, k) => [k + 1, 1 + Math.floor(k / 30)]));
    });

    it('reopen after close: entries, bounds, hard state and snapshot metadata survive', async () => {
      store = await factory.create();
      await store.append([...entries(1, 5, 1), ...entries(6, 12, 2)]);
      await store.setSnapshotMeta(meta(4, 1));
      await store.setHardState({ term: 2, vote: 'n3', commit: 9 });
      await store.append(entries(11, 13, 3));
      store = await factory.reopen(store);
      expect([store.firstIndex(), store.lastIndex(), store.term(4)]).toEqual([5, 13, 1]);
      expect(all(store)).toEqual([...entries(5, 5, 1), ...entries(6, 10, 2), ...entries(11, 13, 3)]);
      expect(store.hardState()).toEqual({ term: 2, vote: 'n3', commit: 9 });
      expect(store.snapshotMeta()).toEqual(meta(4, 1));
      await store.append(entries(14, 14, 3));
      expect(store.lastIndex()).toBe(14);
    });

    it('a closed store refuses calls with StorageClosedError', async () => {
      store = await factory.create();
      await store.close();
      expect(await codeOf(() => store.lastIndex())).toBe('STORAGE_ERR_CLOSED');
      expect(await codeOf(store.append(entries(1, 1, 1)))).toBe('STORAGE_ERR_CLOSED');
    });

    for (const concurrent of [false, true]) {
      it(`matches a plain-array model over random operation sequences (property${concurrent ? ', writes issued without waiting, so they share groups' : ''})`, async () => {
        store = await factory.create();
        type Op =
          | { kind: 'append'; back: number; count: number; termBump: number }
          | { kind: 'truncate'; back: number }
          | { kind: 'compact'; back: number }
          | { kind: 'snapshot'; ahead: number; matching: boolean }
          | { kind: 'reopen' };
        const op: fc.Arbitrary<Op> = fc.oneof(
          { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), back: fc.nat(4), count: fc.integer({ min: 1, max: 6 }), termBump: fc.nat(1) }) },
          { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), back: fc.nat(5) }) },
          { weight: 2, arbitrary: fc.record({ kind: fc.constant('compact' as const), back: fc.nat(6) }) },
          { weight: 1, arbitrary: fc.record({ kind: fc.constant('snapshot' as const), ahead: fc.integer({ min: -3, max: 3 }), matching: fc.boolean() }) },
          { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const) }) },
        );
        await fc.assert(
          fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
            await store.close();
            await factory.cleanup();
            store = await factory.create();
            // The model: prevIndex/prevTerm and the array of (index, term).
            let prevIndex = 0;
            let prevTerm = 0;
            let log: Array<{ index: number; term: number }> = [];
            const last = () => prevIndex + log.length;
            const termAt = (i: number) => (i === prevIndex ? prevTerm : log[i - prevIndex - 1]!.term);
            let term = 1;
            // Issued without waiting, writes queue up and commit together: same result expected.
            let pending: Promise<void>[] = [];
            const issue = async (write: Promise<void>) => {
              if (concurrent) pending.push(write);
              else await write;
            };
            for (const o of ops) {
              if (o.kind === 'append') {
                const from = Math.max(prevIndex + 1, last() + 1 - o.back);
                term += o.termBump;
                const batch = entries(from, from + o.count - 1, term);
                await issue(store.append(batch));
                log = log.slice(0, from - prevIndex - 1).concat(batch.map((e) => ({ index: e.index, term: e.term })));
              } else if (o.kind === 'truncate') {
                const at = Math.max(prevIndex + 1, last() + 1 - o.back);
                await issue(store.truncateSuffix(at));
                log = log.slice(0, at - prevIndex - 1);
              } else if (o.kind === 'compact') {
                const at = Math.max(prevIndex, last() - o.back);
                await issue(store.compact(at));
                prevTerm = termAt(at);
                log = log.slice(at - prevIndex);
                prevIndex = at;
              } else if (o.kind === 'snapshot') {
                const at = Math.max(prevIndex, last() + o.ahead);
                const inLog = at <= last();
                const t = o.matching && inLog ? termAt(at) : Math.max(term, inLog ? termAt(at) : 0) + 1;
                term = Math.max(term, t);
                await issue(store.setSnapshotMeta(meta(at, t)));
                if (inLog && termAt(at) === t) {
                  log = log.slice(at - prevIndex);
                } else {
                  log = [];
                }
                prevIndex = at;
                prevTerm = t;
              } else {
                await Promise.all(pending);
                pending = [];
                store = await factory.reopen(store);
              }
              if (!concurrent) expect([store.firstIndex(), store.lastIndex(), store.term(prevIndex)]).toEqual([prevIndex + 1, last(), prevTerm]);
            }
            await Promise.all(pending);
            expect([store.firstIndex(), store.lastIndex(), store.term(prevIndex)]).toEqual([prevIndex + 1, last(), prevTerm]);
            const stored = all(store);
            expect(stored.map((e) => ({ index: e.index, term: e.term }))).toEqual(log);
            for (const e of stored) expect(e.data).toEqual(payload(e.index, e.term));
          }),
          { numRuns: 40, seed: 20261121 },
        );
      });
    }
  });
}
