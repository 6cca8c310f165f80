/**
 * The JS side of the WASM codec (assembly/index.ts): marshals a message's fields into the module's
 * slots, makes one call per frame, and builds the decoded message from the slots. The module does
 * the validation, the layout, the payload copies and the CRC32C; this file only moves values across
 * the boundary. It must not import crc32c.ts (that module loads this one: keep the graph acyclic).
 *
 * Slot layout (16 bytes per schema field, in SCHEMA order): u64 → f64 at +0; node id, string,
 * byte string → u32 address at +0, u32 length at +4 (NULL_LENGTH for null); enum → u32 code at +0;
 * node list → u32 address of (address, length) pairs at +0, u32 count at +4; entries → u32 address
 * of a table of 32-byte records (f64 index, f64 term, u32 type, u32 address, u32 length) at +0,
 * u32 count at +4.
 * @module
 */
import type { Entry } from '../core/types.js';
import { NODE_ID_BYTES_MAX } from '../core/types.js';
import { assert } from '../core/errors.js';
import { CodecError, CodecErrorCode, ERROR_CODE_BY_NUMBER, describeValue } from './errors.js';
import {
  type CodecLimits, DEFAULT_CODEC_LIMITS, ENTRY_TYPES, FLAG_BITS, type FieldSpec, HEADER_BYTES, Kind, NULL_LENGTH,
  SCHEMA, TYPE_BY_CODE, TYPE_CODE, type WireType,
} from './layout.js';
import { readUtf8, utf8Length, writeUtf8 } from './utf8.js';
import { allocFrame } from './frame-slab.js';
import type { DecodeResult } from './ts-decode.js';
import type { WireMessage } from './ts-encode.js';

/** The module's exports (assembly/index.ts). */
export interface CodecExports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  heapBase(): number;
  crc32c(ptr: number, len: number, crc: number): number;
  encode(type: number, flags: number, requestId: number, slots: number, out: number): number;
  decode(input: number, available: number, frameBytesMax: number, entriesMax: number, stringBytesMax: number, nodesMax: number, slots: number, aux: number): number;
}

const SLOTS_BYTES = 1024;
const SLOT_BYTES = 16;
const ENTRY_RECORD_BYTES = 32;
const PAGE_BYTES = 65536;
/** Frames the module handles: its sizes are i32. */
const FRAME_BYTES_WASM_MAX = 0x7fff_fff0;
const NEED_MORE: DecodeResult = Object.freeze({ status: 'needMore', consumed: 0 });

const align8 = (n: number): number => (n + 7) & ~7;

// Callers usually pass the same limits object on every frame: merge it once.
let lastLimits: Partial<CodecLimits> | undefined;
let lastResolved: CodecLimits = DEFAULT_CODEC_LIMITS;
function resolveLimits(limits?: Partial<CodecLimits>): CodecLimits {
  if (limits === undefined) return DEFAULT_CODEC_LIMITS;
  if (limits !== lastLimits) {
    lastResolved = { ...DEFAULT_CODEC_LIMITS, ...limits };
    lastLimits = limits;
  }
  return lastResolved;
}

function fieldOf(m: WireMessage, spec: FieldSpec): unknown {
  const record = m as unknown as Record<string, unknown>;
  if (spec.kind !== Kind.nodes) return record[spec.name];
  const config = record['config'] as Record<string, unknown> | null | undefined;
  if (config === null || typeof config !== 'object') throw new CodecError(CodecErrorCode.malformed, 'config must have voters and learners arrays');
  return config[spec.name.slice('config.'.length)];
}

// The marshaller checks each field in wire order, so the first invalid field decides the error
// code exactly as in the reference encoder; the module checks the same things again (paired).
function checkU64(value: unknown, field: string): number {
  if (!(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)) {
    throw new CodecError(CodecErrorCode.integerRange, `WASM codec: ${field} must be an integer in [0, 2^53-1]; got ${describeValue(value)}`);
  }
  return value;
}

function enumCode(spec: FieldSpec, value: unknown): number {
  const code = spec.names!.indexOf(value as string) + 1;
  if (code === 0) throw new CodecError(CodecErrorCode.malformed, `WASM codec: ${spec.name} must be one of ${spec.names!.join('|')}`);
  return code;
}

function codecError(errorNumber: number, where: string): CodecError {
  const code = ERROR_CODE_BY_NUMBER[errorNumber] ?? CodecErrorCode.malformed;
  return new CodecError(code, `WASM codec: ${code} while ${where}`);
}

/**
 * One instance of the WASM codec. Not re-entrant (one frame at a time, which is all a synchronous
 * caller can do). Its linear memory grows to the largest frame seen and stays there.
 */
export class WasmFrameCodec {
  readonly name = 'wasm' as const;
  private readonly exports: CodecExports;
  private readonly slots: number;
  private readonly scratch: number;
  private u8!: Uint8Array;
  private u32!: Uint32Array;
  private f64!: Float64Array;

  constructor(instance: { readonly exports: unknown }) {
    this.exports = instance.exports as CodecExports;
    this.slots = this.exports.heapBase();
    this.scratch = this.slots + SLOTS_BYTES;
    this.refreshViews();
    assert(this.slots % 16 === 0, () => `heap base ${this.slots} is not 16-byte aligned`);
  }

  private refreshViews(): void {
    const buffer = this.exports.memory.buffer;
    this.u8 = new Uint8Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.f64 = new Float64Array(buffer);
  }

  /** Makes [0, endAddress) addressable; views are rebuilt when memory grows. */
  private ensure(endAddress: number): void {
    const have = this.exports.memory.buffer.byteLength;
    if (endAddress <= have) return;
    this.exports.memory.grow(Math.ceil((endAddress - have) / PAGE_BYTES));
    this.refreshViews();
  }

  /** CRC32C of `data[start, end)` continuing from `crc`, computed in WASM (the input is copied in). */
  crc32c(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
    const len = end - start;
    this.ensure(this.scratch + len);
    this.u8.set(start === 0 && end === data.length ? data : data.subarray(start, end), this.scratch);
    return this.exports.crc32c(this.scratch, len, crc >>> 0) >>> 0;
  }

  // Writes a string at `blob` into `slot`; returns the next free address.
  private putString(slot: number, value: unknown, nullable: boolean, blob: number, nodeId = false): number {
    if (value === null && nullable) {
      this.u32[(slot >> 2) + 1] = NULL_LENGTH;
      return blob;
    }
    if (typeof value !== 'string') throw new CodecError(CodecErrorCode.malformed, 'WASM codec: a string field is not a string');
    const bytes = utf8Length(value);
    if (nodeId && (bytes === 0 || bytes > NODE_ID_BYTES_MAX)) {
      throw new CodecError(CodecErrorCode.malformed, `WASM codec: a node id must be 1..${NODE_ID_BYTES_MAX} UTF-8 bytes; got ${bytes}`);
    }
    this.ensure(blob + bytes);
    writeUtf8(value, bytes, this.u8, blob);
    this.u32[slot >> 2] = blob;
    this.u32[(slot >> 2) + 1] = bytes;
    return blob + bytes;
  }

  private putBytes(slot: number, value: unknown, nullable: boolean, blob: number): number {
    if (value === null && nullable) {
      this.u32[(slot >> 2) + 1] = NULL_LENGTH;
      return blob;
    }
    if (!(value instanceof Uint8Array)) throw new CodecError(CodecErrorCode.malformed, 'WASM codec: a byte field is not a Uint8Array');
    this.ensure(blob + value.length);
    this.u8.set(value, blob);
    this.u32[slot >> 2] = blob;
    this.u32[(slot >> 2) + 1] = value.length;
    return blob + value.length;
  }

  private putNodes(slot: number, value: unknown, blob: number): number {
    if (!Array.isArray(value)) throw new CodecError(CodecErrorCode.malformed, 'WASM codec: a node list is not an array');
    const list = align8(blob);
    blob = list + value.length * 8;
    this.ensure(blob);
    for (let i = 0; i < value.length; i++) blob = this.putString(list + i * 8, value[i], false, blob, true);
    this.u32[slot >> 2] = list;
    this.u32[(slot >> 2) + 1] = value.length;
    return blob;
  }

  private putEntries(slot: number, value: unknown, blob: number): number {
    if (!Array.isArray(value)) throw new CodecError(CodecErrorCode.malformed, 'WASM codec: entries is not an array');
    const entries = value as Entry[];
    const table = align8(blob);
    blob = table + entries.length * ENTRY_RECORD_BYTES;
    let payloadBytes = 0;
    for (let i = 0; i < entries.length; i++) {
      const data = (entries[i] as Partial<Entry> | null | undefined)?.data;
      payloadBytes += data instanceof Uint8Array ? data.length : 0;
    }
    this.ensure(blob + payloadBytes);
    const { u8, u32, f64 } = this;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e === null || typeof e !== 'object') throw new CodecError(CodecErrorCode.malformed, `WASM codec: entries[${i}] is not an entry`);
      const r = table + i * ENTRY_RECORD_BYTES;
      f64[r >> 3] = checkU64(e.index, 'entries[].index');
      f64[(r >> 3) + 1] = checkU64(e.term, 'entries[].term');
      const type = e.type === 'normal' ? 1 : e.type === 'confChange' ? 2 : 0;
      if (type === 0) throw new CodecError(CodecErrorCode.malformed, 'WASM codec: entries[].type must be normal|confChange');
      u32[(r >> 2) + 4] = type;
      const data = e.data;
      if (!(data instanceof Uint8Array)) throw new CodecError(CodecErrorCode.malformed, 'WASM codec: an entry has no data bytes');
      u8.set(data, blob);
      u32[(r >> 2) + 5] = blob;
      u32[(r >> 2) + 6] = data.length;
      blob += data.length;
    }
    u32[slot >> 2] = table;
    u32[(slot >> 2) + 1] = entries.length;
    return blob;
  }

  /** Marshals `m` and encodes it at `lastOut` in linear memory; returns the frame size. */
  private encodeToMemory(m: WireMessage, requestId: number): number {
    if (!(Number.isInteger(requestId) && requestId >= 0 && requestId <= 0xffff_ffff)) {
      throw new CodecError(CodecErrorCode.integerRange, `requestId must be a u32; got ${describeValue(requestId)}`);
    }
    if (m === null || typeof m !== 'object') throw new CodecError(CodecErrorCode.malformed, `WASM codec: cannot encode ${describeValue(m)}`);
    const type = m.type as WireType;
    const code = typeof type === 'string' && Object.hasOwn(TYPE_CODE, type) ? TYPE_CODE[type] : undefined;
    if (code === undefined) throw new CodecError(CodecErrorCode.unknownType, `cannot encode message type ${describeValue(type)}`);
    const fields = SCHEMA[type];
    let blob = this.scratch;
    for (let i = 0; i < fields.length; i++) {
      const spec = fields[i]!;
      const slot = this.slots + i * SLOT_BYTES;
      const value = fieldOf(m, spec);
      switch (spec.kind) {
        // this.f64/this.u32, not locals: a string or byte field before this one may have grown
        // the memory, which replaces the views.
        case Kind.u64: this.f64[slot >> 3] = checkU64(value, spec.name); break;
        case Kind.enum8: this.u32[slot >> 2] = enumCode(spec, value); break;
        case Kind.node: blob = this.putString(slot, value, false, blob, true); break;
        case Kind.str: blob = this.putString(slot, value, false, blob); break;
        case Kind.optStr: blob = this.putString(slot, value, true, blob); break;
        case Kind.bytes: blob = this.putBytes(slot, value, false, blob); break;
        case Kind.optBytes: blob = this.putBytes(slot, value, true, blob); break;
        case Kind.nodes: blob = this.putNodes(slot, value, blob); break;
        case Kind.entries: blob = this.putEntries(slot, value, blob); break;
      }
    }
    const flagNames = FLAG_BITS[type];
    let flags = 0;
    for (let i = 0; i < flagNames.length; i++) if ((m as unknown as Record<string, unknown>)[flagNames[i]!]) flags |= 1 << i;
    // The frame is never larger than the marshalled fields plus 9 bytes of framing per field.
    const out = align8(blob);
    this.ensure(out + HEADER_BYTES + (blob - this.scratch) + fields.length * 9);
    const size = this.exports.encode(code, flags, requestId >>> 0, this.slots, out);
    if (size < 0) throw codecError(-size, `encoding a ${type}`);
    this.lastOut = out;
    return size;
  }
  private lastOut = 0;

  /** Same contract as the reference `encodeFrame`. */
  encodeFrame(message: WireMessage, requestId = 0): Uint8Array {
    const size = this.encodeToMemory(message, requestId);
    const frame = allocFrame(size);
    frame.set(this.u8.subarray(this.lastOut, this.lastOut + size));
    return frame;
  }

  /** Same contract as the reference `encodeFrameInto`. */
  encodeFrameInto(message: WireMessage, requestId: number, target: Uint8Array, offset: number): number {
    const size = this.encodeToMemory(message, requestId);
    assert(Number.isInteger(offset) && offset >= 0 && offset + size <= target.length,
      () => `target has ${target.length - offset} bytes from offset ${offset}; the frame needs ${size}`);
    target.set(this.u8.subarray(this.lastOut, this.lastOut + size), offset);
    return size;
  }

  /** Same contract as the reference `encodedFrameSize` (it encodes the frame to learn its size). */
  encodedFrameSize(message: WireMessage): number {
    return this.encodeToMemory(message, 0);
  }

  /** Same contract as the reference `decodeFrame`; byte fields are views into `bytes`. */
  decodeFrame(bytes: Uint8Array, offset = 0, limits?: Partial<CodecLimits>): DecodeResult {
    const l = resolveLimits(limits);
    const available = bytes.length - offset;
    assert(Number.isInteger(offset) && offset >= 0 && available >= 0, () => `offset ${offset} is outside the ${bytes.length} input bytes`);
    if (available < 4) return NEED_MORE;
    const frameBytes = HEADER_BYTES + ((bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0);
    const frameBytesMax = Math.min(l.frameBytesMax, FRAME_BYTES_WASM_MAX);
    // Copy in only what the frame says it holds (just the header when it is too large anyway).
    const copied = Math.min(available, frameBytes > frameBytesMax ? HEADER_BYTES : frameBytes);
    const input = this.scratch;
    const aux = align8(input + copied);
    const auxBytes = Math.min(Math.floor(copied / 21), l.entriesMax) * ENTRY_RECORD_BYTES + 2 * Math.min(l.nodesMax, 0xffff) * 8;
    this.ensure(aux + auxBytes);
    this.u8.set(bytes.subarray(offset, offset + copied), input);
    const clamp = (n: number): number => Math.max(0, Math.min(n, 0xffff_ffff));
    const r = this.exports.decode(input, copied, frameBytesMax, clamp(l.entriesMax), clamp(l.stringBytesMax), clamp(l.nodesMax), this.slots, aux);
    if (r === 0) return NEED_MORE;
    if (r < 0) return { status: 'error', error: codecError(-r, 'decoding'), consumed: 0 };
    try {
      const message = this.buildMessage(bytes, offset - input);
      const requestId = (bytes[offset + 8]! | (bytes[offset + 9]! << 8) | (bytes[offset + 10]! << 16) | (bytes[offset + 11]! << 24)) >>> 0;
      return { status: 'ok', message, requestId, consumed: r };
    } catch (error) {
      if (error instanceof CodecError) return { status: 'error', error, consumed: 0 };
      throw error;
    }
  }

  // Builds the message from the slots; `shift` turns a linear-memory address into an index of `bytes`.
  private buildMessage(bytes: Uint8Array, shift: number): WireMessage {
    const { u32, f64 } = this;
    const type = TYPE_BY_CODE[bytes[shift + this.scratch + 5]!]!;
    const message: Record<string, unknown> = { type };
    const fields = SCHEMA[type];
    for (let i = 0; i < fields.length; i++) {
      const spec = fields[i]!;
      const slot = this.slots + i * SLOT_BYTES;
      const at = u32[slot >> 2]! + shift;
      const len = u32[(slot >> 2) + 1]!;
      switch (spec.kind) {
        case Kind.u64: message[spec.name] = f64[slot >> 3]; break;
        case Kind.enum8: message[spec.name] = spec.names![u32[slot >> 2]! - 1]; break;
        case Kind.node: case Kind.str: message[spec.name] = readUtf8(bytes, at, at + len); break;
        case Kind.optStr: message[spec.name] = len === NULL_LENGTH ? null : readUtf8(bytes, at, at + len); break;
        case Kind.bytes: message[spec.name] = new Uint8Array(bytes.buffer, bytes.byteOffset + at, len); break;
        case Kind.optBytes: message[spec.name] = len === NULL_LENGTH ? null : new Uint8Array(bytes.buffer, bytes.byteOffset + at, len); break;
        case Kind.nodes: {
          const config = (message['config'] ??= { voters: [], learners: [] }) as Record<string, string[]>;
          const list = u32[slot >> 2]!;
          const ids: string[] = [];
          for (let k = 0; k < len; k++) {
            const idAt = u32[(list >> 2) + 2 * k]! + shift;
            ids.push(readUtf8(bytes, idAt, idAt + u32[(list >> 2) + 2 * k + 1]!));
          }
          config[spec.name.slice('config.'.length)] = ids;
          break;
        }
        case Kind.entries: message[spec.name] = this.buildEntries(bytes, shift, u32[slot >> 2]!, len); break;
      }
    }
    const flags = bytes[shift + this.scratch + 6]! | (bytes[shift + this.scratch + 7]! << 8);
    const flagNames = FLAG_BITS[type];
    for (let i = 0; i < flagNames.length; i++) message[flagNames[i]!] = (flags & (1 << i)) !== 0;
    return message as unknown as WireMessage;
  }

  private buildEntries(bytes: Uint8Array, shift: number, table: number, count: number): Entry[] {
    const { u32, f64 } = this;
    const buffer = bytes.buffer;
    const base = bytes.byteOffset;
    const entries: Entry[] = [];
    for (let i = 0; i < count; i++) {
      const r = table + i * ENTRY_RECORD_BYTES;
      const at = u32[(r >> 2) + 5]! + shift;
      entries.push({
        index: f64[r >> 3]!,
        term: f64[(r >> 3) + 1]!,
        type: ENTRY_TYPES[u32[(r >> 2) + 4]! - 1]!,
        data: new Uint8Array(buffer, base + at, u32[(r >> 2) + 6]!),
      });
    }
    return entries;
  }
}
