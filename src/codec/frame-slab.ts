/**
 * Where encoded frames live. Frames up to {@link FRAME_SLAB_BYTES_MAX} are carved from a shared
 * slab, as Node's Buffer pool does for small buffers: one view instead of one backing-store
 * allocation per frame (the allocation was half the cost of encoding a 64-entry AppendEntries).
 * The price: a frame kept alive pins its slab (at most SLAB_BYTES), and `frame.buffer` is the
 * slab, so pass `frame` (or its byteOffset/byteLength) on, never `frame.buffer` alone.
 * Its one import has none of its own: the WASM side uses this too, and loads early (from crc32c.ts).
 * @module
 */
import { Slab } from '../util/slab.js';

const SLAB_BYTES = 256 * 1024;
/** Larger frames get their own ArrayBuffer. */
export const FRAME_SLAB_BYTES_MAX = 16 * 1024;
const frames = new Slab(SLAB_BYTES, FRAME_SLAB_BYTES_MAX);

/** A fresh region of `size` bytes for one frame (8-byte aligned); the caller overwrites all of it. */
export function allocFrame(size: number): Uint8Array {
  return frames.alloc(size);
}
