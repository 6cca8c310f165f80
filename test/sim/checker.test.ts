// The checker must catch each broken invariant: feed it hand-made histories that break one each.
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../src/core/types.js';
import { Checker, type CheckedNode, encodePayload, SimViolation } from './checker.js';
import { DurableStore } from './store.js';

function entry(index: number, term: number, data: Uint8Array = new Uint8Array(0)): Entry {
  return { index, term, type: 'normal', data };
}

function node(id: string, term = 1): CheckedNode & { durable: DurableStore } {
  return { id, incarnation: 1, role: 'follower', term, durable: new DurableStore(), commitRecorded: 0, sm: { appliedIndex: 0, hash: 0 } };
}

function newChecker(): Checker {
  return new Checker({ seed: 42, event: () => 7, dump: () => '  (dump)', replay: () => 'npm run sim -- --seed 42 --events 10' });
}

function persist(c: Checker, n: CheckedNode & { durable: DurableStore }, entries: Entry[]): void {
  n.durable.append(entries);
  c.onEntriesPersisted(n, entries);
}

function violation(fn: () => void): SimViolation {
  try {
    fn();
  } catch (e) {
    if (e instanceof SimViolation) return e;
    throw e;
  }
  throw new Error('expected a violation');
}

describe('checker', () => {
  it('accepts a consistent history', () => {
    const c = newChecker();
    const a = node('a');
    const b = node('b');
    persist(c, a, [entry(1, 1), entry(2, 1)]);
    persist(c, b, [entry(1, 1), entry(2, 1)]);
    c.onBecomeLeader(a, 1);
    a.durable.hardState = { term: 1, vote: 'a', commit: 2 };
    c.onCommitPersisted(a);
    expect(c.maxCommittedIndex).toBe(2);
  });

  it('catches a leader without a quorum of durable votes, and a vote changed across a restart', () => {
    const c = newChecker();
    const a = node('a', 3);
    c.onHardState(a, { term: 2, vote: null, commit: 0 }, { term: 3, vote: 'a', commit: 0 });
    expect(violation(() => c.onBecomeLeader(a, 3, ['a', 'b', 'c'])).invariant).toBe('elected by a quorum');
    const b = node('b', 3);
    c.onHardState(b, { term: 2, vote: null, commit: 0 }, { term: 3, vote: 'a', commit: 0 });
    c.onBecomeLeader(a, 3, ['a', 'b', 'c']);
    // b restarts having lost its vote and votes again in term 3.
    expect(violation(() => c.onHardState(b, { term: 3, vote: null, commit: 0 }, { term: 3, vote: 'c', commit: 0 })).invariant).toBe('one vote per term');
  });

  it('catches two leaders in one term, with seed, event and replay in the report', () => {
    const c = newChecker();
    c.onBecomeLeader(node('a'), 3);
    const v = violation(() => c.onBecomeLeader(node('b'), 3));
    expect(v.invariant).toBe('election safety');
    expect(v.seed).toBe(42);
    expect(v.event).toBe(7);
    expect(v.message).toContain('npm run sim -- --seed 42 --events 10');
  });

  it('catches different entries at one (index, term)', () => {
    const c = newChecker();
    persist(c, node('a'), [entry(1, 1, encodePayload(1))]);
    expect(violation(() => persist(c, node('b'), [entry(1, 1, encodePayload(2))])).invariant).toBe('log matching');
  });

  it('catches equal (index, term) with different predecessors', () => {
    const c = newChecker();
    persist(c, node('a'), [entry(1, 1), entry(2, 2)]);
    expect(violation(() => persist(c, node('b'), [entry(1, 2), entry(2, 2)])).invariant).toBe('log matching');
  });

  it('catches a leader overwriting its own log', () => {
    const c = newChecker();
    const a = node('a', 2);
    persist(c, a, [entry(1, 1), entry(2, 2)]);
    expect(violation(() => c.checkLeaderAppendOnly(a, true, [entry(2, 2)], null)).invariant).toBe('leader append-only');
    c.checkLeaderAppendOnly(a, false, [entry(2, 2)], null); // a follower may
  });

  it('catches a new leader missing a committed entry', () => {
    const c = newChecker();
    const a = node('a');
    persist(c, a, [entry(1, 1), entry(2, 1)]);
    a.durable.hardState = { term: 1, vote: 'a', commit: 2 };
    c.onCommitPersisted(a);
    const b = node('b', 2);
    persist(c, b, [entry(1, 1)]);
    expect(violation(() => c.onBecomeLeader(b, 2)).invariant).toBe('leader completeness');
  });

  it('lets a leader of an earlier term, elected late, miss an entry committed in a later term', () => {
    const c = newChecker();
    const a = node('a', 5);
    persist(c, a, [entry(1, 5)]);
    a.durable.hardState = { term: 5, vote: 'a', commit: 1 };
    c.onCommitPersisted(a);
    const b = node('b', 3); // its vote answers for term 3 were delayed
    persist(c, b, [entry(1, 3)]);
    c.onBecomeLeader(b, 3);
    const d = node('d', 6);
    persist(c, d, [entry(1, 3)]);
    expect(violation(() => c.onBecomeLeader(d, 6)).invariant).toBe('leader completeness');
  });

  it('catches two nodes committing different entries at one index', () => {
    const c = newChecker();
    const a = node('a');
    persist(c, a, [entry(1, 1, encodePayload(1))]);
    a.durable.hardState = { term: 1, vote: null, commit: 1 };
    c.onCommitPersisted(a);
    const b = node('b', 2);
    persist(c, b, [entry(1, 2, encodePayload(2))]);
    b.durable.hardState = { term: 2, vote: null, commit: 1 };
    expect(violation(() => c.onCommitPersisted(b)).invariant).toBe('state machine safety');
  });

  it('catches a changed vote, a term or commit going back', () => {
    const c = newChecker();
    const a = node('a');
    expect(violation(() => c.onHardState(a, { term: 2, vote: 'a', commit: 0 }, { term: 2, vote: 'b', commit: 0 })).invariant).toBe('one vote per term');
    expect(violation(() => c.onHardState(a, { term: 2, vote: null, commit: 0 }, { term: 1, vote: null, commit: 0 })).invariant).toBe('durable term');
    expect(violation(() => c.onHardState(a, { term: 2, vote: null, commit: 5 }, { term: 2, vote: null, commit: 4 })).invariant).toBe('durable commit');
  });

  it('catches applying out of order, unproposed or duplicated writes', () => {
    const c = newChecker();
    const a = node('a');
    a.durable.hardState = { term: 1, vote: null, commit: 10 };
    expect(violation(() => c.onApply(a, entry(2, 1), 0)).invariant).toBe('apply order');
    expect(violation(() => newChecker().onApply(a, entry(1, 1, encodePayload(9)), 0)).invariant).toBe('applied was proposed');
    c.onPropose(a, 5, 1);
    c.onApply(a, entry(1, 1, encodePayload(5)), 0);
    const b = node('b');
    b.durable.hardState = { term: 1, vote: null, commit: 10 };
    persist(c, b, [entry(1, 1, encodePayload(5))]);
    c.onApply(b, entry(1, 1, encodePayload(5)), 0);
    expect(violation(() => c.onApply(b, entry(2, 1, encodePayload(5)), 1)).invariant).toBe('applied once');
  });

  it('catches an entry that is not what the leader assigned to that index and term', () => {
    const c = newChecker();
    const a = node('a');
    a.durable.hardState = { term: 1, vote: null, commit: 10 };
    c.onPropose(a, 1, 1);
    c.onPropose(a, 2, 2);
    expect(violation(() => c.afterApply(a, entry(1, 1, encodePayload(2)), 0)).invariant).toBe('applied matches proposed');
  });

  it('catches a stale read and an unasked ReadState', () => {
    const c = newChecker();
    const a = node('a');
    persist(c, a, [entry(1, 1), entry(2, 1), entry(3, 1)]);
    a.durable.hardState = { term: 1, vote: null, commit: 3 };
    c.onCommitPersisted(a);
    const pending = c.newRead(1, false);
    expect(pending.minIndex).toBe(3);
    expect(violation(() => c.onReadReleased(a, { context: 1, index: 2 }, pending, 2, 0)).invariant).toBe('ReadIndex read not stale');
    expect(violation(() => c.onReadReleased(a, { context: 2, index: 3 }, undefined, 3, 0)).invariant).toBe('read');
    c.onReadReleased(a, { context: 1, index: 3 }, pending, 3, 0);
    expect(c.readsChecked).toBe(1);
  });
});
