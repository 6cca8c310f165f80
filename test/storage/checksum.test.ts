// The storage checksum is CRC32C (the TypeScript reference kernel; see src/storage/checksum.ts).
import { describe, expect, it } from 'vitest';
import { checksum } from '../../src/storage/checksum.js';
import { payload } from './helpers.js';

describe('storage checksum', () => {
  it('is CRC32C: the check value and chaining', () => {
    expect(checksum(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    const data = payload(3, 9, 10_000);
    expect(checksum(data.subarray(4000), checksum(data.subarray(0, 4000)))).toBe(checksum(data));
  });
});
