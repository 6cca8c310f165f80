/**
 * UTF-8 helpers for the codecs. Node ids, keys, client ids and task ids are short and nearly
 * always ASCII, so both directions take a fast path for ASCII and fall back to
 * TextEncoder/TextDecoder otherwise (those calls cost more than the fast path for strings of a
 * few bytes). Strings that repeat in every message (node ids, a client's id) are decoded once and
 * then found again by their bytes ({@link Utf8Cache}).
 * @module
 */
import { CodecError, CodecErrorCode } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Strings up to this many bytes are decoded by hand when they are ASCII. */
const ASCII_FAST_BYTES_MAX = 64;
/**
 * ASCII strings up to this many bytes are built by concatenation; longer ones by one native call
 * (`latin1Slice`, the same text for bytes below 0x80). Measured on Node 20 here: 4 bytes 81 ns by
 * concatenation, 260 ns native; 13 bytes 281 against 151 ns; 36 bytes (a UUID) 551 against 321 ns
 * and about 1,060 against 57 bytes of garbage, since every concatenation allocates a string.
 */
const ASCII_CONCAT_BYTES_MAX = 8;
// Node's Buffer method, used on plain Uint8Arrays too; absent in a runtime without it.
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (this: Uint8Array, start: number, end: number) => string }).latin1Slice;

/** UTF-8 length of `text` as TextEncoder would write it (a lone surrogate becomes 3 bytes). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Writes `text` at `target[offset]`; `bytes` is its {@link utf8Length}. Returns the end offset. */
export function writeUtf8(text: string, bytes: number, target: Uint8Array, offset: number): number {
  if (bytes === text.length) {
    for (let i = 0; i < bytes; i++) target[offset + i] = text.charCodeAt(i);
    return offset + bytes;
  }
  const written = encoder.encodeInto(text, target.subarray(offset, offset + bytes)).written;
  if (written !== bytes) throw new CodecError(CodecErrorCode.malformed, `UTF-8 length of a string changed while encoding (${written} != ${bytes})`);
  return offset + bytes;
}

/** Decodes `source[start, end)` as strict UTF-8; invalid bytes are a CODEC_ERR_MALFORMED. */
export function readUtf8(source: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length <= ASCII_CONCAT_BYTES_MAX || (latin1Slice === undefined && length <= ASCII_FAST_BYTES_MAX)) {
    let text = '';
    let i = start;
    for (; i < end; i++) {
      const c = source[i]!;
      if (c >= 0x80) break;
      text += String.fromCharCode(c);
    }
    if (i === end) return text;
  } else if (length <= ASCII_FAST_BYTES_MAX) {
    let i = start;
    while (i < end && source[i]! < 0x80) i++;
    if (i === end) return latin1Slice!.call(source, start, end);
  }
  try {
    return decoder.decode(source.subarray(start, end));
  } catch {
    throw new CodecError(CodecErrorCode.malformed, `invalid UTF-8 in a string field at byte ${start}`);
  }
}

/**
 * Decoded strings that repeat, found again by their bytes: after its first time, decoding one
 * allocates nothing. A slot holds a copy of the bytes of one string that decoded as valid UTF-8,
 * and that string: an entry maps exact bytes to the text they decode to, nothing else. Strings
 * longer than `bytesMax` are decoded every time.
 *
 * @example
 * ```ts
 * const clientIds = new Utf8Cache(256, 64);
 * const id = clientIds.read(frame, offset, offset + length); // the same string object next time
 * ```
 */
export class Utf8Cache {
  private readonly slotBytes: (Uint8Array | undefined)[];
  private readonly slotText: string[];
  private readonly mask: number;

  /** `slots`: a power of two; `bytesMax`: the longest string kept. */
  constructor(slots: number, readonly bytesMax: number) {
    if (!Number.isInteger(slots) || slots < 1 || (slots & (slots - 1)) !== 0) throw new RangeError(`Utf8Cache slots must be a power of two, got ${slots}`);
    this.slotBytes = new Array<Uint8Array | undefined>(slots).fill(undefined);
    this.slotText = new Array<string>(slots).fill('');
    this.mask = slots - 1;
  }

  /** The text of `source[start, end)` (strict UTF-8, as {@link readUtf8}). */
  read(source: Uint8Array, start: number, end: number): string {
    const length = end - start;
    if (length > this.bytesMax) return readUtf8(source, start, end);
    let hash = length;
    for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + source[i]!) | 0;
    const slot = (hash ^ (hash >>> 16)) & this.mask;
    const cached = this.slotBytes[slot];
    if (cached !== undefined && cached.length === length) {
      let i = 0;
      while (i < length && cached[i] === source[start + i]) i++;
      if (i === length) return this.slotText[slot]!;
    }
    const text = readUtf8(source, start, end); // throws on invalid UTF-8: nothing is cached then
    this.slotBytes[slot] = source.slice(start, end);
    this.slotText[slot] = text;
    return text;
  }
}

/**
 * Client ids, which repeat in every request of a client: one cache for the WebSocket request
 * decoder and the cache's command decoder, which on the leader decode the same ids.
 */
export const clientIdStrings = new Utf8Cache(256, 64);
