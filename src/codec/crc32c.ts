/**
 * CRC32C entry point for the codec and storage layers. For now it delegates to the TypeScript
 * reference; it will pick the fastest correct path (native SSE4.2, WASM, TS) per input size.
 *
 * @example
 * ```ts
 * crc32c(new TextEncoder().encode('123456789')) === 0xe3069283
 * ```
 */
import { crc32cTs } from './crc32c-ts.js';

/** CRC32C of `data[start, end)`, continuing from `crc` (0 to begin). Unsigned 32-bit result. */
export function crc32c(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
  return crc32cTs(data, crc, start, end);
}
