/**
 * The TypeScript reference codec by name, so tests and benchmarks can set it beside the WASM one.
 * @module
 */
import { encodeFrame, encodeFrameInto, encodedFrameSize } from './ts-encode.js';
import { decodeFrame } from './ts-decode.js';

/** The reference codec: the bytes every other codec must reproduce. */
export const tsCodec = Object.freeze({ name: 'ts' as const, encodeFrame, encodeFrameInto, encodedFrameSize, decodeFrame });

/** What every codec offers (the TS reference and the WASM one). */
export type FrameCodec = Pick<typeof tsCodec, 'encodeFrame' | 'encodeFrameInto' | 'encodedFrameSize' | 'decodeFrame'> & { readonly name: string };
