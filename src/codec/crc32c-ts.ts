/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78) in TypeScript, slice-by-8. This is the
 * reference every faster path (WASM, the native addon's SSE4.2 instruction) must agree with.
 *
 * @example
 * ```ts
 * crc32cTs(new TextEncoder().encode('123456789')) === 0xe3069283
 * ```
 */

const POLY = 0x82f63b78;

// Eight 256-entry tables: table k gives the CRC of a byte followed by k zero bytes.
const TABLES: Uint32Array = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c >>> 0;
    }
  }
  return t;
})();

/**
 * CRC32C of `data[start, end)`, continuing from `crc` (the value a previous call returned; 0 to
 * begin). Returns an unsigned 32-bit integer.
 */
export function crc32cTs(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
  const t = TABLES;
  let c = ~crc >>> 0;
  let i = start;
  // Slice-by-8 over the aligned middle; byte at a time for the rest.
  while (end - i >= 8) {
    const lo = (c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    c =
      t[7 * 256 + (lo & 0xff)]! ^
      t[6 * 256 + ((lo >>> 8) & 0xff)]! ^
      t[5 * 256 + ((lo >>> 16) & 0xff)]! ^
      t[4 * 256 + (lo >>> 24)]! ^
      t[3 * 256 + data[i + 4]!]! ^
      t[2 * 256 + data[i + 5]!]! ^
      t[1 * 256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
    i += 8;
  }
  while (i < end) c = t[(c ^ data[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
