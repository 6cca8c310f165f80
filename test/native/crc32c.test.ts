import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cImplementation, crc32cNativeBytesMin } from '../../src/codec/crc32c.js';
import { crc32cTs } from '../../src/codec/crc32c-ts.js';
import { loadNative, nativeStatus, type NativeAddon } from '../../src/codec/native.js';

// The addon is part of `npm install`; only an explicit RAFTWIRE_NATIVE=0 run may lack it.
const fallbackRequested = process.env.RAFTWIRE_NATIVE === '0';
const addon = loadNative();

function kernels(native: NativeAddon): [string, (data: Uint8Array, crc?: number, start?: number, end?: number) => number][] {
  return [
    ['crc32c (best kernel)', native.crc32c],
    ['crc32cSoftware', native.crc32cSoftware],
  ];
}

describe('native addon presence', () => {
  it.skipIf(fallbackRequested)('is built and loaded (npm install builds it)', () => {
    expect(addon).not.toBeNull();
    expect(crc32cImplementation()).toBe(addon!.hardwareCrc ? 'native-sse4.2' : 'native-software');
  });
});

describe.skipIf(addon === null)('native CRC32C', () => {
  // Collected even when skipped: a stand-in keeps it.each from touching a missing addon.
  const native = addon ?? ({} as NativeAddon);
  const check = new TextEncoder().encode('123456789');

  it.each(kernels(native))('%s gives the check value and the empty CRC', (_name, kernel) => {
    expect(kernel(check)).toBe(crc32cTs(check));
    expect(kernel(check)).toBe(0xe3069283);
    expect(kernel(new Uint8Array(0))).toBe(0);
    expect(kernel(new Uint8Array(0), 0x12345678)).toBe(0x12345678);
  });

  it.each(kernels(native))('%s equals the TS reference on random data, chained and ranged', (_name, kernel) => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 3000 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 0xffffffff }),
        (data, a, b, seed) => {
          const split = data.length === 0 ? 0 : a % (data.length + 1);
          const stop = split + (data.length === 0 ? 0 : b % (data.length - split + 1));
          expect(kernel(data)).toBe(crc32cTs(data));
          expect(kernel(data, seed)).toBe(crc32cTs(data, seed));
          // Chaining: CRC of the whole equals the CRC of the tail continued from the head's.
          expect(kernel(data, kernel(data, 0, 0, split), split)).toBe(crc32cTs(data));
          expect(kernel(data, seed, split, stop)).toBe(crc32cTs(data, seed, split, stop));
          expect(kernel(data.subarray(split, stop), seed)).toBe(crc32cTs(data, seed, split, stop));
        },
      ),
      // Shrinking kilobyte arrays takes minutes; the failing input is printed as it is.
      { numRuns: 300, endOnFailure: true },
    );
  });

  it.each(kernels(native))('%s equals the TS reference past the 3-way parallel threshold (3 KiB)', (_name, kernel) => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 3000, maxLength: 20_000 }), fc.nat(), fc.nat(7), (data, a, offset) => {
        const view = data.subarray(Math.min(offset, data.length));
        const split = a % (view.length + 1);
        expect(kernel(view)).toBe(crc32cTs(view));
        expect(kernel(view, kernel(view, 0, 0, split), split)).toBe(crc32cTs(view));
      }),
      { numRuns: 60, endOnFailure: true },
    );
  });

  it.each(kernels(native))('%s handles every start alignment and large inputs', (_name, kernel) => {
    const big = new Uint8Array(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    for (let offset = 0; offset < 16; offset++) {
      for (const length of [0, 1, 7, 8, 9, 31, 32, 33, 255, 4097]) {
        const view = big.subarray(offset, offset + length);
        expect(kernel(view)).toBe(crc32cTs(view));
      }
    }
    expect(kernel(big)).toBe(crc32cTs(big));
    const half = big.length / 2 + 3;
    expect(kernel(big, kernel(big.subarray(0, half)), half)).toBe(crc32cTs(big));
  });

  it('loads in worker threads (one copy per thread, shared tables) and agrees there', async () => {
    const path = nativeStatus().path!;
    const data = new Uint8Array(10_000).map((_, i) => (i * 131) & 0xff);
    const script = `const { parentPort, workerData } = require('node:worker_threads');
      parentPort.postMessage(require(workerData.path).crc32c(workerData.data));`;
    const workers = Array.from({ length: 3 }, () => new Worker(script, { eval: true, workerData: { path, data } }));
    try {
      const results = await Promise.all(
        workers.map((w) => new Promise<number>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })),
      );
      expect(results).toEqual(workers.map(() => crc32cTs(data)));
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });

  it('rejects bad arguments with coded errors and keeps working', () => {
    const data = new Uint8Array(16);
    const call = (...args: unknown[]) => (native.crc32c as (...a: unknown[]) => number)(...args);
    expect(() => call('123')).toThrow(expect.objectContaining({ code: 'NATIVE_ERR_ARGUMENT' }));
    expect(() => call(new Uint16Array(4))).toThrow(expect.objectContaining({ code: 'NATIVE_ERR_ARGUMENT' }));
    expect(() => call(data, 'x')).toThrow(expect.objectContaining({ code: 'NATIVE_ERR_ARGUMENT' }));
    expect(() => call(data, 0, 0, 17)).toThrow(expect.objectContaining({ code: 'NATIVE_ERR_RANGE' }));
    expect(() => call(data, 0, 9, 8)).toThrow(expect.objectContaining({ code: 'NATIVE_ERR_RANGE' }));
    expect(() => call(data, 0, -1)).toThrow(expect.objectContaining({ code: 'NATIVE_ERR_RANGE' }));
    expect(() => call(data, 0, 1.5)).toThrow(expect.objectContaining({ code: 'NATIVE_ERR_RANGE' }));
    expect(call(data)).toBe(crc32cTs(data));
    // Buffer is a Uint8Array; Uint8ClampedArray holds bytes too.
    expect(call(Buffer.from(check))).toBe(0xe3069283);
    expect(call(new Uint8ClampedArray(check))).toBe(0xe3069283);
  });
});

describe('crc32c (the dispatching entry point)', () => {
  it('treats a range outside the data as a bug on every size, small or large', () => {
    for (const data of [new Uint8Array(10), new Uint8Array(1000)]) {
      for (const [start, end] of [[-1, 5], [6, 5], [0, data.length + 1]] as const) {
        expect(() => crc32c(data, 0, start, end)).toThrow(expect.objectContaining({ code: 'RAFT_ERR_ASSERTION' }));
      }
    }
  });

  it('equals the TS reference on both sides of the native threshold', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: crc32cNativeBytesMin * 4 }),
        fc.nat(),
        fc.integer({ min: 0, max: 0xffffffff }),
        (data, a, seed) => {
          const split = a % (data.length + 1);
          expect(crc32c(data, seed)).toBe(crc32cTs(data, seed));
          expect(crc32c(data, seed, split)).toBe(crc32cTs(data, seed, split));
          expect(crc32c(data, crc32c(data, 0, 0, split), split)).toBe(crc32cTs(data));
        },
      ),
      { numRuns: 500 },
    );
  });
});
