// fast-check arbitraries for every wire message, shared by the property tests and the fuzzer.
import fc from 'fast-check';
import type { Entry } from '../../src/core/types.js';
import type { WireMessage } from '../../src/codec/index.js';

const u64 = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.maxSafeInteger().map((n) => Math.abs(n)), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1));
// Unicode including astral characters; no lone surrogates (they do not survive UTF-8 by design).
const text = (maxLength: number): fc.Arbitrary<string> => fc.string({ unit: 'grapheme', maxLength });
const nodeId = fc.oneof(fc.constantFrom('n1', 'n2', 'node-3'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }));
const bytes = (maxLength: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength });
const optBytes = fc.option(bytes(64), { nil: null });
const entry: fc.Arbitrary<Entry> = fc.record({ index: u64, term: u64, type: fc.constantFrom('normal' as const, 'confChange' as const), data: bytes(200) });
const base = { from: nodeId, to: nodeId, term: u64 };

export const wireMessage: fc.Arbitrary<WireMessage> = fc.oneof(
  fc.record({ type: fc.constant('RequestVote' as const), ...base, candidateId: nodeId, lastLogIndex: u64, lastLogTerm: u64, preVote: fc.boolean(), leadershipTransfer: fc.boolean() }),
  fc.record({ type: fc.constant('RequestVoteResponse' as const), ...base, voteGranted: fc.boolean(), preVote: fc.boolean() }),
  fc.record({ type: fc.constant('AppendEntries' as const), ...base, leaderId: nodeId, prevLogIndex: u64, prevLogTerm: u64, entries: fc.array(entry, { maxLength: 20 }), leaderCommit: u64, context: u64 }),
  fc.record({ type: fc.constant('AppendEntriesResponse' as const), ...base, success: fc.boolean(), lastLogIndex: u64, conflictIndex: u64, conflictTerm: u64, context: u64 }),
  fc.record({
    type: fc.constant('InstallSnapshot' as const), ...base, leaderId: nodeId, lastIncludedIndex: u64, lastIncludedTerm: u64, offset: u64, data: bytes(500), done: fc.boolean(),
    config: fc.record({ voters: fc.array(nodeId, { maxLength: 7 }), learners: fc.array(nodeId, { maxLength: 3 }) }),
  }),
  fc.record({ type: fc.constant('InstallSnapshotResponse' as const), ...base, lastIncludedIndex: u64, bytesReceived: u64, success: fc.boolean() }),
  fc.record({ type: fc.constant('TimeoutNow' as const), ...base, leaderId: nodeId }),
  fc.record({
    type: fc.constant('ClientRequest' as const), op: fc.constantFrom('get' as const, 'set' as const, 'delete' as const, 'cas' as const),
    key: text(40), value: optBytes, expected: optBytes, ttlMs: u64, clientId: text(20), sequence: u64,
  }),
  fc.record({
    type: fc.constant('ClientReply' as const), status: fc.constantFrom('ok' as const, 'notFound' as const, 'conflict' as const, 'notLeader' as const, 'error' as const),
    code: text(30), value: optBytes, leaderHint: fc.option(text(20), { nil: null }),
  }),
  fc.record({ type: fc.constant('TaskEnvelope' as const), taskId: text(20), taskType: text(20), payload: bytes(100), priority: u64, deadlineMs: u64, timeoutMs: u64, attempt: u64 }),
  fc.record({ type: fc.constant('ResultEnvelope' as const), taskId: text(20), status: fc.constantFrom('ok' as const, 'failed' as const, 'timeout' as const, 'cancelled' as const), result: bytes(100), error: fc.option(text(40), { nil: null }) }),
);

/** A Buffer-free deep copy whose byte fields are plain Uint8Arrays (views compare equal either way). */
export function normalise(value: unknown): unknown {
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(normalise);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = normalise((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}
