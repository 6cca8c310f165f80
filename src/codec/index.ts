/**
 * raftwire's wire codec: length-prefixed, checksummed binary frames for the Raft RPCs, the client
 * protocol and the task envelopes (format in docs/wire-format.md).
 *
 * The functions exported here are the default path: for each message shape, whichever of the
 * TypeScript reference codec and the WASM codec measured faster (bench/codec.bench.ts). Today
 * that is the TypeScript codec for every shape measured (AppendEntries with 1 and 64 entries,
 * encode and decode): its CRC is the native addon's hardware instruction, and the WASM path pays
 * for copying payloads in and frames out (figures in docs/wire-format.md). Both produce identical
 * bytes; `tsCodec` and `wasmCodec` give each by name.
 *
 * @example
 * ```ts
 * import { encodeFrame, decodeFrame } from 'raftwire/codec';
 * const frame = encodeFrame({ type: 'TimeoutNow', from: 'n1', to: 'n2', term: 7, leaderId: 'n1' }, 1);
 * const r = decodeFrame(frame);
 * if (r.status === 'ok') console.log(r.message.type, r.requestId); // TimeoutNow 1
 * ```
 * @module
 */
import { RaftwireError } from '../core/errors.js';
import type { ResultEnvelope, TaskEnvelope } from './task-types.js';
import { decodeFrame, expectType } from './ts-decode.js';
import { encodeFrame } from './ts-encode.js';
import { loadWasmCodec, type WasmCodec } from './wasm.js';
import type { WireMessage } from './ts-encode.js';
import type { DecodeResult } from './ts-decode.js';
import type { CodecLimits } from './layout.js';

export type { ClientOp, ClientReply, ClientReplyStatus, ClientRequest } from './client-types.js';
export { CLIENT_RETRY_CODES, isRetryableReply } from './client-types.js';
export type { ResultEnvelope, TaskEnvelope, TaskStatus } from './task-types.js';
export { CodecError, CodecErrorCode, type CodecErrorCodeValue } from './errors.js';
export { type CodecLimits, DEFAULT_CODEC_LIMITS, FRAME_VERSION, HEADER_BYTES } from './layout.js';
export type { WireMessage, DecodeResult };
export { tsCodec, type FrameCodec } from './ts-codec.js';
export { encodeFrame, encodeFrameInto, encodeFrameWith, encodedFrameSize } from './ts-encode.js';
export { decodeFrame } from './ts-decode.js';
export { loadWasmCodec, wasmCodecPath, type WasmCodec } from './wasm.js';

function requireWasm(): WasmCodec {
  const codec = loadWasmCodec();
  if (codec === null) throw new RaftwireError('CODEC_ERR_WASM_UNAVAILABLE', 'the WASM codec is not available (run `npm run build:wasm`)');
  return codec;
}

/**
 * The WASM codec by name, loaded on first use. Throws `CODEC_ERR_WASM_UNAVAILABLE` when
 * build/codec.wasm is missing; the default exports never do (they fall back to TypeScript).
 */
export const wasmCodec = Object.freeze({
  name: 'wasm' as const,
  encodeFrame: (message: WireMessage, requestId = 0): Uint8Array => requireWasm().encodeFrame(message, requestId),
  encodeFrameInto: (message: WireMessage, requestId: number, target: Uint8Array, offset: number): number =>
    requireWasm().encodeFrameInto(message, requestId, target, offset),
  encodedFrameSize: (message: WireMessage): number => requireWasm().encodedFrameSize(message),
  decodeFrame: (bytes: Uint8Array, offset = 0, limits?: Partial<CodecLimits>): DecodeResult => requireWasm().decodeFrame(bytes, offset, limits),
  crc32c: (data: Uint8Array, crc = 0, start = 0, end = data.length): number => requireWasm().crc32c(data, crc, start, end),
});

/** A TaskEnvelope as one frame (requestId 0). */
export function encodeTask(task: TaskEnvelope): Uint8Array {
  return encodeFrame(task, 0);
}

/** The TaskEnvelope in `bytes` (exactly one frame); throws CodecError otherwise. */
export function decodeTask(bytes: Uint8Array): TaskEnvelope {
  return expectType(decodeFrame(bytes), 'TaskEnvelope', bytes.length);
}

/** A ResultEnvelope as one frame (requestId 0). */
export function encodeResult(result: ResultEnvelope): Uint8Array {
  return encodeFrame(result, 0);
}

/** The ResultEnvelope in `bytes` (exactly one frame); throws CodecError otherwise. */
export function decodeResult(bytes: Uint8Array): ResultEnvelope {
  return expectType(decodeFrame(bytes), 'ResultEnvelope', bytes.length);
}

// The native helpers and their fallbacks (docs/native.md).
export { crc32c, crc32cImplementation, type Crc32cImplementation } from './crc32c.js';
export { crc32cTs } from './crc32c-ts.js';
export { BufferPool, BufferPoolError, type BufferPoolOptions, type BufferPoolStats, type BufferPoolErrorCode } from './buffer-pool.js';
export { loadNative, nativeStatus, type NativeAddon } from './native.js';
