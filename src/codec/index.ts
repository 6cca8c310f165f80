/**
 * raftwire's wire codec: length-prefixed, checksummed binary frames for the Raft RPCs, the client
 * protocol and the task envelopes (format in docs/wire-format.md).
 *
 * The functions exported here are the default path: for each message shape, whichever of the
 * TypeScript reference codec and the WASM codec measured faster (bench/codec.bench.ts). Both
 * produce identical bytes; `tsCodec` and `wasmCodec` give each by name.
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
import type { ResultEnvelope, TaskEnvelope } from './task-types.js';
import { decodeFrame, expectType } from './ts-decode.js';
import { encodeFrame } from './ts-encode.js';

export type { ClientOp, ClientReply, ClientReplyStatus, ClientRequest } from './client-types.js';
export type { ResultEnvelope, TaskEnvelope, TaskStatus } from './task-types.js';
export { CodecError, CodecErrorCode, type CodecErrorCodeValue } from './errors.js';
export { type CodecLimits, DEFAULT_CODEC_LIMITS, FRAME_VERSION, HEADER_BYTES } from './layout.js';
export type { WireMessage } from './ts-encode.js';
export type { DecodeResult } from './ts-decode.js';
export { tsCodec, type FrameCodec } from './ts-codec.js';
export { encodeFrame, encodeFrameInto, encodedFrameSize } from './ts-encode.js';
export { decodeFrame } from './ts-decode.js';

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
