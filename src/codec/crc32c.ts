/**
 * CRC32C (Castagnoli) for the codec and storage layers: one function that picks, by input size,
 * the fastest path that gives the reference answers.
 *
 * - Native addon (SSE4.2 crc32 instruction, three parallel chains; or its portable kernel):
 *   fastest from about {@link crc32cNativeBytesMin} bytes up. Below that the ~60-80 ns of an N-API
 *   call cost more than the checksum itself, so the TypeScript slice-by-8 wins.
 * - WASM (`loadWasmCodec().crc32c`, slice-by-8 in AssemblyScript): only when the addon is missing
 *   or disabled, from {@link crc32cWasmBytesMin} bytes up (it copies the input into WASM memory
 *   first, which small inputs do not repay).
 * - TypeScript reference (`crc32cTs`): small inputs, and everything when neither is there.
 *
 * docs/native.md has the measurements behind the thresholds. The path is chosen on the first
 * large call, not at import, so the one "native addon not used" warning appears only in processes
 * that checksum something. `RAFTWIRE_NATIVE=0` / `RAFTWIRE_WASM=0` switch the faster paths off.
 *
 * @example
 * ```ts
 * crc32c(new TextEncoder().encode('123456789')) === 0xe3069283
 * const whole = crc32c(tail, crc32c(head)); // chaining: same as crc32c(head ++ tail)
 * ```
 */
import { assert } from '../core/errors.js';
import { crc32cTs } from './crc32c-ts.js';
import { loadNative } from './native.js';
import { loadWasmCodec } from './wasm.js';

/** Inputs at least this long go to the native addon when it is loaded (measured crossover). */
export const crc32cNativeBytesMin = 96;
/** Without the addon, inputs at least this long go to the WASM kernel (measured crossover). */
export const crc32cWasmBytesMin = 256;

/** Which kernel {@link crc32c} uses for large inputs. */
export type Crc32cImplementation = 'native-sse4.2' | 'native-software' | 'wasm' | 'ts';

type Kernel = (data: Uint8Array, crc?: number, start?: number, end?: number) => number;

interface LargePath {
  readonly implementation: Crc32cImplementation;
  readonly kernel: Kernel | null;
  /** Inputs shorter than this stay on the TS reference. */
  readonly bytesMin: number;
}

// Until the first large call nothing is chosen; the threshold below is the smallest of the two.
let large: LargePath | undefined;

function chooseLargePath(): LargePath {
  const addon = loadNative();
  if (addon !== null) {
    large = {
      implementation: addon.hardwareCrc ? 'native-sse4.2' : 'native-software',
      kernel: addon.crc32c,
      bytesMin: crc32cNativeBytesMin,
    };
    return large;
  }
  const wasm = loadWasmCodec();
  large =
    wasm === null
      ? { implementation: 'ts', kernel: null, bytesMin: Number.POSITIVE_INFINITY }
      : { implementation: 'wasm', kernel: (data, crc, start, end) => wasm.crc32c(data, crc, start, end), bytesMin: crc32cWasmBytesMin };
  return large;
}

/**
 * CRC32C of `data[start, end)`, continuing from `crc` (the value a previous call returned; 0 to
 * begin). Returns an unsigned 32-bit integer, the same on every path. A range outside `data` is
 * a bug in the caller and throws an `AssertionError` (`RAFT_ERR_ASSERTION`).
 */
export function crc32c(data: Uint8Array, crc = 0, start = 0, end = data.length): number {
  // Every path must give the same answer, and the TS one would read past the range silently.
  // Callers hold validated lengths, so a bad range is a bug: assert (constant message, no garbage).
  assert(start >= 0 && start <= end && end <= data.length, 'crc32c: need 0 <= start <= end <= data.length');
  const length = end - start;
  if (length >= crc32cNativeBytesMin) {
    const path = large ?? chooseLargePath();
    if (path.kernel !== null && length >= path.bytesMin) {
      // Two arguments are measurably cheaper across N-API than four.
      return start === 0 && end === data.length ? path.kernel(data, crc) : path.kernel(data, crc, start, end);
    }
  }
  return crc32cTs(data, crc, start, end);
}

/** The kernel used for large inputs in this process (loads the addon if nobody has yet). */
export function crc32cImplementation(): Crc32cImplementation {
  return (large ?? chooseLargePath()).implementation;
}
