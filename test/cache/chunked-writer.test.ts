import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../src/cache/bytes.js';
import { ChunkedWriter } from '../../src/cache/chunked-writer.js';
import { CacheStateMachine, encodeCacheCommand } from '../../src/cache/index.js';
import { crc32c } from '../../src/codec/crc32c.js';

type Field = { kind: 'u8'; value: number } | { kind: 'u32'; value: number } | { kind: 'f64'; value: number } | { kind: 'bytes' | 'raw'; value: Uint8Array } | { kind: 'string'; value: string };

const field: fc.Arbitrary<Field> = fc.oneof(
  fc.record({ kind: fc.constant('u8' as const), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('u32' as const), value: fc.nat() }),
  fc.record({ kind: fc.constant('f64' as const), value: fc.double({ noNaN: true }) }),
  fc.record({ kind: fc.constantFrom('bytes' as const, 'raw' as const), value: fc.uint8Array({ maxLength: 200 }) }),
  fc.record({ kind: fc.constant('string' as const), value: fc.string({ maxLength: 40, unit: 'binary' }) }),
);

function write(w: ByteWriter | ChunkedWriter, f: Field): void {
  switch (f.kind) {
    case 'u8':
      return w.u8(f.value);
    case 'u32':
      return w.u32(f.value);
    case 'f64':
      return w.f64(f.value);
    case 'bytes':
      return w.bytes(f.value);
    case 'raw':
      // ByteWriter has no raw(): the same bytes, one at a time.
      if (w instanceof ChunkedWriter) return w.raw(f.value);
      for (const byte of f.value) w.u8(byte);
      return;
    case 'string':
      return w.string(f.value);
  }
}

describe('ChunkedWriter', () => {
  it('assembles prefix + what ByteWriter writes + its CRC32C, whatever the chunk size (property)', () => {
    fc.assert(
      fc.property(fc.array(field, { maxLength: 200 }), fc.integer({ min: 1, max: 256 }), fc.uint8Array({ maxLength: 30 }), (fields, chunkBytes, prefix) => {
        const plain = new ByteWriter(1);
        const chunked = new ChunkedWriter(chunkBytes);
        for (const f of fields) {
          write(plain, f);
          write(chunked, f);
        }
        const body = plain.finish();
        expect(chunked.length).toBe(body.length);
        const assembly = chunked.assemble(prefix);
        let steps = 0;
        let step = assembly.next();
        for (; !step.done; step = assembly.next()) steps++;
        const want = new Uint8Array(prefix.length + body.length + 4);
        want.set(prefix);
        want.set(body, prefix.length);
        new DataView(want.buffer).setUint32(prefix.length + body.length, crc32c(body), true);
        expect(Buffer.from(step.value).equals(Buffer.from(want))).toBe(true);
        // About one chunk per step: a long body is never copied in one go.
        expect(steps).toBeGreaterThanOrEqual(Math.floor(body.length / Math.max(chunkBytes, 204)) - 1);
      }),
      { numRuns: 300 },
    );
  });
});

describe('CacheStateMachine.captureSnapshot with a prefix', () => {
  it('returns the prefix followed by exactly what snapshot() returns', () => {
    const cache = new CacheStateMachine();
    for (let i = 1; i <= 3_000; i++) {
      const value = new Uint8Array(1 + (i % 700)).fill(i & 255);
      cache.apply(i, encodeCacheCommand({ op: 'set', key: `key-${i % 2_500}`, value }, { nowMs: i, clientId: `c${i % 3}`, sequence: i }));
    }
    const prefix = new Uint8Array([9, 8, 7, 6, 5]);
    const serializer = cache.captureSnapshot({ prefix, sliceItems: 100 });
    let steps = 0;
    let step = serializer.next();
    for (; !step.done; step = serializer.next()) steps++;
    const image = cache.snapshot();
    expect(Buffer.from(step.value.subarray(0, prefix.length)).equals(Buffer.from(prefix))).toBe(true);
    expect(Buffer.from(step.value.subarray(prefix.length)).equals(Buffer.from(image))).toBe(true);
    expect(steps).toBeGreaterThanOrEqual(25); // 2,500 keys in slices of 100, then the assembly
    // The capture is closed once done: a new one can start.
    expect(cache.captureSnapshot()).toBeDefined();
  });
});
