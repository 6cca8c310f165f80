/**
 * `ValueArena`: where the cache keeps copies of its values.
 *
 * A stored value must be a copy (the entry it came from is a view into a received frame or a
 * command, in slabs that a long-lived value must not pin). A copy of its own is a fresh
 * ArrayBuffer: about 1.3 µs on this VM, on every replica, per write. Copies carved from slabs
 * (src/util/slab.ts) cost a view. But a cache's values die in no particular order, so one
 * survivor would pin a slab of dead ones. The arena counts the bytes it carved and the bytes
 * still held; once the dead ones pass the live ones (and `deadBytesFloor`), the owner moves every
 * live value into a new generation of slabs, a few per write (`relocateStep`), and the old slabs
 * are freed when nothing holds their views. Slabs are never written twice, so a view handed out
 * before (a reply being sent, a snapshot being written) stays valid. The arena's memory stays
 * within about twice the live bytes plus the floor, besides a generation being moved out.
 *
 * Values over {@link ARENA_VALUE_BYTES_MAX} bytes get memory of their own and are not counted.
 *
 * @example
 * ```ts
 * const arena = new ValueArena();
 * const stored = arena.copy(entryValue);  // counted live
 * arena.release(stored);                  // replaced or deleted: counted dead
 * if (arena.compactionDue()) arena.beginGeneration(); // then relocate() each live value
 * ```
 */
import { Slab } from '../util/slab.js';

/** Bytes of one value slab. */
const ARENA_SLAB_BYTES = 256 * 1024;
/** Longer values get memory of their own: not pinned by, and not pinning, their neighbours. */
export const ARENA_VALUE_BYTES_MAX = 4096;
/** Dead bytes tolerated, whatever the live bytes (small caches never move anything). */
const ARENA_DEAD_BYTES_FLOOR = 8 * 1024 * 1024;

export class ValueArena {
  private slab = new Slab(ARENA_SLAB_BYTES, ARENA_VALUE_BYTES_MAX);
  /** The slabs of the current generation. */
  private generation = new Set<ArrayBufferLike>();
  /** Bytes of the held values that live in slabs (any generation). */
  liveBytes = 0;
  /** Bytes carved from the current generation's slabs. */
  carvedBytes = 0;

  constructor(private readonly deadBytesFloor = ARENA_DEAD_BYTES_FLOOR) {}

  /** A copy of `value` to keep; counted live until `release`. */
  copy(value: Uint8Array): Uint8Array {
    if (value.length > ARENA_VALUE_BYTES_MAX) return value.slice();
    this.liveBytes += value.length;
    return this.carve(value);
  }

  /** A value `copy` returned is no longer held (replaced, deleted, expired). */
  release(value: Uint8Array): void {
    if (value.length <= ARENA_VALUE_BYTES_MAX) this.liveBytes -= value.length;
  }

  /** Dead bytes in the current generation are past the live bytes and the floor. */
  compactionDue(): boolean {
    return this.carvedBytes - this.liveBytes > Math.max(this.liveBytes, this.deadBytesFloor);
  }

  /** Starts a new generation: from now on every live value should be `relocate`d into it. */
  beginGeneration(): void {
    this.slab = new Slab(ARENA_SLAB_BYTES, ARENA_VALUE_BYTES_MAX);
    this.generation = new Set();
    this.carvedBytes = 0;
  }

  /** `value` moved into the current generation (itself when it is there already or not the arena's). */
  relocate(value: Uint8Array): Uint8Array {
    if (value.length > ARENA_VALUE_BYTES_MAX || this.generation.has(value.buffer)) return value;
    return this.carve(value);
  }

  private carve(value: Uint8Array): Uint8Array {
    const copy = this.slab.copy(value);
    this.carvedBytes += value.length;
    this.generation.add(copy.buffer);
    return copy;
  }
}
