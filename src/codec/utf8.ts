/**
 * UTF-8 helpers for the codecs. Node ids, keys and task ids are short and nearly always ASCII, so
 * both directions take a plain loop for ASCII and fall back to TextEncoder/TextDecoder otherwise
 * (those calls cost more than the loop for strings of a few bytes).
 * @module
 */
import { CodecError, CodecErrorCode } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Strings up to this many bytes are decoded by hand when they are ASCII. */
const ASCII_FAST_BYTES_MAX = 64;

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
  if (end - start <= ASCII_FAST_BYTES_MAX) {
    let text = '';
    let i = start;
    for (; i < end; i++) {
      const c = source[i]!;
      if (c >= 0x80) break;
      text += String.fromCharCode(c);
    }
    if (i === end) return text;
  }
  try {
    return decoder.decode(source.subarray(start, end));
  } catch {
    throw new CodecError(CodecErrorCode.malformed, `invalid UTF-8 in a string field at byte ${start}`);
  }
}
