/**
 * The wire format's numbers: header layout, type codes, flag bits, enum codes, the field schema of
 * every message and the decoder's bounds. docs/wire-format.md describes the same thing in prose;
 * assembly/layout.ts holds the WASM module's copy (the golden vectors and property tests check they agree).
 *
 * Frame (all integers little-endian):
 * ```
 * [0,4)   u32 bodyBytes    length of the body that follows the 16-byte header
 * [4]     u8  version      FRAME_VERSION
 * [5]     u8  type         TYPE_CODE
 * [6,8)   u16 flags        per type (FLAG_BITS); unknown bits are an error
 * [8,12)  u32 requestId    pairs a response with its request on a multiplexed connection
 * [12,16) u32 crc32c       CRC32C of bytes [0,12) followed by the body
 * [16, 16+bodyBytes)       the body: the type's fields in SCHEMA order
 * ```
 * @module
 */
import type { MessageType } from '../core/types.js';

export const FRAME_VERSION = 1;
export const HEADER_BYTES = 16;
/** Largest body the u32 length field can describe. */
export const BODY_BYTES_LIMIT = 0xffff_ffff;
/** `u32` length meaning "null" for optional strings and byte strings. */
export const NULL_LENGTH = 0xffff_ffff;
/** Bytes of one entry's fixed part: u64 index, u64 term, u8 type, u32 dataBytes. */
export const ENTRY_HEADER_BYTES = 21;
/** Largest unsigned integer a u64 field may hold: 2^53−1, so it is exact as a JS number. */
export const U64_HIGH_MAX = 0x1f_ffff;

export type WireType = MessageType | 'ClientRequest' | 'ClientReply' | 'TaskEnvelope' | 'ResultEnvelope';

export const TYPE_CODE: Readonly<Record<WireType, number>> = Object.freeze({
  RequestVote: 1,
  RequestVoteResponse: 2,
  AppendEntries: 3,
  AppendEntriesResponse: 4,
  InstallSnapshot: 5,
  InstallSnapshotResponse: 6,
  TimeoutNow: 7,
  ClientRequest: 16,
  ClientReply: 17,
  TaskEnvelope: 18,
  ResultEnvelope: 19,
});

export const TYPE_BY_CODE: readonly (WireType | undefined)[] = (() => {
  const byCode: (WireType | undefined)[] = new Array(256).fill(undefined);
  for (const [name, code] of Object.entries(TYPE_CODE)) byCode[code] = name as WireType;
  return byCode;
})();

/** Boolean fields travel as header flag bits: bit i is the i-th name. */
export const FLAG_BITS: Readonly<Record<WireType, readonly string[]>> = Object.freeze({
  RequestVote: ['preVote', 'leadershipTransfer'],
  RequestVoteResponse: ['voteGranted', 'preVote'],
  AppendEntries: [],
  AppendEntriesResponse: ['success'],
  InstallSnapshot: ['done'],
  InstallSnapshotResponse: ['success'],
  TimeoutNow: [],
  ClientRequest: [],
  ClientReply: [],
  TaskEnvelope: [],
  ResultEnvelope: [],
});

/** Enum codes start at 1 so a zeroed byte is never a valid value. */
export const ENTRY_TYPES = ['normal', 'confChange'] as const;
export const CLIENT_OPS = ['get', 'set', 'delete', 'cas'] as const;
export const CLIENT_STATUSES = ['ok', 'notFound', 'conflict', 'notLeader', 'error'] as const;
export const TASK_STATUSES = ['ok', 'failed', 'timeout', 'cancelled'] as const;

/** Field kinds. The numbers are the WASM module's schema bytes. */
export const Kind = Object.freeze({
  /** u64, a safe integer. */
  u64: 1,
  /** u8 length + UTF-8, 1..NODE_ID_BYTES_MAX bytes. */
  node: 2,
  /** u32 length + UTF-8, at most stringBytesMax. */
  str: 3,
  /** like str, or u32 NULL_LENGTH for null. */
  optStr: 4,
  /** u32 length + bytes, decoded as a view into the input. */
  bytes: 5,
  /** like bytes, or u32 NULL_LENGTH for null. */
  optBytes: 6,
  /** u16 count + that many node ids (a ClusterConfig list), at most nodesMax. */
  nodes: 7,
  /** u32 count + entries (ENTRY_HEADER_BYTES + data each), at most entriesMax. */
  entries: 8,
  /** u8 code, 1..names.length. */
  enum8: 9,
} as const);
export type Kind = (typeof Kind)[keyof typeof Kind];

export interface FieldSpec {
  readonly name: string;
  readonly kind: Kind;
  /** For enum8: the names, code = position + 1. For nodes: the path inside the message. */
  readonly names?: readonly string[];
}

const f = (name: string, kind: Kind, names?: readonly string[]): FieldSpec => (names ? { name, kind, names } : { name, kind });
const BASE: readonly FieldSpec[] = [f('from', Kind.node), f('to', Kind.node), f('term', Kind.u64)];

/**
 * Every type's body, field by field, in wire order. InstallSnapshot's `config.voters` and
 * `config.learners` are named with a dot: they live in the nested ClusterConfig.
 */
export const SCHEMA: Readonly<Record<WireType, readonly FieldSpec[]>> = Object.freeze({
  RequestVote: [...BASE, f('candidateId', Kind.node), f('lastLogIndex', Kind.u64), f('lastLogTerm', Kind.u64)],
  RequestVoteResponse: [...BASE],
  AppendEntries: [
    ...BASE,
    f('leaderId', Kind.node),
    f('prevLogIndex', Kind.u64),
    f('prevLogTerm', Kind.u64),
    f('leaderCommit', Kind.u64),
    f('context', Kind.u64),
    f('entries', Kind.entries),
  ],
  AppendEntriesResponse: [
    ...BASE,
    f('lastLogIndex', Kind.u64),
    f('conflictIndex', Kind.u64),
    f('conflictTerm', Kind.u64),
    f('context', Kind.u64),
  ],
  InstallSnapshot: [
    ...BASE,
    f('leaderId', Kind.node),
    f('lastIncludedIndex', Kind.u64),
    f('lastIncludedTerm', Kind.u64),
    f('offset', Kind.u64),
    f('config.voters', Kind.nodes),
    f('config.learners', Kind.nodes),
    f('data', Kind.bytes),
  ],
  InstallSnapshotResponse: [...BASE, f('lastIncludedIndex', Kind.u64), f('bytesReceived', Kind.u64)],
  TimeoutNow: [...BASE, f('leaderId', Kind.node)],
  ClientRequest: [
    f('op', Kind.enum8, CLIENT_OPS),
    f('key', Kind.str),
    f('value', Kind.optBytes),
    f('expected', Kind.optBytes),
    f('ttlMs', Kind.u64),
    f('clientId', Kind.str),
    f('sequence', Kind.u64),
  ],
  ClientReply: [f('status', Kind.enum8, CLIENT_STATUSES), f('code', Kind.str), f('value', Kind.optBytes), f('leaderHint', Kind.optStr)],
  TaskEnvelope: [
    f('taskId', Kind.str),
    f('taskType', Kind.str),
    f('payload', Kind.bytes),
    f('priority', Kind.u64),
    f('deadlineMs', Kind.u64),
    f('timeoutMs', Kind.u64),
    f('attempt', Kind.u64),
  ],
  ResultEnvelope: [f('taskId', Kind.str), f('status', Kind.enum8, TASK_STATUSES), f('result', Kind.bytes), f('error', Kind.optStr)],
});

/** Bounds the decoder enforces on what a peer may send. */
export interface CodecLimits {
  /** Largest whole frame (header + body) accepted, bytes. */
  frameBytesMax: number;
  /** Most entries in one AppendEntries. */
  entriesMax: number;
  /** Longest string field (keys, client ids, task ids, error codes), UTF-8 bytes. */
  stringBytesMax: number;
  /** Most node ids in one ClusterConfig list. */
  nodesMax: number;
}

export const DEFAULT_CODEC_LIMITS: Readonly<CodecLimits> = Object.freeze({
  frameBytesMax: 64 * 1024 * 1024,
  entriesMax: 65_536,
  stringBytesMax: 64 * 1024,
  nodesMax: 1024,
});
