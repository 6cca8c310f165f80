/**
 * The TypeScript reference decoder. Incremental: a prefix of a valid frame of any length is
 * `needMore`; anything invalid is `error` with a {@link CodecError}, never a throw, hang or an
 * allocation larger than the frame itself (every count is checked against the bytes left before
 * anything is built). Entry payloads, snapshot chunks and other byte fields are views into the
 * input: the caller must not reuse the input buffer while it holds the message.
 * @module
 */
import type { ClusterConfig, Entry, NodeId } from '../core/types.js';
import type { ClientReply, ClientRequest } from './client-types.js';
import type { ResultEnvelope, TaskEnvelope } from './task-types.js';
import { assert } from '../core/errors.js';
import { crc32c } from './crc32c.js';
import { CodecError, CodecErrorCode } from './errors.js';
import {
  CLIENT_OPS,
  CLIENT_STATUSES,
  type CodecLimits,
  DEFAULT_CODEC_LIMITS,
  ENTRY_HEADER_BYTES,
  ENTRY_TYPES,
  FLAG_BITS,
  FRAME_VERSION,
  HEADER_BYTES,
  NULL_LENGTH,
  TASK_STATUSES,
  TYPE_BY_CODE,
  U64_HIGH_MAX,
  type WireType,
} from './layout.js';
import { clientIdStrings, readUtf8, Utf8Cache } from './utf8.js';
import type { WireMessage } from './ts-encode.js';

/** What {@link decodeFrame} found at the offset. `consumed` is the frame's whole size on `ok`. */
export type DecodeResult =
  | { status: 'ok'; message: WireMessage; requestId: number; consumed: number }
  | { status: 'needMore'; consumed: 0 }
  | { status: 'error'; error: CodecError; consumed: 0 };

export const NEED_MORE: DecodeResult = Object.freeze({ status: 'needMore', consumed: 0 });

// Callers usually pass the same limits object on every frame: merge it once. (Merging again when
// the caller mutated that object is their bug; limits are meant to be fixed per connection.)
let lastLimits: Partial<CodecLimits> | undefined;
let lastResolved: CodecLimits = DEFAULT_CODEC_LIMITS;

/** Merges caller limits over the defaults. */
export function resolveLimits(limits?: Partial<CodecLimits>): CodecLimits {
  if (limits === undefined) return DEFAULT_CODEC_LIMITS;
  if (limits !== lastLimits) {
    lastResolved = { ...DEFAULT_CODEC_LIMITS, ...limits };
    lastLimits = limits;
  }
  return lastResolved;
}

function u32At(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/**
 * Checks the header of the frame at `offset`: returns the whole frame size, 0 when more bytes are
 * needed, or throws the header's CodecError. Shared by both decoders' JS side so they agree.
 */
export function checkHeader(bytes: Uint8Array, offset: number, limits: CodecLimits): number {
  const available = bytes.length - offset;
  if (available < 4) return 0;
  const bodyBytes = u32At(bytes, offset);
  if (HEADER_BYTES + bodyBytes > limits.frameBytesMax) {
    throw new CodecError(CodecErrorCode.frameTooLarge, `frame of ${HEADER_BYTES + bodyBytes} bytes is past frameBytesMax ${limits.frameBytesMax}`);
  }
  if (available >= 5 && bytes[offset + 4] !== FRAME_VERSION) {
    throw new CodecError(CodecErrorCode.version, `frame version ${bytes[offset + 4]}; this codec speaks ${FRAME_VERSION}`);
  }
  if (available >= 6 && TYPE_BY_CODE[bytes[offset + 5]!] === undefined) {
    throw new CodecError(CodecErrorCode.unknownType, `unknown message type ${bytes[offset + 5]}`);
  }
  return available < HEADER_BYTES + bodyBytes ? 0 : HEADER_BYTES + bodyBytes;
}

// The read pass keeps its cursor in module state (decoding is synchronous and not re-entrant).
let src: Uint8Array = new Uint8Array(0);
let pos = 0;
let end = 0;
let lim: CodecLimits = DEFAULT_CODEC_LIMITS;

function malformed(what: string): CodecError {
  return new CodecError(CodecErrorCode.malformed, `${what} at byte ${pos} runs past the frame end ${end}`);
}
function need(n: number, what: string): void {
  if (end - pos < n) throw malformed(what);
}
function getU8(): number { need(1, 'u8'); return src[pos++]!; }
function getU16(): number { need(2, 'u16'); const v = src[pos]! | (src[pos + 1]! << 8); pos += 2; return v; }
function getU32(): number { need(4, 'u32'); const v = u32At(src, pos); pos += 4; return v; }
function getU64(): number {
  need(8, 'u64');
  const lo = u32At(src, pos);
  const hi = u32At(src, pos + 4);
  if (hi > U64_HIGH_MAX) throw new CodecError(CodecErrorCode.integerRange, `integer at byte ${pos} is past 2^53-1`);
  pos += 8;
  return hi * 0x1_0000_0000 + lo;
}
// Node ids repeat in nearly every frame of a link (from, to, leader), and a client's id in every
// request it sends: each is decoded once, then found again by its bytes (Utf8Cache).
const nodeIds = new Utf8Cache(64, 32);

function getNode(): NodeId {
  const bytes = getU8();
  if (bytes === 0) throw new CodecError(CodecErrorCode.malformed, `empty node id at byte ${pos - 1}`);
  need(bytes, 'node id');
  const text = nodeIds.read(src, pos, pos + bytes);
  pos += bytes;
  return text;
}
/** With `cache`, a string that repeats (a client's id in every request) is decoded once. */
function getStrOrNull(cache?: Utf8Cache): string | null {
  const bytes = getU32();
  if (bytes === NULL_LENGTH) return null;
  if (bytes > lim.stringBytesMax) throw new CodecError(CodecErrorCode.limit, `string of ${bytes} bytes is past stringBytesMax ${lim.stringBytesMax}`);
  need(bytes, 'string');
  const text = cache === undefined ? readUtf8(src, pos, pos + bytes) : cache.read(src, pos, pos + bytes);
  pos += bytes;
  return text;
}
function getStr(cache?: Utf8Cache): string {
  const text = getStrOrNull(cache);
  if (text === null) throw new CodecError(CodecErrorCode.malformed, `null in a required string at byte ${pos - 4}`);
  return text;
}
function getBytesOrNull(): Uint8Array | null {
  const bytes = getU32();
  if (bytes === NULL_LENGTH) return null;
  need(bytes, 'byte string');
  const view = new Uint8Array(src.buffer, src.byteOffset + pos, bytes);
  pos += bytes;
  return view;
}
function getBytes(): Uint8Array {
  const view = getBytesOrNull();
  if (view === null) throw new CodecError(CodecErrorCode.malformed, `null in a required byte string at byte ${pos - 4}`);
  return view;
}
function getEnum<T extends string>(names: readonly T[], field: string): T {
  const code = getU8();
  const name = names[code - 1];
  if (name === undefined) throw new CodecError(CodecErrorCode.malformed, `${field} code ${code} at byte ${pos - 1} is not one of 1..${names.length}`);
  return name;
}
function getNodes(): NodeId[] {
  const count = getU16();
  if (count > lim.nodesMax) throw new CodecError(CodecErrorCode.limit, `${count} node ids is past nodesMax ${lim.nodesMax}`);
  need(count * 2, 'node id list'); // each id is at least 2 bytes: bound the array before building it
  const ids: NodeId[] = [];
  for (let i = 0; i < count; i++) ids.push(getNode());
  return ids;
}
function getEntries(): Entry[] {
  const count = getU32();
  if (count > lim.entriesMax) throw new CodecError(CodecErrorCode.limit, `${count} entries is past entriesMax ${lim.entriesMax}`);
  need(count * ENTRY_HEADER_BYTES, 'entry batch');
  // The hot loop of the codec: locals instead of module state, one bounds check per entry header.
  const b = src;
  const buffer = b.buffer;
  const base = b.byteOffset;
  let p = pos;
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    if (end - p < ENTRY_HEADER_BYTES) {
      // A short tail: read field by field so the error is the one the field order gives (the WASM
      // decoder reports the same code for the same bytes). One of these throws.
      pos = p;
      getU64(); getU64(); getEnum(ENTRY_TYPES, 'entry type'); getBytes();
      throw malformed('entry header');
    }
    const indexHigh = u32At(b, p + 4);
    const termHigh = u32At(b, p + 12);
    if (indexHigh > U64_HIGH_MAX || termHigh > U64_HIGH_MAX) {
      pos = indexHigh > U64_HIGH_MAX ? p : p + 8;
      throw new CodecError(CodecErrorCode.integerRange, `integer at byte ${pos} is past 2^53-1`);
    }
    const typeCode = b[p + 16]!;
    const type = ENTRY_TYPES[typeCode - 1];
    if (type === undefined) { pos = p + 17; throw new CodecError(CodecErrorCode.malformed, `entry type code ${typeCode} at byte ${p + 16} is not one of 1..${ENTRY_TYPES.length}`); }
    const dataBytes = u32At(b, p + 17);
    p += ENTRY_HEADER_BYTES;
    if (dataBytes === NULL_LENGTH) { pos = p; throw new CodecError(CodecErrorCode.malformed, `null in a required byte string at byte ${p - 4}`); }
    if (end - p < dataBytes) { pos = p; throw malformed('entry data'); }
    entries.push({
      index: indexHigh * 0x1_0000_0000 + u32At(b, p - 21),
      term: termHigh * 0x1_0000_0000 + u32At(b, p - 13),
      type,
      // A view, not a copy; the constructor is cheaper than subarray() (no species lookup).
      data: new Uint8Array(buffer, base + p, dataBytes),
    });
    p += dataBytes;
  }
  pos = p;
  return entries;
}

function getBody(type: WireType, flags: number): WireMessage {
  switch (type) {
    case 'RequestVote': {
      const from = getNode(), to = getNode(), term = getU64(), candidateId = getNode();
      const lastLogIndex = getU64(), lastLogTerm = getU64();
      return { type, from, to, term, candidateId, lastLogIndex, lastLogTerm, preVote: (flags & 1) !== 0, leadershipTransfer: (flags & 2) !== 0 };
    }
    case 'RequestVoteResponse': {
      const from = getNode(), to = getNode(), term = getU64();
      return { type, from, to, term, voteGranted: (flags & 1) !== 0, preVote: (flags & 2) !== 0 };
    }
    case 'AppendEntries': {
      const from = getNode(), to = getNode(), term = getU64(), leaderId = getNode();
      const prevLogIndex = getU64(), prevLogTerm = getU64(), leaderCommit = getU64(), context = getU64();
      return { type, from, to, term, leaderId, prevLogIndex, prevLogTerm, entries: getEntries(), leaderCommit, context };
    }
    case 'AppendEntriesResponse': {
      const from = getNode(), to = getNode(), term = getU64();
      const lastLogIndex = getU64(), conflictIndex = getU64(), conflictTerm = getU64(), context = getU64();
      return { type, from, to, term, success: (flags & 1) !== 0, lastLogIndex, conflictIndex, conflictTerm, context };
    }
    case 'InstallSnapshot': {
      const from = getNode(), to = getNode(), term = getU64(), leaderId = getNode();
      const lastIncludedIndex = getU64(), lastIncludedTerm = getU64(), offset = getU64();
      const config: ClusterConfig = { voters: getNodes(), learners: getNodes() };
      return { type, from, to, term, leaderId, lastIncludedIndex, lastIncludedTerm, offset, data: getBytes(), done: (flags & 1) !== 0, config };
    }
    case 'InstallSnapshotResponse': {
      const from = getNode(), to = getNode(), term = getU64();
      return { type, from, to, term, lastIncludedIndex: getU64(), bytesReceived: getU64(), success: (flags & 1) !== 0 };
    }
    case 'TimeoutNow': {
      const from = getNode(), to = getNode(), term = getU64();
      return { type, from, to, term, leaderId: getNode() };
    }
    case 'ClientRequest': {
      const op = getEnum(CLIENT_OPS, 'op'), key = getStr(), value = getBytesOrNull(), expected = getBytesOrNull();
      const ttlMs = getU64(), clientId = getStr(clientIdStrings), sequence = getU64();
      return { type, op, key, value, expected, ttlMs, clientId, sequence } satisfies ClientRequest;
    }
    case 'ClientReply': {
      const status = getEnum(CLIENT_STATUSES, 'status'), code = getStr(), value = getBytesOrNull();
      return { type, status, code, value, leaderHint: getStrOrNull() } satisfies ClientReply;
    }
    case 'TaskEnvelope': {
      const taskId = getStr(), taskType = getStr(), payload = getBytes();
      const priority = getU64(), deadlineMs = getU64(), timeoutMs = getU64(), attempt = getU64();
      return { type, taskId, taskType, payload, priority, deadlineMs, timeoutMs, attempt } satisfies TaskEnvelope;
    }
    case 'ResultEnvelope': {
      const taskId = getStr(), status = getEnum(TASK_STATUSES, 'status'), result = getBytes();
      return { type, taskId, status, result, error: getStrOrNull() } satisfies ResultEnvelope;
    }
  }
}

/**
 * Decodes the frame at `bytes[offset]`. Never throws on bad input.
 *
 * @example
 * ```ts
 * let at = 0;
 * for (;;) {
 *   const r = decodeFrame(buf, at);
 *   if (r.status !== 'ok') break;   // needMore: wait for bytes; error: drop the connection
 *   handle(r.message, r.requestId); at += r.consumed;
 * }
 * ```
 */
export function decodeFrame(bytes: Uint8Array, offset = 0, limits?: Partial<CodecLimits>): DecodeResult {
  assert(Number.isInteger(offset) && offset >= 0 && offset <= bytes.length, () => `offset ${offset} is outside the ${bytes.length} input bytes`);
  const l = resolveLimits(limits);
  try {
    const size = checkHeader(bytes, offset, l);
    if (size === 0) return NEED_MORE;
    const storedCrc = u32At(bytes, offset + 12);
    let crc = crc32c(bytes, 0, offset, offset + 12);
    crc = crc32c(bytes, crc, offset + HEADER_BYTES, offset + size);
    if (crc !== storedCrc) {
      throw new CodecError(CodecErrorCode.checksum, `frame checksum ${crc.toString(16)} does not match ${storedCrc.toString(16)}`);
    }
    const type = TYPE_BY_CODE[bytes[offset + 5]!]!;
    const flags = bytes[offset + 6]! | (bytes[offset + 7]! << 8);
    if (flags >>> FLAG_BITS[type].length !== 0) throw new CodecError(CodecErrorCode.malformed, `unknown flag bits ${flags.toString(2)} on ${type}`);
    const requestId = u32At(bytes, offset + 8);
    src = bytes; pos = offset + HEADER_BYTES; end = offset + size; lim = l;
    const message = getBody(type, flags);
    if (pos !== end) throw new CodecError(CodecErrorCode.malformed, `${end - pos} bytes left over after a ${type} body`);
    return { status: 'ok', message, requestId, consumed: size };
  } catch (error) {
    if (error instanceof CodecError) return { status: 'error', error, consumed: 0 };
    throw error;
  } finally {
    src = EMPTY;
  }
}
const EMPTY = new Uint8Array(0);

/** Narrows a decoded message; the shared tail of decodeTask/decodeResult. */
export function expectType<T extends WireMessage['type']>(r: DecodeResult, type: T, length: number): Extract<WireMessage, { type: T }> {
  if (r.status === 'error') throw r.error;
  if (r.status === 'needMore') throw new CodecError(CodecErrorCode.malformed, `a ${type} needs more than the ${length} bytes given`);
  if (r.message.type !== type) throw new CodecError(CodecErrorCode.unexpectedType, `expected a ${type}; got a ${r.message.type}`);
  if (r.consumed !== length) throw new CodecError(CodecErrorCode.malformed, `${length - r.consumed} bytes after the ${type} frame`);
  return r.message as Extract<WireMessage, { type: T }>;
}

