// The WASM codec for tests: fails with the fix in the message when build/codec.wasm is missing.
import { loadWasmCodec, type WasmCodec } from '../../src/codec/wasm.js';

export function requireWasmCodec(): WasmCodec {
  const codec = loadWasmCodec();
  if (codec === null) throw new Error('build/codec.wasm is missing: run `npm run build:wasm` (npm install runs it too)');
  return codec;
}
