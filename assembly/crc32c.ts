// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), slice-by-16 then slice-by-8, for the WASM codec and for
// raftwire's CRC dispatcher (src/codec/crc32c.ts). Same answers as src/codec/crc32c-ts.ts.

const POLY: u32 = 0x82f63b78;

// Sixteen 256-entry tables: table k gives the CRC of a byte followed by k zero bytes.
const TABLES: usize = memory.data(16 * 256 * 4, 16);

function initTables(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    store<u32>(TABLES + (<usize>n << 2), c);
  }
  for (let n: u32 = 0; n < 256; n++) {
    let c = load<u32>(TABLES + (<usize>n << 2));
    for (let k: u32 = 1; k < 16; k++) {
      c = load<u32>(TABLES + (<usize>(c & 0xff) << 2)) ^ (c >>> 8);
      store<u32>(TABLES + ((<usize>(k * 256 + n)) << 2), c);
    }
  }
}
initTables();

// @ts-ignore: decorator
@inline function t(k: u32, b: u32): u32 {
  return load<u32>(TABLES + ((<usize>((k << 8) | b)) << 2));
}

/** CRC32C of memory [ptr, ptr+len), continuing from `crc` (0 to begin). */
export function crc32cUpdate(crc: u32, ptr: usize, len: usize): u32 {
  let c = ~crc;
  let p = ptr;
  const end = ptr + len;
  // Slice-by-16: four independent loads and sixteen table lookups per step.
  while (end - p >= 16) {
    const w0 = c ^ load<u32>(p);
    const w1 = load<u32>(p, 4);
    const w2 = load<u32>(p, 8);
    const w3 = load<u32>(p, 12);
    c = t(15, w0 & 0xff) ^ t(14, (w0 >>> 8) & 0xff) ^ t(13, (w0 >>> 16) & 0xff) ^ t(12, w0 >>> 24) ^
      t(11, w1 & 0xff) ^ t(10, (w1 >>> 8) & 0xff) ^ t(9, (w1 >>> 16) & 0xff) ^ t(8, w1 >>> 24) ^
      t(7, w2 & 0xff) ^ t(6, (w2 >>> 8) & 0xff) ^ t(5, (w2 >>> 16) & 0xff) ^ t(4, w2 >>> 24) ^
      t(3, w3 & 0xff) ^ t(2, (w3 >>> 8) & 0xff) ^ t(1, (w3 >>> 16) & 0xff) ^ t(0, w3 >>> 24);
    p += 16;
  }
  while (end - p >= 8) {
    const lo = c ^ load<u32>(p);
    const hi = load<u32>(p, 4);
    c = t(7, lo & 0xff) ^ t(6, (lo >>> 8) & 0xff) ^ t(5, (lo >>> 16) & 0xff) ^ t(4, lo >>> 24) ^
      t(3, hi & 0xff) ^ t(2, (hi >>> 8) & 0xff) ^ t(1, (hi >>> 16) & 0xff) ^ t(0, hi >>> 24);
    p += 8;
  }
  while (p < end) {
    c = t(0, (c ^ <u32>load<u8>(p)) & 0xff) ^ (c >>> 8);
    p++;
  }
  return ~c;
}
