/**
 * A pool of reusable buffers for the hot paths (frame encoding, socket reads): memory is reserved
 * in slabs, each slab carved into equal slots of one power-of-two size class, and `acquire(size)`
 * hands out a `Buffer` view of exactly `size` bytes over a free slot. `release(buf)` puts the slot
 * back on its class's free list. Slab memory is never garbage: it lives as long as the pool.
 *
 * Where the work happens (docs/native.md has the measurements): slab memory comes from the native
 * addon when it is loaded (aligned, outside V8's heap) and from `new ArrayBuffer` otherwise; the
 * free lists are plain JS typed arrays either way, because one N-API call costs more than a whole
 * JS acquire + release. Both backings give the same answers.
 *
 * Safety: every acquire returns a fresh view object, and the pool remembers which view holds each
 * slot. Releasing a view twice, a stale view whose slot was handed out again, a sub-view, or a
 * buffer the pool never gave out is a {@link BufferPoolError}; none of them can free a slot someone
 * else holds. Contents of an acquired buffer are unspecified (like `Buffer.allocUnsafe`).
 *
 * @example
 * ```ts
 * const pool = new BufferPool();
 * const frame = pool.acquire(1500);
 * try { encodeInto(frame); socket.write(frame); } finally { pool.release(frame); }
 * ```
 */
import { AssertionError, InvalidConfigError, RaftwireError, assert } from '../core/errors.js';
import { loadNative } from './native.js';

/** Typed errors of the pool. Match on `code`. */
export type BufferPoolErrorCode =
  | 'NATIVE_ERR_POOL_DOUBLE_RELEASE'
  | 'NATIVE_ERR_POOL_FOREIGN_BUFFER'
  | 'NATIVE_ERR_POOL_INVALID_SIZE';

/** A misuse of a {@link BufferPool}; the pool's state is unchanged by the call that threw. */
export class BufferPoolError extends RaftwireError {
  declare readonly code: BufferPoolErrorCode;
  constructor(code: BufferPoolErrorCode, message: string) {
    super(code, message);
  }
}

export interface BufferPoolOptions {
  /** Bytes per slab; a power of two, at least `classBytesMax`. Default 256 KiB. */
  slabBytes?: number;
  /** Smallest size class; a power of two ≥ 8. Default 64. */
  classBytesMin?: number;
  /** Largest size class; larger requests get a plain buffer, counted as a miss. Default 64 KiB. */
  classBytesMax?: number;
  /** Bound on slab memory; past it, requests get plain buffers (misses). Default 64 MiB. */
  reservedBytesMax?: number;
  /** Slab alignment for the native backing (the JS backing is 8-aligned). Default 64 (a cache line). */
  alignmentBytes?: number;
  /** `false` forces the JS backing even when the addon is loaded (tests, comparisons). */
  native?: boolean;
}

/** Counters since the pool was made. Invariant: `inUse === acquired - released`. */
export interface BufferPoolStats {
  /** Slabs reserved. */
  slabs: number;
  /** Bytes in those slabs. */
  bytesReserved: number;
  /** Buffers acquired and not yet released, misses included. */
  inUse: number;
  acquired: number;
  released: number;
  /** Acquires served by a plain allocation: larger than `classBytesMax`, or the pool was full. */
  misses: number;
}

/** The largest single `acquire` the pool accepts, pooled or not. */
export const acquireBytesMax = 1 << 30;

interface Slab {
  readonly classIndex: number;
  readonly memory: ArrayBuffer;
  /** The view currently handed out for each slot; undefined when the slot is free. */
  readonly holders: (Uint8Array | undefined)[];
}

interface SizeClass {
  readonly slotBytes: number;
  /** Free slots as (slab index << slotShift) | slot, a stack; `freeCount` entries are valid. */
  free: Int32Array;
  freeCount: number;
  /** Slots in all slabs of this class; the free stack always has room for all of them. */
  slotsTotal: number;
}

export class BufferPool {
  /** 'native' when slab memory comes from the addon, 'js' otherwise. */
  readonly backing: 'native' | 'js';
  readonly slabBytes: number;
  readonly classBytesMin: number;
  readonly classBytesMax: number;
  readonly reservedBytesMax: number;

  readonly #alignmentBytes: number;
  readonly #allocateSlab: (bytes: number, alignmentBytes: number) => ArrayBuffer;
  readonly #classShiftMin: number;
  readonly #slotShift: number; // bits for the slot number in a free-list entry
  readonly #classes: SizeClass[] = [];
  readonly #slabs: Slab[] = [];
  readonly #slabByMemory = new Map<ArrayBuffer, number>();
  // Misses are plain buffers; remember them weakly so release() accepts them exactly once.
  readonly #missesHeld = new WeakSet<Uint8Array>();
  readonly #missesReleased = new WeakSet<Uint8Array>();
  #acquired = 0;
  #released = 0;
  #misses = 0;

  constructor(options: BufferPoolOptions = {}) {
    this.slabBytes = options.slabBytes ?? 256 * 1024;
    this.classBytesMin = options.classBytesMin ?? 64;
    this.classBytesMax = options.classBytesMax ?? 64 * 1024;
    this.reservedBytesMax = options.reservedBytesMax ?? 64 * 1024 * 1024;
    this.#alignmentBytes = options.alignmentBytes ?? 64;
    checkPowerOfTwo('classBytesMin', this.classBytesMin, 8, acquireBytesMax);
    checkPowerOfTwo('classBytesMax', this.classBytesMax, this.classBytesMin, acquireBytesMax);
    checkPowerOfTwo('slabBytes', this.slabBytes, this.classBytesMax, acquireBytesMax);
    checkPowerOfTwo('alignmentBytes', this.#alignmentBytes, 8, 65536);
    if (!Number.isSafeInteger(this.reservedBytesMax) || this.reservedBytesMax < 0) {
      throw new InvalidConfigError(`reservedBytesMax must be a non-negative integer, got ${this.reservedBytesMax}`);
    }

    const addon = options.native === false ? null : loadNative();
    this.backing = addon === null ? 'js' : 'native';
    this.#allocateSlab = addon === null ? (bytes) => new ArrayBuffer(bytes) : (bytes, align) => addon.allocateSlab(bytes, align);

    this.#classShiftMin = log2(this.classBytesMin);
    this.#slotShift = log2(this.slabBytes) - this.#classShiftMin;
    // Free-list entries are int32: slab index and slot must fit together.
    if (this.#slotShift > 24) {
      throw new InvalidConfigError(`slabBytes/classBytesMin must be at most 2^24 slots per slab, got 2^${this.#slotShift}; raise classBytesMin or lower slabBytes`);
    }
    for (let slotBytes = this.classBytesMin; slotBytes <= this.classBytesMax; slotBytes *= 2) {
      this.#classes.push({ slotBytes, free: new Int32Array(0), freeCount: 0, slotsTotal: 0 });
    }
  }

  /**
   * A buffer of exactly `size` bytes (0 ≤ size ≤ {@link acquireBytesMax}); hand it back with
   * {@link release}. Contents are unspecified.
   */
  acquire(size: number): Buffer {
    if (!Number.isInteger(size) || size < 0 || size > acquireBytesMax) {
      throw new BufferPoolError('NATIVE_ERR_POOL_INVALID_SIZE', `acquire(${size}): size must be an integer in [0, ${acquireBytesMax}]`);
    }
    if (size > this.classBytesMax) return this.#acquireMiss(size);
    const classIndex = size <= this.classBytesMin ? 0 : 32 - Math.clz32(size - 1) - this.#classShiftMin;
    const sizeClass = this.#classes[classIndex]!;
    if (sizeClass.freeCount === 0 && !this.#reserveSlab(classIndex)) return this.#acquireMiss(size);

    const entry = sizeClass.free[--sizeClass.freeCount]!;
    const slab = this.#slabs[entry >>> this.#slotShift]!;
    const slot = entry & ((1 << this.#slotShift) - 1);
    // Invariant: a slot on the free list has no holder. (An if, not assert(): no closure per call.)
    if (slab.holders[slot] !== undefined) throw new AssertionError(`free list handed out held slot ${slot} of class ${sizeClass.slotBytes}`);
    const view = Buffer.from(slab.memory, slot * sizeClass.slotBytes, size);
    slab.holders[slot] = view;
    this.#acquired++;
    return view;
  }

  /**
   * Returns `buf`, which must be the very object {@link acquire} returned and not yet released.
   * Throws {@link BufferPoolError} (`NATIVE_ERR_POOL_DOUBLE_RELEASE` or
   * `NATIVE_ERR_POOL_FOREIGN_BUFFER`) otherwise, and then changes nothing.
   */
  release(buf: Uint8Array): void {
    if (!(buf instanceof Uint8Array)) {
      throw new BufferPoolError('NATIVE_ERR_POOL_FOREIGN_BUFFER', `release: expected a Buffer/Uint8Array from this pool, got ${typeof buf}`);
    }
    const slabIndex = this.#slabByMemory.get(buf.buffer as ArrayBuffer);
    if (slabIndex === undefined) {
      this.#releaseMiss(buf);
      return;
    }
    const slab = this.#slabs[slabIndex]!;
    const sizeClass = this.#classes[slab.classIndex]!;
    const slot = Math.floor(buf.byteOffset / sizeClass.slotBytes);
    if (buf.byteOffset !== slot * sizeClass.slotBytes || buf.byteLength > sizeClass.slotBytes) {
      throw new BufferPoolError(
        'NATIVE_ERR_POOL_FOREIGN_BUFFER',
        `release: a view at offset ${buf.byteOffset} (${buf.byteLength} bytes) is not a buffer this pool handed out`,
      );
    }
    if (slab.holders[slot] !== buf) {
      // The slot is free (released already) or held by another view (this one is stale: released,
      // then the slot went to someone else; or it is a sub-view). Freeing it now would hand live
      // bytes to a third party, so refuse.
      throw new BufferPoolError(
        'NATIVE_ERR_POOL_DOUBLE_RELEASE',
        `release: slot ${slot} of the ${sizeClass.slotBytes}-byte class is ${slab.holders[slot] === undefined ? 'already free' : 'held by another view'} (released twice, a stale view, or a sub-view)`,
      );
    }
    slab.holders[slot] = undefined;
    sizeClass.free[sizeClass.freeCount++] = (slabIndex << this.#slotShift) | slot;
    this.#released++;
  }

  stats(): BufferPoolStats {
    const inUse = this.#acquired - this.#released;
    assert(inUse >= 0, () => `released ${this.#released} > acquired ${this.#acquired}`);
    return {
      slabs: this.#slabs.length,
      bytesReserved: this.#slabs.length * this.slabBytes,
      inUse,
      acquired: this.#acquired,
      released: this.#released,
      misses: this.#misses,
    };
  }

  #acquireMiss(size: number): Buffer {
    const buf = Buffer.allocUnsafeSlow(size);
    this.#missesHeld.add(buf);
    this.#acquired++;
    this.#misses++;
    return buf;
  }

  #releaseMiss(buf: Uint8Array): void {
    if (this.#missesHeld.delete(buf)) {
      this.#missesReleased.add(buf);
      this.#released++;
      return;
    }
    if (this.#missesReleased.has(buf)) {
      throw new BufferPoolError('NATIVE_ERR_POOL_DOUBLE_RELEASE', `release: this ${buf.byteLength}-byte buffer was released already`);
    }
    throw new BufferPoolError('NATIVE_ERR_POOL_FOREIGN_BUFFER', `release: this ${buf.byteLength}-byte buffer did not come from this pool`);
  }

  /** Adds one slab to `classIndex` and fills its free list; false when the pool is at its bound. */
  #reserveSlab(classIndex: number): boolean {
    const slabIndex = this.#slabs.length;
    if ((slabIndex + 1) * this.slabBytes > this.reservedBytesMax) return false;
    if (slabIndex >= 1 << (31 - this.#slotShift)) return false; // free-list entries stay int32
    const sizeClass = this.#classes[classIndex]!;
    const slotCount = this.slabBytes / sizeClass.slotBytes;
    const memory = this.#allocateSlab(this.slabBytes, this.#alignmentBytes);
    assert(memory.byteLength === this.slabBytes, () => `slab of ${memory.byteLength} bytes, asked ${this.slabBytes}`);
    this.#slabs.push({ classIndex, memory, holders: new Array<Uint8Array | undefined>(slotCount).fill(undefined) });
    this.#slabByMemory.set(memory, slabIndex);
    assert(sizeClass.freeCount === 0, () => `reserving a slab for class ${sizeClass.slotBytes} with ${sizeClass.freeCount} free`);
    sizeClass.slotsTotal += slotCount;
    if (sizeClass.free.length < sizeClass.slotsTotal) {
      // Empty stack (asserted above): nothing to copy. Doubling keeps growth amortised.
      sizeClass.free = new Int32Array(Math.max(sizeClass.slotsTotal, sizeClass.free.length * 2));
    }
    // Highest slot first so the stack hands out slot 0 first: neighbours stay warm in cache.
    for (let slot = slotCount - 1; slot >= 0; slot--) sizeClass.free[sizeClass.freeCount++] = (slabIndex << this.#slotShift) | slot;
    return true;
  }
}

function log2(powerOfTwo: number): number {
  return 31 - Math.clz32(powerOfTwo);
}

function checkPowerOfTwo(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max || (value & (value - 1)) !== 0) {
    throw new InvalidConfigError(`${name} must be a power of two in [${min}, ${max}], got ${value}`);
  }
}
