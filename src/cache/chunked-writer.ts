/**
 * A writer for large encodings (the cache's snapshot): it fills fixed-size chunks, so growing
 * never copies what is written, and assembles them into one array in steps of about a chunk,
 * with the CRC32C of the body computed in the same pass.
 *
 * Why: a 24 MB snapshot in a doubling buffer copied 16 MB in one step, then the whole body again
 * for its CRC trailer, and the node wrapped it once more; each of those ran as one task of
 * 100-280 ms on a loaded 2-core machine, longer than an election timeout (docs/cache.md).
 *
 * @example
 * ```ts
 * const w = new ChunkedWriter();
 * w.u32(7); w.string('key'); w.bytes(value);
 * const assembly = w.assemble(prefix);           // prefix, then the body, then its CRC32C
 * let step = assembly.next();
 * while (!step.done) step = assembly.next();     // one chunk per step
 * const bytes = step.value;
 * ```
 */
import { crc32c } from '../codec/crc32c.js';
import { utf8Length, writeUtf8 } from '../codec/utf8.js';

/** Bytes per chunk, and per assembly step. */
export const CHUNK_BYTES = 1 << 20;

export class ChunkedWriter {
  private readonly chunks: Uint8Array[] = [];
  private current: Uint8Array;
  private view: DataView;
  private at = 0;
  /** Bytes written so far. */
  length = 0;

  constructor(private readonly chunkBytes = CHUNK_BYTES) {
    this.current = new Uint8Array(chunkBytes);
    this.view = new DataView(this.current.buffer);
  }

  /** Makes `bytes` contiguous room: a field is never split across chunks (a large one gets a chunk of its own). */
  private room(bytes: number): void {
    if (this.at + bytes <= this.current.length) return;
    this.chunks.push(this.current.subarray(0, this.at));
    this.current = new Uint8Array(Math.max(this.chunkBytes, bytes));
    this.view = new DataView(this.current.buffer);
    this.at = 0;
  }

  u8(value: number): void {
    this.room(1);
    this.current[this.at++] = value;
    this.length += 1;
  }

  u32(value: number): void {
    this.room(4);
    this.view.setUint32(this.at, value, true);
    this.at += 4;
    this.length += 4;
  }

  f64(value: number): void {
    this.room(8);
    this.view.setFloat64(this.at, value, true);
    this.at += 8;
    this.length += 8;
  }

  /** `u32 length` + the bytes (as ByteWriter.bytes). */
  bytes(value: Uint8Array): void {
    this.room(4 + value.length);
    this.view.setUint32(this.at, value.length, true);
    this.current.set(value, this.at + 4);
    this.at += 4 + value.length;
    this.length += 4 + value.length;
  }

  /** `u32 length` + UTF-8 (as ByteWriter.string). */
  string(value: string): void {
    const bytes = utf8Length(value);
    this.room(4 + bytes);
    this.view.setUint32(this.at, bytes, true);
    const end = writeUtf8(value, bytes, this.current, this.at + 4);
    this.length += end - this.at;
    this.at = end;
  }

  /** `value` as it is, no length prefix. */
  raw(value: Uint8Array): void {
    this.room(value.length);
    this.current.set(value, this.at);
    this.at += value.length;
    this.length += value.length;
  }

  /**
   * One array: `prefix`, then the written body, then the body's CRC32C (u32, little-endian).
   * Copies about one chunk per `next()`; the writer must not be used afterwards.
   */
  *assemble(prefix: Uint8Array = new Uint8Array(0)): Generator<void, Uint8Array, undefined> {
    this.chunks.push(this.current.subarray(0, this.at));
    const out = new Uint8Array(prefix.length + this.length + 4);
    out.set(prefix, 0);
    let at = prefix.length;
    let crc = 0;
    for (let i = 0; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      out.set(chunk, at);
      crc = crc32c(chunk, crc);
      at += chunk.length;
      this.chunks[i] = EMPTY; // let it go as soon as it is copied
      if (i + 1 < this.chunks.length) yield;
    }
    new DataView(out.buffer).setUint32(at, crc, true);
    return out;
  }
}

const EMPTY = new Uint8Array(0);
