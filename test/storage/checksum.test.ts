// The storage checksum is CRC32C whichever kernel computes it: known answers, chaining, and
// agreement with the TypeScript reference on inputs that take every kernel path (the native
// three-stream path starts at 3 KiB; its 1 KiB blocks must differ for a wrong fold to show).
import { describe, expect, it } from 'vitest';
import { crc32cTs } from '../../src/codec/crc32c-ts.js';
import { checksum } from '../../src/storage/checksum.js';
import { payload } from './helpers.js';

describe('storage checksum', () => {
  it('is CRC32C: the check value and chaining', () => {
    expect(checksum(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    const data = payload(3, 9, 10_000);
    expect(checksum(data.subarray(4000), checksum(data.subarray(0, 4000)))).toBe(checksum(data));
  });

  it('agrees with the TypeScript reference on every length class, offset and seed', () => {
    for (const length of [0, 1, 95, 96, 1000, 3071, 3072, 3073, 10_000, 25_000, 70_001]) {
      const data = payload(length, 7, length);
      expect(checksum(data)).toBe(crc32cTs(data));
      if (length > 8) expect(checksum(data, 0xdeadbeef, 3, length - 2)).toBe(crc32cTs(data, 0xdeadbeef, 3, length - 2));
    }
  });
});
