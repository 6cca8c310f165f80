// The WASM wire codec: one call encodes or decodes a whole frame. JS marshals a message's fields
// into 16-byte slots (numbers as f64, strings and byte strings as pointer + length, entry batches
// and node lists as tables) and this module validates them, lays out the body, copies the payloads
// and computes the CRC32C; decoding is the mirror image. The bytes are those of the TypeScript
// reference codec (src/codec/ts-encode.ts), which docs/wire-format.md describes.
import { crc32cUpdate } from './crc32c';
import {
  ENTRY_HEADER_BYTES, ENTRY_RECORD_BYTES, ERR_CHECKSUM, ERR_FRAME_TOO_LARGE, ERR_INTEGER_RANGE, ERR_LIMIT,
  ERR_MALFORMED, ERR_UNKNOWN_TYPE, ERR_VERSION, FRAME_VERSION, HEADER_BYTES, K_BYTES, K_ENTRIES, K_ENUM8,
  K_NODE, K_NODES, K_OPT_BYTES, K_OPT_STR, K_STR, K_U64, NODE_ID_BYTES_MAX, NULL_LENGTH, SAFE_INTEGER_MAX,
  SLOT_BYTES, U64_HIGH_MAX, flagCountOf, schemaOf,
} from './layout';

/** First byte JS may use for slots and scratch: everything below is this module's static data. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}

/** CRC32C of [ptr, ptr+len) continuing from `crc`. */
export function crc32c(ptr: usize, len: usize, crc: u32): u32 {
  return crc32cUpdate(crc, ptr, len);
}

/** Largest frame this module encodes: sizes travel as i32 return values. */
const FRAME_BYTES_ENCODE_MAX: u64 = 0x7fff_fff0;

// @ts-ignore: decorator
@inline function validU64(v: f64): bool {
  return v >= 0 && v <= SAFE_INTEGER_MAX && Math.floor(v) == v;
}

// Size pass over the slots: the body size, or a negative error number.
function bodySize(schema: usize, slots: usize): i64 {
  let size: u64 = 0;
  let slot = slots;
  for (let s = schema; ; s++) {
    const kind = <u32>load<u8>(s);
    if (kind == 0) break;
    if (kind == K_U64) {
      if (!validU64(load<f64>(slot))) return -ERR_INTEGER_RANGE;
      size += 8;
    } else if (kind == K_NODE) {
      const len = load<u32>(slot, 4);
      if (len == 0 || len > NODE_ID_BYTES_MAX) return -ERR_MALFORMED;
      size += 1 + <u64>len;
    } else if (kind == K_STR || kind == K_BYTES) {
      const len = load<u32>(slot, 4);
      if (len == NULL_LENGTH) return -ERR_MALFORMED;
      size += 4 + <u64>len;
    } else if (kind == K_OPT_STR || kind == K_OPT_BYTES) {
      const len = load<u32>(slot, 4);
      size += 4 + (len == NULL_LENGTH ? 0 : <u64>len);
    } else if (kind == K_ENUM8) {
      s++;
      const code = load<u32>(slot);
      if (code == 0 || code > <u32>load<u8>(s)) return -ERR_MALFORMED;
      size += 1;
    } else if (kind == K_NODES) {
      const list = <usize>load<u32>(slot);
      const count = load<u32>(slot, 4);
      if (count > 0xffff) return -ERR_LIMIT;
      size += 2;
      for (let i: u32 = 0; i < count; i++) {
        const len = load<u32>(list + (<usize>i << 3), 4);
        if (len == 0 || len > NODE_ID_BYTES_MAX) return -ERR_MALFORMED;
        size += 1 + <u64>len;
      }
    } else if (kind == K_ENTRIES) {
      const table = <usize>load<u32>(slot);
      const count = load<u32>(slot, 4);
      size += 4 + <u64>count * ENTRY_HEADER_BYTES;
      for (let i: u32 = 0; i < count; i++) {
        const r = table + <usize>i * ENTRY_RECORD_BYTES;
        if (!validU64(load<f64>(r)) || !validU64(load<f64>(r, 8))) return -ERR_INTEGER_RANGE;
        const type = load<u32>(r, 16);
        if (type == 0 || type > 2) return -ERR_MALFORMED;
        const len = load<u32>(r, 24);
        if (len == NULL_LENGTH) return -ERR_MALFORMED;
        size += <u64>len;
      }
    } else {
      unreachable();
    }
    if (size > FRAME_BYTES_ENCODE_MAX) return -ERR_FRAME_TOO_LARGE;
    slot += SLOT_BYTES;
  }
  return <i64>size;
}

// @ts-ignore: decorator
@inline function putU64(p: usize, v: f64): usize {
  store<u64>(p, <u64>v);
  return p + 8;
}

// @ts-ignore: decorator
@inline function putBlob(p: usize, slot: usize, prefixBytes: u32): usize {
  const ptr = <usize>load<u32>(slot);
  const len = load<u32>(slot, 4);
  if (prefixBytes == 1) {
    store<u8>(p, <u8>len);
  } else {
    store<u32>(p, len);
  }
  p += prefixBytes;
  if (len == NULL_LENGTH) return p;
  memory.copy(p, ptr, len);
  return p + len;
}

// Write pass; bodySize has validated every slot.
function putBody(schema: usize, slots: usize, p: usize): usize {
  let slot = slots;
  for (let s = schema; ; s++) {
    const kind = <u32>load<u8>(s);
    if (kind == 0) break;
    if (kind == K_U64) {
      p = putU64(p, load<f64>(slot));
    } else if (kind == K_NODE) {
      p = putBlob(p, slot, 1);
    } else if (kind == K_ENUM8) {
      s++;
      store<u8>(p, <u8>load<u32>(slot));
      p += 1;
    } else if (kind == K_NODES) {
      const list = <usize>load<u32>(slot);
      const count = load<u32>(slot, 4);
      store<u16>(p, <u16>count);
      p += 2;
      for (let i: u32 = 0; i < count; i++) p = putBlob(p, list + (<usize>i << 3), 1);
    } else if (kind == K_ENTRIES) {
      const table = <usize>load<u32>(slot);
      const count = load<u32>(slot, 4);
      store<u32>(p, count);
      p += 4;
      for (let i: u32 = 0; i < count; i++) {
        const r = table + <usize>i * ENTRY_RECORD_BYTES;
        p = putU64(p, load<f64>(r));
        p = putU64(p, load<f64>(r, 8));
        store<u8>(p, <u8>load<u32>(r, 16));
        p = putBlob(p + 1, r + 20, 4);
      }
    } else {
      p = putBlob(p, slot, 4); // str, optStr, bytes, optBytes
    }
    slot += SLOT_BYTES;
  }
  return p;
}

/**
 * Encodes the message in `slots` as a frame at `out`. Returns the frame's size, or a negative error
 * number. JS guarantees `out` has room (it sizes the scratch from the same slots).
 */
export function encode(type: u32, flags: u32, requestId: u32, slots: usize, out: usize): i32 {
  const schema = schemaOf(type);
  if (schema == 0) return -ERR_UNKNOWN_TYPE;
  if ((flags >>> flagCountOf(type)) != 0) return -ERR_MALFORMED;
  const size = bodySize(schema, slots);
  if (size < 0) return <i32>size;
  const end = putBody(schema, slots, out + HEADER_BYTES);
  if (end != out + HEADER_BYTES + <usize>size) unreachable(); // pairs the size pass with the write pass
  store<u32>(out, <u32>size);
  store<u8>(out, <u8>FRAME_VERSION, 4);
  store<u8>(out, <u8>type, 5);
  store<u16>(out, <u16>flags, 6);
  store<u32>(out, requestId, 8);
  const crc = crc32cUpdate(crc32cUpdate(0, out, 12), out + HEADER_BYTES, <usize>size);
  store<u32>(out, crc, 12);
  return <i32>(HEADER_BYTES + <u32>size);
}

// Decoder state: the read position and the end of the frame's body.
let pos: usize = 0;
let end: usize = 0;
let aux: usize = 0;

// @ts-ignore: decorator
@inline function isContinuation(p: usize): bool {
  return (<u32>load<u8>(p) & 0xc0) == 0x80;
}

// Strict UTF-8 as TextDecoder's fatal mode sees it: no overlong forms, no surrogates, nothing past
// U+10FFFF, no truncated sequences.
function validUtf8(p: usize, len: usize): bool {
  const end = p + len;
  while (p < end) {
    const b0 = <u32>load<u8>(p);
    if (b0 < 0x80) { p++; continue; }
    if (b0 < 0xc2 || b0 > 0xf4) return false;
    const n: usize = b0 < 0xe0 ? 2 : b0 < 0xf0 ? 3 : 4;
    if (end - p < n) return false;
    const b1 = <u32>load<u8>(p, 1);
    if ((b1 & 0xc0) != 0x80) return false;
    if (b0 == 0xe0 && b1 < 0xa0) return false; // overlong
    if (b0 == 0xed && b1 > 0x9f) return false; // surrogate
    if (b0 == 0xf0 && b1 < 0x90) return false; // overlong
    if (b0 == 0xf4 && b1 > 0x8f) return false; // past U+10FFFF
    if (n >= 3 && !isContinuation(p + 2)) return false;
    if (n == 4 && !isContinuation(p + 3)) return false;
    p += n;
  }
  return true;
}

// Reads a length-prefixed blob into a slot; `text` blobs must be UTF-8. Returns 0 or a negative
// error number.
function getBlob(slot: usize, prefixBytes: u32, nullable: bool, lengthMax: u32, text: bool = false): i32 {
  if (end - pos < <usize>prefixBytes) return -ERR_MALFORMED;
  const len: u32 = prefixBytes == 1 ? <u32>load<u8>(pos) : load<u32>(pos);
  pos += prefixBytes;
  if (len == NULL_LENGTH) {
    if (!nullable) return -ERR_MALFORMED;
    store<u32>(slot, 0);
    store<u32>(slot, len, 4);
    return 0;
  }
  if (prefixBytes == 1 && len == 0) return -ERR_MALFORMED; // node ids are never empty
  if (len > lengthMax) return -ERR_LIMIT;
  if (end - pos < <usize>len) return -ERR_MALFORMED;
  if (text && !validUtf8(pos, <usize>len)) return -ERR_MALFORMED;
  store<u32>(slot, <u32>pos);
  store<u32>(slot, len, 4);
  pos += len;
  return 0;
}

function getU64(target: usize): i32 {
  if (end - pos < 8) return -ERR_MALFORMED;
  if (load<u32>(pos, 4) > U64_HIGH_MAX) return -ERR_INTEGER_RANGE;
  store<f64>(target, <f64>load<u64>(pos));
  pos += 8;
  return 0;
}

function getEntries(slot: usize, entriesMax: u32): i32 {
  if (end - pos < 4) return -ERR_MALFORMED;
  const count = load<u32>(pos);
  pos += 4;
  if (count > entriesMax) return -ERR_LIMIT;
  if (<u64>(end - pos) < <u64>count * ENTRY_HEADER_BYTES) return -ERR_MALFORMED;
  const table = aux;
  aux += <usize>count * ENTRY_RECORD_BYTES;
  store<u32>(slot, <u32>table);
  store<u32>(slot, count, 4);
  for (let i: u32 = 0; i < count; i++) {
    const r = table + <usize>i * ENTRY_RECORD_BYTES;
    let err = getU64(r);
    if (err != 0) return err;
    err = getU64(r + 8);
    if (err != 0) return err;
    if (end - pos < 1) return -ERR_MALFORMED;
    const type = <u32>load<u8>(pos);
    pos += 1;
    if (type == 0 || type > 2) return -ERR_MALFORMED;
    store<u32>(r, type, 16);
    err = getBlob(r + 20, 4, false, 0xfffffffe);
    if (err != 0) return err;
  }
  return 0;
}

function getNodes(slot: usize, nodesMax: u32): i32 {
  if (end - pos < 2) return -ERR_MALFORMED;
  const count = <u32>load<u16>(pos);
  pos += 2;
  if (count > nodesMax) return -ERR_LIMIT;
  if (<u64>(end - pos) < <u64>count * 2) return -ERR_MALFORMED;
  const list = aux;
  aux += <usize>count << 3;
  store<u32>(slot, <u32>list);
  store<u32>(slot, count, 4);
  for (let i: u32 = 0; i < count; i++) {
    const err = getBlob(list + (<usize>i << 3), 1, false, NODE_ID_BYTES_MAX, true);
    if (err != 0) return err;
  }
  return 0;
}

function getBody(schema: usize, slots: usize, entriesMax: u32, stringBytesMax: u32, nodesMax: u32): i32 {
  let slot = slots;
  for (let s = schema; ; s++) {
    const kind = <u32>load<u8>(s);
    if (kind == 0) break;
    let err: i32 = 0;
    if (kind == K_U64) err = getU64(slot);
    else if (kind == K_NODE) err = getBlob(slot, 1, false, NODE_ID_BYTES_MAX, true);
    else if (kind == K_STR) err = getBlob(slot, 4, false, stringBytesMax, true);
    else if (kind == K_OPT_STR) err = getBlob(slot, 4, true, stringBytesMax, true);
    else if (kind == K_BYTES) err = getBlob(slot, 4, false, 0xfffffffe);
    else if (kind == K_OPT_BYTES) err = getBlob(slot, 4, true, 0xfffffffe);
    else if (kind == K_ENUM8) {
      s++;
      if (end - pos < 1) return -ERR_MALFORMED;
      const code = <u32>load<u8>(pos);
      pos += 1;
      if (code == 0 || code > <u32>load<u8>(s)) return -ERR_MALFORMED;
      store<u32>(slot, code);
    } else if (kind == K_NODES) err = getNodes(slot, nodesMax);
    else if (kind == K_ENTRIES) err = getEntries(slot, entriesMax);
    else unreachable();
    if (err != 0) return err;
    slot += SLOT_BYTES;
  }
  return 0;
}

/**
 * Decodes the frame at [input, input+available): the frame's size, 0 when more bytes are needed,
 * or a negative error number. Fields go to `slots` (pointers into the input); entry tables and
 * node lists go to `auxOut`, which JS sizes from the bounds (entriesMax, nodesMax).
 */
export function decode(
  input: usize, available: u32, frameBytesMax: u32, entriesMax: u32, stringBytesMax: u32, nodesMax: u32, slots: usize, auxOut: usize,
): i32 {
  if (available < 4) return 0;
  const bodyBytes = load<u32>(input);
  if (<u64>HEADER_BYTES + <u64>bodyBytes > <u64>frameBytesMax) return -ERR_FRAME_TOO_LARGE;
  if (available >= 5 && <u32>load<u8>(input, 4) != FRAME_VERSION) return -ERR_VERSION;
  const type = available >= 6 ? <u32>load<u8>(input, 5) : 0;
  if (available >= 6 && schemaOf(type) == 0) return -ERR_UNKNOWN_TYPE;
  if (<u64>available < <u64>HEADER_BYTES + <u64>bodyBytes) return 0;
  const crc = crc32cUpdate(crc32cUpdate(0, input, 12), input + HEADER_BYTES, <usize>bodyBytes);
  if (crc != load<u32>(input, 12)) return -ERR_CHECKSUM;
  const flags = <u32>load<u16>(input, 6);
  if ((flags >>> flagCountOf(type)) != 0) return -ERR_MALFORMED;
  pos = input + HEADER_BYTES;
  end = pos + <usize>bodyBytes;
  aux = auxOut;
  const err = getBody(schemaOf(type), slots, entriesMax, stringBytesMax, nodesMax);
  if (err != 0) return err;
  if (pos != end) return -ERR_MALFORMED;
  return <i32>(HEADER_BYTES + bodyBytes);
}
