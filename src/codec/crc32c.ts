/**
 * CRC32C (Castagnoli) for the codec and storage layers: one function that picks, by input size,
 * the fastest path that gives the reference answers.
 *
 * - Native addon (SSE4.2 crc32 instruction, or its portable kernel): fastest from about
 *   {@link crc32cNativeBytesMin} bytes up. Below that, the ~60-80 ns of an N-API call cost more
 *   than the checksum itself, so the TypeScript slice-by-8 wins (docs/native.md has the numbers).
 * - TypeScript reference (`crc32cTs`): always there; small inputs, and everything when the addon
 *   is missing or disabled with `RAFTWIRE_NATIVE=0`.
 *
 * The path is chosen on the first call, not at import, so the one "native addon not used" warning
 * appears only in processes that checksum something.
 *
 * @example
 * ```ts
 * crc32c(new TextEncoder().encode('123456789')) === 0xe3069283
 * const whole = crc32c(tail, crc32c(head)); // chaining: same as crc32c(head ++ tail)
 * ```
 */
import { crc32cTs } from './crc32c-ts.js';
import { loadNative } from './native.js';

/** Inputs at least this long go to the native addon when it is loaded (measured crossover). */
export const crc32cNativeBytesMin = 96;

/** Which kernel {@link crc32c} uses for large inputs. */
export type Crc32cImplementation = 'native-sse4.2' | 'native-software' | 'ts';

type Kernel = (data: Uint8Array, crc?: number, start?: number, end?: number) => number;

let nativeKernel: Kernel | null | undefined;

function chooseNative(): Kernel | null {
  const addon = loadNative();
  nativeKernel = addon === null ? null : addon.crc32c;
  return nativeKernel;
}

/**
 * CRC32C of `data[start, end)`, continuing from `crc` (the value a previous call returned; 0 to
 * begin). Returns an unsigned 32-bit integer, the same on every path.
 */
export function crc32c(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
  if (end - start >= crc32cNativeBytesMin) {
    const kernel = nativeKernel === undefined ? chooseNative() : nativeKernel;
    if (kernel !== null) {
      // Two arguments are measurably cheaper across N-API than four.
      return start === 0 && end === data.length ? kernel(data, crc) : kernel(data, crc, start, end);
    }
  }
  return crc32cTs(data, crc, start, end);
}

/** The kernel used for large inputs in this process (loads the addon if nobody has yet). */
export function crc32cImplementation(): Crc32cImplementation {
  const addon = loadNative();
  if (addon === null) return 'ts';
  return addon.hardwareCrc ? 'native-sse4.2' : 'native-software';
}
