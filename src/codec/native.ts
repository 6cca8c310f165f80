/**
 * Loads the optional native addon (`build/Release/raftwire_native.node`, built from `native/` by
 * `npm install` or `npm run build:native`). Every user of the addon goes through
 * {@link loadNative} and has a WASM/TypeScript path for when it returns null: a machine without a
 * compiler still runs raftwire, and is told so exactly once.
 *
 * - `RAFTWIRE_NATIVE=0` forces the fallbacks (the warning still says why, once).
 * - `RAFTWIRE_NATIVE_PATH=/abs/file.node` loads the addon from another place.
 *
 * @example
 * ```ts
 * const crc = loadNative()?.crc32c(bytes) ?? crc32cTs(bytes);
 * ```
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { crc32cTs } from './crc32c-ts.js';

/** The addon's JS surface. Its `abiVersion` must equal {@link nativeAbiVersion}. */
export interface NativeAddon {
  /**
   * CRC32C of `data[start, end)` continuing from `crc` (0 to begin), with the SSE4.2 instruction
   * when the CPU has it. Same answers as `crc32cTs`. Throws a RangeError/TypeError whose `code` is
   * `NATIVE_ERR_RANGE`/`NATIVE_ERR_ARGUMENT` on bad arguments.
   */
  crc32c(data: Uint8Array, crc?: number, start?: number, end?: number): number;
  /** The portable table-driven kernel, exposed so tests check it on x86 machines too. */
  crc32cSoftware(data: Uint8Array, crc?: number, start?: number, end?: number): number;
  /** Zeroed memory outside V8's heap, aligned to `alignmentBytes` (power of two, default 64). */
  allocateSlab(bytes: number, alignmentBytes?: number): ArrayBuffer;
  /** True when `crc32c` runs on the crc32 instruction. */
  readonly hardwareCrc: boolean;
  readonly abiVersion: number;
}

/** The addon build this code was written against (native/addon.cc `kAbiVersion`). */
export const nativeAbiVersion = 1;

/** Code of the one warning emitted when the addon is not used. */
export const nativeWarningCode = 'RAFTWIRE_NATIVE_UNAVAILABLE';

const addonFileName = 'raftwire_native.node';
// From src/codec/ (tsx, vitest) the package root is two levels up; from dist/src/codec/, three.
const addonCandidates = [`../../build/Release/${addonFileName}`, `../../../build/Release/${addonFileName}`];

let loaded: { addon: NativeAddon | null; reason: string | null; path: string | null } | undefined;

/**
 * The native addon, or null when it is disabled, missing or broken. The first call decides and
 * caches the answer; when it is null, that call emits one process warning (code
 * {@link nativeWarningCode}) saying why, and later calls stay silent.
 */
export function loadNative(): NativeAddon | null {
  if (loaded === undefined) {
    loaded = tryLoad();
    if (loaded.addon === null) {
      process.emitWarning(
        `raftwire: native addon not used (${loaded.reason}); raftwire will use its WASM/TypeScript paths`,
        { code: nativeWarningCode, type: 'RaftwireWarning' },
      );
    }
  }
  return loaded.addon;
}

/** Why the addon is or is not in use, for logs and `/health`. Loads it if nobody has yet. */
export function nativeStatus(): { loaded: boolean; reason: string | null; path: string | null } {
  loadNative();
  const state = loaded!;
  return { loaded: state.addon !== null, reason: state.reason, path: state.path };
}

function findAddon(): string | null {
  const override = process.env.RAFTWIRE_NATIVE_PATH;
  if (override !== undefined && override !== '') return override;
  for (const candidate of addonCandidates) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  return null;
}

function tryLoad(): { addon: NativeAddon | null; reason: string | null; path: string | null } {
  if (process.env.RAFTWIRE_NATIVE === '0') return { addon: null, reason: 'disabled by RAFTWIRE_NATIVE=0', path: null };
  const path = findAddon();
  if (path === null) {
    return { addon: null, reason: `${addonFileName} not built; run \`npm run build:native\``, path: null };
  }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (error) {
    return { addon: null, reason: `${path} failed to load: ${describe(error)}`, path };
  }
  if (addon === null || typeof addon !== 'object' || addon.abiVersion !== nativeAbiVersion) {
    return {
      addon: null,
      reason: `${path} has ABI version ${String((addon as { abiVersion?: unknown } | null)?.abiVersion)}, expected ${nativeAbiVersion}; rebuild it`,
      path,
    };
  }
  // A miscompiled kernel must never checksum the log: check the definition's check value, and a
  // 10 KiB input (past the 3-way parallel threshold, odd start) against the TS reference.
  const check = addon.crc32c(new TextEncoder().encode('123456789'));
  const sample = selfTestSample();
  const expected = crc32cTs(sample, 0, 3);
  const got = addon.crc32c(sample, 0, 3, sample.length);
  if (check !== 0xe3069283 || got !== expected) {
    return { addon: null, reason: `${path} fails its CRC32C self-test (${check}, ${got} != ${expected})`, path };
  }
  return { addon, reason: null, path };
}

function selfTestSample(): Uint8Array {
  const sample = new Uint8Array(10 * 1024 + 3);
  let x = 0x9e3779b9;
  for (let i = 0; i < sample.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    sample[i] = x & 0xff;
  }
  return sample;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
