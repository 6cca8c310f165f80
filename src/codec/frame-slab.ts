/**
 * Where encoded frames live. Frames up to {@link FRAME_SLAB_BYTES_MAX} are carved from a shared
 * slab, as Node's Buffer pool does for small buffers: one view instead of one backing-store
 * allocation per frame (the allocation was half the cost of encoding a 64-entry AppendEntries).
 * The price: a frame kept alive pins its slab (at most SLAB_BYTES), and `frame.buffer` is the
 * slab, so pass `frame` (or its byteOffset/byteLength) on, never `frame.buffer` alone.
 * No imports: the WASM side uses it too, and loads early (from crc32c.ts).
 * @module
 */

const SLAB_BYTES = 256 * 1024;
/** Larger frames get their own ArrayBuffer. */
export const FRAME_SLAB_BYTES_MAX = 16 * 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

/** A fresh region of `size` bytes for one frame; the caller overwrites all of it. */
export function allocFrame(size: number): Uint8Array {
  if (size > FRAME_SLAB_BYTES_MAX) return new Uint8Array(size);
  // A detached slab (someone transferred a frame's buffer to a worker) has byteLength 0.
  if (slabUsed + size > SLAB_BYTES || slab.byteLength === 0) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const frame = new Uint8Array(slab, slabUsed, size);
  slabUsed = (slabUsed + size + 7) & ~7; // 8-byte aligned, for readers that put a DataView on it
  return frame;
}
