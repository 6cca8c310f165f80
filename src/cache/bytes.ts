/**
 * A bounds-checked little-endian reader and a growable writer for the cache's command and snapshot
 * encodings. Every read checks the remaining length first, so a truncated or hostile input is a
 * `CacheError`, never an out-of-range read or a huge allocation.
 */
import { readUtf8, type Utf8Cache, utf8Length, writeUtf8 } from '../codec/utf8.js';
import { CacheError } from './errors.js';

export { utf8Length };

export class ByteWriter {
  private buffer: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initialBytes = 256) {
    this.buffer = new Uint8Array(initialBytes);
    this.view = new DataView(this.buffer.buffer);
  }

  private reserve(bytes: number): void {
    const needed = this.length + bytes;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }

  u8(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  u32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, value, true);
    this.length += 4;
  }

  f64(value: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }

  bytes(value: Uint8Array): void {
    this.u32(value.length);
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  /** `u32 length` + UTF-8; keys and client ids are short ASCII, written without an encoder call. */
  string(value: string): void {
    const bytes = utf8Length(value);
    this.u32(bytes);
    this.reserve(bytes);
    this.length = writeUtf8(value, bytes, this.buffer, this.length);
  }

  /** Starts over, keeping the buffer (for a scratch writer whose output is copied at once). */
  reset(): void {
    this.length = 0;
  }

  /** Bytes the buffer holds now. */
  get capacity(): number {
    return this.buffer.length;
  }

  /** The written bytes (a view; the writer must not be used afterwards, except after `reset`). */
  finish(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

export class ByteReader {
  private readonly view: DataView;
  offset = 0;

  constructor(private readonly data: Uint8Array, private readonly what: string, private readonly code: string) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  get remaining(): number {
    return this.data.length - this.offset;
  }

  private need(bytes: number): void {
    if (bytes > this.remaining) {
      throw new CacheError(this.code, `${this.what} is truncated: needs ${bytes} more bytes at offset ${this.offset}, has ${this.remaining}`);
    }
  }

  u8(): number {
    this.need(1);
    return this.data[this.offset++]!;
  }

  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  f64(): number {
    this.need(8);
    const value = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return value;
  }

  /** A length-prefixed byte string, at most `bytesMax` long; a view into the input. */
  bytes(bytesMax: number, field: string): Uint8Array {
    const start = this.span(bytesMax, field);
    return this.data.subarray(start, this.offset);
  }

  /**
   * A length-prefixed UTF-8 string, at most `bytesMax` bytes long. With `cache`, a string that
   * repeats (a client's id in every command) is decoded once and found again by its bytes.
   */
  string(bytesMax: number, field: string, cache?: Utf8Cache): string {
    const start = this.span(bytesMax, field);
    try {
      // Read in place: a view per string would be garbage on every command.
      return cache === undefined ? readUtf8(this.data, start, this.offset) : cache.read(this.data, start, this.offset);
    } catch {
      throw new CacheError(this.code, `${this.what}: ${field} is not valid UTF-8`);
    }
  }

  /** Reads a length prefix (at most `bytesMax`), steps over that many bytes, and returns where they start. */
  private span(bytesMax: number, field: string): number {
    const length = this.u32();
    if (length > bytesMax) throw new CacheError(this.code, `${this.what}: ${field} of ${length} bytes is over the limit of ${bytesMax}`);
    this.need(length);
    const start = this.offset;
    this.offset += length;
    return start;
  }

  end(): void {
    if (this.remaining !== 0) throw new CacheError(this.code, `${this.what} has ${this.remaining} trailing bytes`);
  }
}
