import { describe, expect, it } from 'vitest';
import { BufferPool, BufferPoolError, acquireBytesMax, type BufferPoolOptions } from '../../src/codec/buffer-pool.js';
import { loadNative } from '../../src/codec/native.js';
import { isRaftwireError } from '../../src/core/errors.js';
import { Prng } from '../../src/util/prng.js';

const backings: ('native' | 'js')[] = loadNative() === null ? ['js'] : ['native', 'js'];

// Small slabs so a test crosses slab and class boundaries with few buffers.
const small: BufferPoolOptions = { slabBytes: 4096, classBytesMin: 16, classBytesMax: 1024, reservedBytesMax: 1 << 20 };

function makePool(backing: 'native' | 'js', options: BufferPoolOptions = small): BufferPool {
  const pool = new BufferPool({ ...options, native: backing === 'native' });
  expect(pool.backing).toBe(backing);
  return pool;
}

function fill(buf: Uint8Array, tag: number): void {
  for (let i = 0; i < buf.length; i++) buf[i] = (tag * 31 + i * 7) & 0xff;
}

function intact(buf: Uint8Array, tag: number): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== ((tag * 31 + i * 7) & 0xff)) return false;
  return true;
}

function poolError(fn: () => void): BufferPoolError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BufferPoolError);
    expect(isRaftwireError(error)).toBe(true);
    return error as BufferPoolError;
  }
  throw new Error('expected a BufferPoolError');
}

describe.each(backings)('BufferPool (%s slabs)', (backing) => {
  it('hands out buffers of exactly the size asked, and reuses a released slot', () => {
    const pool = makePool(backing);
    const a = pool.acquire(100);
    expect(Buffer.isBuffer(a)).toBe(true);
    expect(a.length).toBe(100);
    const offset = a.byteOffset;
    const memory = a.buffer;
    pool.release(a);
    const b = pool.acquire(120); // same 128-byte class
    expect(b.length).toBe(120);
    expect(b.buffer).toBe(memory);
    expect(b.byteOffset).toBe(offset);
    expect(b).not.toBe(a); // a fresh view: the old one stays invalid
    expect(pool.stats()).toEqual({ slabs: 1, bytesReserved: 4096, inUse: 1, acquired: 2, released: 1, misses: 0 });
    expect(pool.acquire(0).length).toBe(0);
  });

  it('never lets two held buffers overlap, across classes, slabs and reuse', () => {
    const rand = new Prng(0x5eed);
    const pool = makePool(backing);
    const held: { buf: Buffer; tag: number }[] = [];
    let tag = 0;
    for (let round = 0; round < 2000; round++) {
      if (held.length > 0 && rand.chance(0.45)) {
        const victim = held.splice(rand.int(held.length), 1)[0]!;
        expect(intact(victim.buf, victim.tag)).toBe(true);
        pool.release(victim.buf);
      } else {
        const buf = pool.acquire(rand.between(0, 1024));
        fill(buf, ++tag);
        held.push({ buf, tag });
      }
      if (round % 100 === 0) for (const h of held) expect(intact(h.buf, h.tag)).toBe(true);
    }
    for (const h of held) expect(intact(h.buf, h.tag)).toBe(true);
    const stats = pool.stats();
    expect(stats.inUse).toBe(held.length);
    expect(stats.acquired - stats.released).toBe(held.length);
    expect(stats.misses).toBe(0);
    for (const h of held) pool.release(h.buf);
    expect(pool.stats().inUse).toBe(0);
  });

  it('reuses its slabs instead of growing when every buffer comes back', () => {
    const pool = makePool(backing);
    const perSlab = 4096 / 64;
    for (let cycle = 0; cycle < 3; cycle++) {
      const bufs = Array.from({ length: perSlab * 3 }, () => pool.acquire(64));
      expect(new Set(bufs.map((b) => `${slabId(b)}:${b.byteOffset}`)).size).toBe(bufs.length);
      for (const b of bufs) pool.release(b);
    }
    expect(pool.stats()).toMatchObject({ slabs: 3, bytesReserved: 3 * 4096, inUse: 0, misses: 0 });
  });

  it('rejects a double release with a typed error and changes nothing', () => {
    const pool = makePool(backing);
    const a = pool.acquire(50);
    pool.release(a);
    const before = pool.stats();
    expect(poolError(() => pool.release(a)).code).toBe('NATIVE_ERR_POOL_DOUBLE_RELEASE');
    expect(pool.stats()).toEqual(before);
    // A stale view of a slot that went to someone else must not free their buffer.
    const b = pool.acquire(50);
    expect(b.byteOffset).toBe(a.byteOffset);
    fill(b, 9);
    expect(poolError(() => pool.release(a)).code).toBe('NATIVE_ERR_POOL_DOUBLE_RELEASE');
    const c = pool.acquire(50);
    expect(c.byteOffset).not.toBe(b.byteOffset);
    fill(c, 10);
    expect(intact(b, 9)).toBe(true);
    pool.release(b);
    pool.release(c);
    expect(pool.stats().inUse).toBe(0);
  });

  it('rejects buffers it did not hand out with a typed error and keeps serving', () => {
    const pool = makePool(backing);
    const held = pool.acquire(200);
    const before = pool.stats();
    const foreign = [Buffer.alloc(64), Buffer.from('abc'), new Uint8Array(16), held.subarray(8, 16)];
    for (const buf of foreign) expect(poolError(() => pool.release(buf)).code).toBe('NATIVE_ERR_POOL_FOREIGN_BUFFER');
    for (const junk of [null, undefined, 'abc', 42, { buffer: held.buffer, byteOffset: 0, byteLength: 200 }]) {
      expect(poolError(() => pool.release(junk as unknown as Uint8Array)).code).toBe('NATIVE_ERR_POOL_FOREIGN_BUFFER');
    }
    // A sub-view at the slot start looks like the slot but is not the view handed out.
    expect(poolError(() => pool.release(held.subarray(0, 10))).code).toBe('NATIVE_ERR_POOL_DOUBLE_RELEASE');
    // Another pool's buffer is foreign here.
    const other = makePool(backing);
    expect(poolError(() => pool.release(other.acquire(200))).code).toBe('NATIVE_ERR_POOL_FOREIGN_BUFFER');
    expect(pool.stats()).toEqual(before);
    pool.release(held);
    expect(pool.stats().inUse).toBe(0);
  });

  it('serves sizes above the largest class with plain buffers, counted as misses', () => {
    const pool = makePool(backing);
    const big = pool.acquire(1025);
    expect(big.length).toBe(1025);
    fill(big, 3);
    expect(pool.stats()).toMatchObject({ slabs: 0, inUse: 1, misses: 1 });
    pool.release(big);
    expect(pool.stats()).toMatchObject({ inUse: 0, acquired: 1, released: 1, misses: 1 });
    expect(poolError(() => pool.release(big)).code).toBe('NATIVE_ERR_POOL_DOUBLE_RELEASE');
  });

  it('falls back to plain buffers (misses) at reservedBytesMax instead of growing past it', () => {
    const pool = makePool(backing, { ...small, reservedBytesMax: 4096 });
    const bufs = Array.from({ length: 4096 / 1024 }, () => pool.acquire(1024));
    expect(pool.stats()).toMatchObject({ slabs: 1, misses: 0 });
    const extra = pool.acquire(1024);
    const otherClass = pool.acquire(16);
    expect(pool.stats()).toMatchObject({ slabs: 1, misses: 2, inUse: 6 });
    for (const b of [...bufs, extra, otherClass]) pool.release(b);
    expect(pool.stats().inUse).toBe(0);
  });

  it('rejects bad sizes and bad options with typed errors', () => {
    const pool = makePool(backing);
    for (const size of [-1, 1.5, Number.NaN, acquireBytesMax + 1]) {
      expect(poolError(() => pool.acquire(size)).code).toBe('NATIVE_ERR_POOL_INVALID_SIZE');
    }
    expect(pool.stats().acquired).toBe(0);
    const bad: BufferPoolOptions[] = [
      { classBytesMin: 24 },
      { classBytesMin: 4 },
      { classBytesMax: 32, classBytesMin: 64 },
      { slabBytes: 1024, classBytesMax: 2048 },
      { reservedBytesMax: -1 },
      { alignmentBytes: 48 },
      { slabBytes: 1 << 30, classBytesMin: 8, classBytesMax: 1024 },
    ];
    for (const options of bad) {
      expect(() => new BufferPool({ ...options, native: backing === 'native' })).toThrow(
        expect.objectContaining({ code: 'RAFT_ERR_INVALID_CONFIG' }),
      );
    }
  });
});

// Distinguishes slabs by identity so the uniqueness check above covers offsets in different slabs.
const slabIds = new Map<ArrayBufferLike, number>();
function slabId(buf: Uint8Array): number {
  let id = slabIds.get(buf.buffer);
  if (id === undefined) {
    id = slabIds.size;
    slabIds.set(buf.buffer, id);
  }
  return id;
}
