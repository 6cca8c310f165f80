/**
 * The TypeScript reference encoder. Writes straight into the caller's buffer: one size pass, one
 * write pass, no intermediate objects. Every value is checked before it is written (safe integers,
 * node id lengths, enum names), so an invalid message is a CodecError and never bad bytes.
 * @module
 */
import type { ClusterConfig, Entry, Message } from '../core/types.js';
import { NODE_ID_BYTES_MAX } from '../core/types.js';
import { AssertionError, assert, assertNever } from '../core/errors.js';
import type { ClientReply, ClientRequest } from './client-types.js';
import type { ResultEnvelope, TaskEnvelope } from './task-types.js';
import { crc32c } from './crc32c.js';
import { CodecError, CodecErrorCode, describeValue } from './errors.js';
import {
  BODY_BYTES_LIMIT,
  CLIENT_OPS,
  CLIENT_STATUSES,
  ENTRY_HEADER_BYTES,
  ENTRY_TYPES,
  FRAME_VERSION,
  HEADER_BYTES,
  NULL_LENGTH,
  TASK_STATUSES,
  TYPE_CODE,
} from './layout.js';
import { utf8Length, writeUtf8 } from './utf8.js';
import { allocFrame } from './frame-slab.js';

/** Every message that travels in a frame. */
export type WireMessage = Message | ClientRequest | ClientReply | TaskEnvelope | ResultEnvelope;

function checkU64(value: number, field: string): void {
  if (!(Number.isSafeInteger(value) && value >= 0)) {
    throw new CodecError(CodecErrorCode.integerRange, `${field} must be an integer in [0, 2^53-1]; got ${describeValue(value)}`);
  }
}

function nodeBytes(id: string, field: string): number {
  if (typeof id !== 'string') throw new CodecError(CodecErrorCode.malformed, `${field} must be a string`);
  const bytes = utf8Length(id);
  if (bytes === 0 || bytes > NODE_ID_BYTES_MAX) {
    throw new CodecError(CodecErrorCode.malformed, `${field} must be 1..${NODE_ID_BYTES_MAX} UTF-8 bytes; got ${bytes}`);
  }
  return bytes;
}

function strBytes(text: string | null, field: string, optional = false): number {
  if (text === null && optional) return 0;
  if (typeof text !== 'string') throw new CodecError(CodecErrorCode.malformed, `${field} must be a string`);
  return utf8Length(text);
}

function bytesOf(data: Uint8Array | null, field: string, optional = false): number {
  if (data === null && optional) return 0;
  if (!(data instanceof Uint8Array)) throw new CodecError(CodecErrorCode.malformed, `${field} must be a Uint8Array`);
  return data.length;
}

function enumCode(names: readonly string[], value: string, field: string): number {
  const i = names.indexOf(value);
  if (i < 0) throw new CodecError(CodecErrorCode.malformed, `${field} must be one of ${names.join('|')}; got ${describeValue(value)}`);
  return i + 1;
}

function configBytes(config: ClusterConfig): number {
  if (config === null || typeof config !== 'object' || !Array.isArray(config.voters) || !Array.isArray(config.learners)) {
    throw new CodecError(CodecErrorCode.malformed, 'config must have voters and learners arrays');
  }
  if (config.voters.length > 0xffff || config.learners.length > 0xffff) {
    throw new CodecError(CodecErrorCode.limit, 'a config list has more than 65535 node ids');
  }
  let bytes = 4;
  for (const id of config.voters) bytes += 1 + nodeBytes(id, 'config.voters[]');
  for (const id of config.learners) bytes += 1 + nodeBytes(id, 'config.learners[]');
  return bytes;
}

function entriesBytes(entries: Entry[]): number {
  if (!Array.isArray(entries)) throw new CodecError(CodecErrorCode.malformed, 'entries must be an array');
  let bytes = 4 + entries.length * ENTRY_HEADER_BYTES;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e === null || typeof e !== 'object') throw new CodecError(CodecErrorCode.malformed, `entries[${i}] is not an entry`);
    const index = e.index;
    const term = e.term;
    if (!(Number.isSafeInteger(index) && index >= 0)) checkU64(index, 'entries[].index');
    if (!(Number.isSafeInteger(term) && term >= 0)) checkU64(term, 'entries[].term');
    if (e.type !== 'normal' && e.type !== 'confChange') enumCode(ENTRY_TYPES, e.type, 'entries[].type');
    const data = e.data;
    if (!(data instanceof Uint8Array)) throw new CodecError(CodecErrorCode.malformed, 'entries[].data must be a Uint8Array');
    bytes += data.length;
  }
  return bytes;
}

// Size helpers, each validating its field. bodyBytes sums them in wire order (JS evaluates `+`
// left to right), so the first invalid field in wire order decides the error, as in the WASM path.
function u64(v: number, field: string): number { checkU64(v, field); return 8; }
function node(id: string, field: string): number { return 1 + nodeBytes(id, field); }
function str(text: string | null, field: string, optional = false): number { return 4 + strBytes(text, field, optional); }
function blob(data: Uint8Array | null, field: string, optional = false): number { return 4 + bytesOf(data, field, optional); }
function enum8(names: readonly string[], value: string, field: string): number { enumCode(names, value, field); return 1; }
function base(m: Message): number { return node(m.from, 'from') + node(m.to, 'to') + u64(m.term, 'term'); }

/** Body size of `m`, validating every field on the way, in wire order. */
function bodyBytes(m: WireMessage): number {
  switch (m.type) {
    case 'RequestVote':
      return base(m) + node(m.candidateId, 'candidateId') + u64(m.lastLogIndex, 'lastLogIndex') + u64(m.lastLogTerm, 'lastLogTerm');
    case 'RequestVoteResponse':
      return base(m);
    case 'AppendEntries':
      return base(m) + node(m.leaderId, 'leaderId') + u64(m.prevLogIndex, 'prevLogIndex') + u64(m.prevLogTerm, 'prevLogTerm') +
        u64(m.leaderCommit, 'leaderCommit') + u64(m.context, 'context') + entriesBytes(m.entries);
    case 'AppendEntriesResponse':
      return base(m) + u64(m.lastLogIndex, 'lastLogIndex') + u64(m.conflictIndex, 'conflictIndex') + u64(m.conflictTerm, 'conflictTerm') +
        u64(m.context, 'context');
    case 'InstallSnapshot':
      return base(m) + node(m.leaderId, 'leaderId') + u64(m.lastIncludedIndex, 'lastIncludedIndex') + u64(m.lastIncludedTerm, 'lastIncludedTerm') +
        u64(m.offset, 'offset') + configBytes(m.config) + blob(m.data, 'data');
    case 'InstallSnapshotResponse':
      return base(m) + u64(m.lastIncludedIndex, 'lastIncludedIndex') + u64(m.bytesReceived, 'bytesReceived');
    case 'TimeoutNow':
      return base(m) + node(m.leaderId, 'leaderId');
    case 'ClientRequest':
      return enum8(CLIENT_OPS, m.op, 'op') + str(m.key, 'key') + blob(m.value, 'value', true) + blob(m.expected, 'expected', true) +
        u64(m.ttlMs, 'ttlMs') + str(m.clientId, 'clientId') + u64(m.sequence, 'sequence');
    case 'ClientReply':
      return enum8(CLIENT_STATUSES, m.status, 'status') + str(m.code, 'code') + blob(m.value, 'value', true) + str(m.leaderHint, 'leaderHint', true);
    case 'TaskEnvelope':
      return str(m.taskId, 'taskId') + str(m.taskType, 'taskType') + blob(m.payload, 'payload') + u64(m.priority, 'priority') +
        u64(m.deadlineMs, 'deadlineMs') + u64(m.timeoutMs, 'timeoutMs') + u64(m.attempt, 'attempt');
    case 'ResultEnvelope':
      return str(m.taskId, 'taskId') + enum8(TASK_STATUSES, m.status, 'status') + blob(m.result, 'result') + str(m.error, 'error', true);
    default:
      throw new CodecError(CodecErrorCode.unknownType, `cannot encode message type ${describeValue((m as { type: unknown }).type)}`);
  }
}

/** Exact size in bytes of the frame {@link encodeFrame} makes for `message`. */
export function encodedFrameSize(message: WireMessage): number {
  if (message === null || typeof message !== 'object') throw new CodecError(CodecErrorCode.malformed, `cannot encode ${describeValue(message)}`);
  const body = bodyBytes(message);
  if (body > BODY_BYTES_LIMIT - HEADER_BYTES) throw new CodecError(CodecErrorCode.frameTooLarge, `a ${message.type} body of ${body} bytes does not fit a frame`);
  return HEADER_BYTES + body;
}

// The write pass keeps its cursor in module state: no closure or object per frame.
let out: Uint8Array = new Uint8Array(0);
let pos = 0;

function putU8(v: number): void { out[pos++] = v; }
function putU16(v: number): void { out[pos++] = v & 0xff; out[pos++] = v >>> 8; }
function putU32(v: number): void {
  out[pos++] = v & 0xff; out[pos++] = (v >>> 8) & 0xff; out[pos++] = (v >>> 16) & 0xff; out[pos++] = v >>> 24;
}
function putU64(v: number): void {
  const lo = v >>> 0;
  putU32(lo);
  putU32((v - lo) / 0x1_0000_0000);
}
function putNode(id: string): void {
  const bytes = utf8Length(id);
  putU8(bytes);
  pos = writeUtf8(id, bytes, out, pos);
}
function putStr(text: string | null): void {
  if (text === null) { putU32(NULL_LENGTH); return; }
  const bytes = utf8Length(text);
  putU32(bytes);
  pos = writeUtf8(text, bytes, out, pos);
}
function putBytes(data: Uint8Array | null): void {
  if (data === null) { putU32(NULL_LENGTH); return; }
  putU32(data.length);
  out.set(data, pos);
  pos += data.length;
}
function putNodes(ids: readonly string[]): void {
  putU16(ids.length);
  for (const id of ids) putNode(id);
}
// The hot loop of the encoder: locals instead of module state.
function putEntries(entries: Entry[]): void {
  const o = out;
  let p = pos;
  const count = entries.length;
  o[p] = count & 0xff; o[p + 1] = (count >>> 8) & 0xff; o[p + 2] = (count >>> 16) & 0xff; o[p + 3] = count >>> 24;
  p += 4;
  for (let i = 0; i < count; i++) {
    const e = entries[i]!;
    const index = e.index;
    const indexLow = index >>> 0;
    const indexHigh = (index - indexLow) / 0x1_0000_0000;
    const term = e.term;
    const termLow = term >>> 0;
    const termHigh = (term - termLow) / 0x1_0000_0000;
    const data = e.data;
    const dataBytes = data.length;
    o[p] = indexLow & 0xff; o[p + 1] = (indexLow >>> 8) & 0xff; o[p + 2] = (indexLow >>> 16) & 0xff; o[p + 3] = indexLow >>> 24;
    o[p + 4] = indexHigh & 0xff; o[p + 5] = (indexHigh >>> 8) & 0xff; o[p + 6] = indexHigh >>> 16; o[p + 7] = 0;
    o[p + 8] = termLow & 0xff; o[p + 9] = (termLow >>> 8) & 0xff; o[p + 10] = (termLow >>> 16) & 0xff; o[p + 11] = termLow >>> 24;
    o[p + 12] = termHigh & 0xff; o[p + 13] = (termHigh >>> 8) & 0xff; o[p + 14] = termHigh >>> 16; o[p + 15] = 0;
    o[p + 16] = e.type === 'normal' ? 1 : 2;
    o[p + 17] = dataBytes & 0xff; o[p + 18] = (dataBytes >>> 8) & 0xff; o[p + 19] = (dataBytes >>> 16) & 0xff; o[p + 20] = dataBytes >>> 24;
    p += ENTRY_HEADER_BYTES;
    o.set(data, p);
    p += dataBytes;
  }
  pos = p;
}

function putBase(m: Message): void {
  putNode(m.from); putNode(m.to); putU64(m.term);
}

function flagsOf(m: WireMessage): number {
  switch (m.type) {
    case 'RequestVote': return (m.preVote ? 1 : 0) | (m.leadershipTransfer ? 2 : 0);
    case 'RequestVoteResponse': return (m.voteGranted ? 1 : 0) | (m.preVote ? 2 : 0);
    case 'AppendEntriesResponse': return m.success ? 1 : 0;
    case 'InstallSnapshot': return m.done ? 1 : 0;
    case 'InstallSnapshotResponse': return m.success ? 1 : 0;
    default: return 0;
  }
}

function putBody(m: WireMessage): void {
  switch (m.type) {
    case 'RequestVote':
      putBase(m); putNode(m.candidateId); putU64(m.lastLogIndex); putU64(m.lastLogTerm); return;
    case 'RequestVoteResponse':
      putBase(m); return;
    case 'AppendEntries': {
      putBase(m); putNode(m.leaderId); putU64(m.prevLogIndex); putU64(m.prevLogTerm); putU64(m.leaderCommit); putU64(m.context);
      putEntries(m.entries);
      return;
    }
    case 'AppendEntriesResponse':
      putBase(m); putU64(m.lastLogIndex); putU64(m.conflictIndex); putU64(m.conflictTerm); putU64(m.context); return;
    case 'InstallSnapshot':
      putBase(m); putNode(m.leaderId); putU64(m.lastIncludedIndex); putU64(m.lastIncludedTerm); putU64(m.offset);
      putNodes(m.config.voters); putNodes(m.config.learners); putBytes(m.data); return;
    case 'InstallSnapshotResponse':
      putBase(m); putU64(m.lastIncludedIndex); putU64(m.bytesReceived); return;
    case 'TimeoutNow':
      putBase(m); putNode(m.leaderId); return;
    case 'ClientRequest':
      putU8(CLIENT_OPS.indexOf(m.op) + 1); putStr(m.key); putBytes(m.value); putBytes(m.expected); putU64(m.ttlMs);
      putStr(m.clientId); putU64(m.sequence); return;
    case 'ClientReply':
      putU8(CLIENT_STATUSES.indexOf(m.status) + 1); putStr(m.code); putBytes(m.value); putStr(m.leaderHint); return;
    case 'TaskEnvelope':
      putStr(m.taskId); putStr(m.taskType); putBytes(m.payload); putU64(m.priority); putU64(m.deadlineMs); putU64(m.timeoutMs);
      putU64(m.attempt); return;
    case 'ResultEnvelope':
      putStr(m.taskId); putU8(TASK_STATUSES.indexOf(m.status) + 1); putBytes(m.result); putStr(m.error); return;
    default:
      assertNever(m, 'message type');
  }
}

function checkRequestId(requestId: number): void {
  if (!(Number.isInteger(requestId) && requestId >= 0 && requestId <= 0xffff_ffff)) {
    throw new CodecError(CodecErrorCode.integerRange, `requestId must be a u32; got ${describeValue(requestId)}`);
  }
}

/**
 * Writes the frame of `message` at `target[offset]` and returns its size. `target` must have room
 * for {@link encodedFrameSize} bytes from `offset`.
 *
 * @example
 * ```ts
 * const buf = new Uint8Array(encodedFrameSize(a) + encodedFrameSize(b));
 * const n = encodeFrameInto(a, 1, buf, 0); encodeFrameInto(b, 2, buf, n);
 * ```
 */
export function encodeFrameInto(message: WireMessage, requestId: number, target: Uint8Array, offset: number): number {
  checkRequestId(requestId);
  const size = encodedFrameSize(message);
  assert(Number.isInteger(offset) && offset >= 0 && offset + size <= target.length,
    () => `target has ${target.length - offset} bytes from offset ${offset}; the frame needs ${size}`);
  writeFrame(message, requestId, target, offset, size);
  return size;
}

/** The write pass; `size` comes from {@link encodedFrameSize}, which validated every field. */
function writeFrame(message: WireMessage, requestId: number, target: Uint8Array, offset: number, size: number): void {
  out = target;
  pos = offset;
  putU32(size - HEADER_BYTES); putU8(FRAME_VERSION); putU8(TYPE_CODE[message.type]); putU16(flagsOf(message)); putU32(requestId);
  pos += 4;
  putBody(message);
  const end = pos;
  out = EMPTY;
  // Pair with the size pass: a mismatch is a bug in this file, never bad input.
  assert(end === offset + size, () => `wrote ${end - offset} bytes of a ${message.type} frame sized ${size}`);
  let crc = crc32c(target, 0, offset, offset + 12);
  crc = crc32c(target, crc, offset + HEADER_BYTES, end);
  target[offset + 12] = crc & 0xff; target[offset + 13] = (crc >>> 8) & 0xff;
  target[offset + 14] = (crc >>> 16) & 0xff; target[offset + 15] = crc >>> 24;
}
const EMPTY = new Uint8Array(0);

/**
 * Like {@link encodeFrame}, but the frame's memory comes from `alloc(size)`, which must return a
 * view of exactly `size` bytes (the caller's own slab, say, so that frames encoded in a row lie
 * back to back and a batch of them is sent without copying). The bytes are those of encodeFrame.
 */
export function encodeFrameWith(message: WireMessage, requestId: number, alloc: (size: number) => Uint8Array): Uint8Array {
  checkRequestId(requestId);
  const size = encodedFrameSize(message);
  const frame = alloc(size);
  if (frame.length !== size) throw new AssertionError(`encodeFrameWith: alloc(${size}) returned ${frame.length} bytes`);
  writeFrame(message, requestId, frame, 0, size);
  return frame;
}

/**
 * One whole frame for `message`, tagged with `requestId` (a u32; 0 when unused). Small frames are
 * views into a shared slab: use `frame.byteOffset`/`byteLength` when handing `frame.buffer` on.
 */
export function encodeFrame(message: WireMessage, requestId = 0): Uint8Array {
  checkRequestId(requestId);
  const size = encodedFrameSize(message);
  const frame = allocFrame(size);
  writeFrame(message, requestId, frame, 0, size);
  return frame;
}
