/**
 * Loads the WASM codec (build/codec.wasm, built by `npm run build:wasm`) once, lazily and
 * synchronously. If the file is missing or does not instantiate, raftwire runs on the TypeScript
 * codec and says so once (warning code RAFTWIRE_WASM_UNAVAILABLE). `RAFTWIRE_WASM=0` forces the
 * TypeScript path without a warning.
 *
 * @example
 * ```ts
 * const wasm = loadWasmCodec();
 * const crc = wasm ? wasm.crc32c(data) : crc32cTs(data);
 * ```
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WasmFrameCodec } from './wasm-codec.js';

/** The WASM codec: frame encode/decode with the reference codec's contract, and CRC32C. */
export type WasmCodec = WasmFrameCodec;

// From src/codec/ (tsx, vitest) the package root is two levels up; from dist/src/codec/ three.
const CANDIDATES = ['../../build/codec.wasm', '../../../build/codec.wasm'];

// This package's tsconfig has no DOM lib, and @types/node types WebAssembly only partly.
const wasmApi = (globalThis as unknown as {
  WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object, imports: object) => { exports: unknown } };
}).WebAssembly;

let cached: WasmCodec | null | undefined;

/** Path of build/codec.wasm, or null when it is not there. */
export function wasmCodecPath(): string | null {
  for (const relative of CANDIDATES) {
    const path = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(path)) return path;
  }
  return null;
}

/** The WASM codec, or null (with one warning) when build/codec.wasm is unavailable. */
export function loadWasmCodec(): WasmCodec | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (process.env['RAFTWIRE_WASM'] === '0') return cached;
  const path = wasmCodecPath();
  if (path === null) {
    process.emitWarning('build/codec.wasm not found (run `npm run build:wasm`); raftwire will use its TypeScript codec', { code: 'RAFTWIRE_WASM_UNAVAILABLE' });
    return cached;
  }
  try {
    const module = new wasmApi.Module(readFileSync(path));
    cached = new WasmFrameCodec(new wasmApi.Instance(module, {}));
  } catch (error) {
    process.emitWarning(`build/codec.wasm did not load (${(error as Error).message}); raftwire will use its TypeScript codec`, { code: 'RAFTWIRE_WASM_UNAVAILABLE' });
  }
  return cached;
}
