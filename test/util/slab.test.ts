// Slab: ranges carved back to back never overlap and are never written again by later carves;
// copies hold the bytes they were given after the source changes; large requests get their own memory.
import { describe, expect, it } from 'vitest';
import { Slab } from '../../src/util/slab.js';

describe('Slab', () => {
  it('carves 8-byte aligned ranges that later carves never overwrite, across slabs', () => {
    const slab = new Slab(1024);
    const ranges: Uint8Array[] = [];
    for (let i = 0; i < 100; i++) {
      const range = slab.alloc(1 + (i % 200));
      range.fill(i & 0xff);
      ranges.push(range);
    }
    for (const [i, range] of ranges.entries()) {
      expect(range.byteOffset % 8).toBe(0);
      expect(range.every((b) => b === (i & 0xff))).toBe(true);
    }
    // Ranges in one slab do not overlap; a full slab is replaced, not reused.
    expect(new Set(ranges.map((r) => r.buffer)).size).toBeGreaterThan(1);
    const byBuffer = new Map<ArrayBufferLike, Uint8Array[]>();
    for (const r of ranges) byBuffer.set(r.buffer, [...(byBuffer.get(r.buffer) ?? []), r]);
    for (const list of byBuffer.values()) {
      const sorted = [...list].sort((a, b) => a.byteOffset - b.byteOffset);
      for (let k = 1; k < sorted.length; k++) expect(sorted[k]!.byteOffset).toBeGreaterThanOrEqual(sorted[k - 1]!.byteOffset + sorted[k - 1]!.length);
    }
  });

  it('with align 1, packs ranges back to back: consecutive ranges form one contiguous range', () => {
    const slab = new Slab(1024, 256, 1);
    const a = slab.alloc(5);
    const b = slab.alloc(3);
    const c = slab.alloc(7);
    expect(b.buffer).toBe(a.buffer);
    expect([b.byteOffset, c.byteOffset]).toEqual([a.byteOffset + 5, a.byteOffset + 8]);
  });

  it('copies a range that outlives changes to its source', () => {
    const slab = new Slab(4096);
    const source = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const copy = slab.copy(source, 1, 4);
    const whole = slab.copy(source);
    source.fill(0);
    expect([...copy]).toEqual([2, 3, 4]);
    expect([...whole]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('gives requests over carveBytesMax memory of their own', () => {
    const slab = new Slab(4096);
    expect(slab.carveBytesMax).toBe(1024);
    const small = slab.alloc(1024);
    const large = slab.alloc(1025);
    expect(small.buffer.byteLength).toBe(4096);
    expect(large.buffer.byteLength).toBe(1025);
    expect(large.byteOffset).toBe(0);
  });
});
