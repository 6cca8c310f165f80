/**
 * The codec's one error class. Every rejection of bad input (a bad checksum, an unknown type, a
 * length past the frame or past a configured bound, an integer above 2^53−1) is a
 * {@link CodecError} with a stable `code`; callers match on the code, never on the message.
 *
 * @example
 * ```ts
 * const r = decodeFrame(bytes);
 * if (r.status === 'error' && r.error.code === CodecErrorCode.checksum) dropConnection();
 * ```
 * @module
 */
import { RaftwireError } from '../core/errors.js';

/** Stable codes of {@link CodecError}. The numeric order is the WASM module's error numbering. */
export const CodecErrorCode = Object.freeze({
  checksum: 'CODEC_ERR_CHECKSUM',
  unknownType: 'CODEC_ERR_UNKNOWN_TYPE',
  frameTooLarge: 'CODEC_ERR_FRAME_TOO_LARGE',
  malformed: 'CODEC_ERR_MALFORMED',
  integerRange: 'CODEC_ERR_INTEGER_RANGE',
  version: 'CODEC_ERR_VERSION',
  /** A count or string inside the frame is past its named bound (entriesMax, stringBytesMax, …). */
  limit: 'CODEC_ERR_LIMIT',
  /** A frame decoded fine but is not the message the caller asked for (decodeTask on a reply). */
  unexpectedType: 'CODEC_ERR_UNEXPECTED_TYPE',
} as const);

export type CodecErrorCodeValue = (typeof CodecErrorCode)[keyof typeof CodecErrorCode];

/** Bad bytes on the wire, or a message that cannot be put on it. */
export class CodecError extends RaftwireError {
  declare readonly code: CodecErrorCodeValue;
  constructor(code: CodecErrorCodeValue, message: string) {
    super(code, message);
  }
}

/**
 * Error numbers the WASM module returns (negated) and the code each stands for. Kept in one table
 * so the AssemblyScript side (assembly/layout.ts) and the TypeScript side cannot drift apart
 * silently: test/codec/wasm.test.ts provokes each error in both codecs and compares the codes.
 */
export const ERROR_CODE_BY_NUMBER: readonly CodecErrorCodeValue[] = [
  CodecErrorCode.malformed, // 0 is never returned as an error; placeholder
  CodecErrorCode.checksum, // 1
  CodecErrorCode.unknownType, // 2
  CodecErrorCode.frameTooLarge, // 3
  CodecErrorCode.malformed, // 4
  CodecErrorCode.integerRange, // 5
  CodecErrorCode.version, // 6
  CodecErrorCode.limit, // 7
];

/** A short description of a value for an error message; never throws (unlike `String(v)`). */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value === null || value === undefined) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
