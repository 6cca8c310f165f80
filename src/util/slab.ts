/**
 * `Slab`: fresh byte ranges carved back to back from large ArrayBuffers, for copies that must
 * outlive the bytes they come from (a socket's receive buffer, a scratch encoder).
 *
 * Why: on this VM a fresh ArrayBuffer of more than 64 bytes costs about 1.3 µs (a backing store
 * outside V8's heap, zero-filled, registered, later swept by the GC), against about 30 ns for a
 * view; `slice()` is such an allocation. A slab pays it once per `slabBytes`.
 *
 * The price is retention: a range kept alive keeps its whole slab alive. So a slab is never
 * written twice (a range handed out stays valid for as long as anyone holds it), and each use
 * gets a slab of its own whose ranges die in about the order they were carved (received frames,
 * log entries, requests in flight), so what stays pinned beyond the live bytes is about one slab.
 * Do not keep long-lived, randomly replaced values in one (a cache's values): one survivor would
 * pin a slab of dead ones.
 *
 * @example
 * ```ts
 * const slab = new Slab(256 * 1024);
 * const copy = slab.copy(received, start, end); // valid after `received` is reused
 * ```
 */
export class Slab {
  private buffer = new ArrayBuffer(0);
  private used = 0;
  /** Larger requests get memory of their own (a quarter of the slab by default). */
  readonly carveBytesMax: number;
  private readonly alignMask: number;

  /**
   * `align` (a power of two, default 8, for readers that put a DataView or a wider typed array on
   * a range): where each range starts. 1 packs ranges back to back, so consecutive ones form one
   * contiguous range (a send path can write them as one).
   */
  constructor(readonly slabBytes: number, carveBytesMax = slabBytes / 4, align = 8) {
    this.carveBytesMax = Math.min(carveBytesMax, slabBytes);
    this.alignMask = align - 1;
  }

  /** `size` bytes no one else holds; their contents are unspecified. */
  alloc(size: number): Uint8Array {
    if (size > this.carveBytesMax) return new Uint8Array(size);
    // A detached slab (a range's buffer was transferred to a worker) has byteLength 0.
    if (this.used + size > this.buffer.byteLength || this.buffer.byteLength === 0) {
      this.buffer = new ArrayBuffer(this.slabBytes);
      this.used = 0;
    }
    const range = new Uint8Array(this.buffer, this.used, size);
    this.used = (this.used + size + this.alignMask) & ~this.alignMask;
    return range;
  }

  /** A copy of `bytes[start, end)`. */
  copy(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
    const size = end - start;
    const range = this.alloc(size);
    range.set(start === 0 && end === bytes.length ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset + start, size));
    return range;
  }
}
