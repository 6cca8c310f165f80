// The codec fuzzer: random and mutated frames through both decoders. Shared by fuzz.test.ts (the
// default run) and fuzz-cli.ts (`npm run fuzz:codec -- --count N --seed S`).
//
// What must hold for every input: neither decoder throws (only `error` results carrying a
// CodecError); both reach the same verdict (ok / needMore / error, and the same error code);
// on ok both produce the same message; a prefix of a valid frame is needMore; the WASM module's
// memory stays bounded by the input, not by the lengths written inside it.
import fc from 'fast-check';
import { CodecError, tsCodec, type DecodeResult } from '../../src/codec/index.js';
import { crc32cTs } from '../../src/codec/crc32c-ts.js';
import type { WasmCodec } from '../../src/codec/wasm.js';
import { Prng } from '../../src/util/prng.js';
import { normalise, wireMessage } from './arbitraries.js';

export const MUTATIONS = ['valid', 'truncate', 'flipBits', 'flipBitsResealed', 'hugeLength', 'wrongChecksum', 'randomBytes', 'randomBodyResealed', 'splice', 'stream'] as const;
export type Mutation = (typeof MUTATIONS)[number];

export interface FuzzSummary {
  seed: number;
  cases: number;
  byMutation: Record<string, number>;
  byOutcome: Record<string, number>;
  failures: string[];
  wasmMemoryBytesMax: number;
}

/** Largest WASM memory the fuzzer's inputs (at most a few KiB each) may cause. */
const WASM_MEMORY_BYTES_MAX = 8 * 1024 * 1024;
const FAILURES_KEPT_MAX = 10;

function reseal(frame: Uint8Array): Uint8Array {
  if (frame.length < 16) return frame;
  const crc = crc32cTs(frame, crc32cTs(frame, 0, 0, 12), 16, frame.length);
  new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setUint32(12, crc, true);
  return frame;
}

function randomBytes(rand: Prng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rand.int(256);
  return out;
}

function flip(rand: Prng, frame: Uint8Array): Uint8Array {
  const out = frame.slice();
  const flips = 1 + rand.int(8);
  for (let i = 0; i < flips; i++) out[rand.int(out.length)]! ^= 1 << rand.int(8);
  return out;
}

function verdict(r: DecodeResult): string {
  return r.status === 'error' ? r.error.code : r.status;
}

function decodeBoth(wasm: WasmCodec, input: Uint8Array): { ts: DecodeResult; wasm: DecodeResult } {
  return { ts: tsCodec.decodeFrame(input), wasm: wasm.decodeFrame(input) };
}

/** Makes the input of one case; `valid` frames come from the pool of real frames. */
function makeInput(rand: Prng, mutation: Mutation, pool: Uint8Array[]): Uint8Array {
  const frame = pool[rand.int(pool.length)]!;
  switch (mutation) {
    case 'valid': return frame;
    case 'truncate': return frame.subarray(0, rand.int(frame.length));
    case 'flipBits': return flip(rand, frame);
    case 'flipBitsResealed': return reseal(flip(rand, frame));
    case 'hugeLength': {
      const out = frame.slice();
      const view = new DataView(out.buffer);
      view.setUint32(0, rand.int(2) === 0 ? 0xffff_ffff - rand.int(1 << 20) : view.getUint32(0, true) + 1 + rand.int(1 << 24), true);
      return rand.int(2) === 0 ? reseal(out) : out;
    }
    case 'wrongChecksum': {
      const out = frame.slice();
      out[12 + rand.int(4)]! ^= 1 + rand.int(255);
      return out;
    }
    case 'randomBytes': return randomBytes(rand, rand.int(64));
    case 'randomBodyResealed': {
      // A real header with a random body behind it: exercises every field parser past the CRC.
      const body = randomBytes(rand, rand.int(96));
      const out = new Uint8Array(16 + body.length);
      out.set(frame.subarray(0, 16));
      new DataView(out.buffer).setUint32(0, body.length, true);
      out.set(body, 16);
      return reseal(out);
    }
    case 'splice': {
      const other = pool[rand.int(pool.length)]!;
      const cut = rand.int(frame.length);
      const out = new Uint8Array(cut + other.length);
      out.set(frame.subarray(0, cut));
      out.set(other, cut);
      return rand.int(2) === 0 ? reseal(out) : out;
    }
    case 'stream': return frame;
  }
}

/** Feeds three frames in random chunks, as a socket would; both decoders must yield all three. */
function checkStream(rand: Prng, wasm: WasmCodec, pool: Uint8Array[]): string | null {
  const frames = [0, 1, 2].map(() => pool[rand.int(pool.length)]!);
  const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) { all.set(f, at); at += f.length; }
  for (const codec of [tsCodec, wasm]) {
    let received = 0;
    let start = 0;
    let decoded = 0;
    while (received < all.length) {
      received = Math.min(all.length, received + 1 + rand.int(64));
      for (;;) {
        const r = codec.decodeFrame(all.subarray(0, received), start);
        if (r.status === 'needMore') break;
        if (r.status === 'error') return `${codec.name}: stream frame ${decoded}: ${r.error.code}`;
        if (r.consumed !== frames[decoded]!.length) return `${codec.name}: frame ${decoded} consumed ${r.consumed}`;
        start += r.consumed;
        decoded++;
      }
    }
    if (decoded !== 3) return `${codec.name}: decoded ${decoded} of 3 frames`;
  }
  return null;
}

function checkCase(wasm: WasmCodec, input: Uint8Array, mutation: Mutation, original: Uint8Array | null): { outcome: string; failure: string | null } {
  let results: { ts: DecodeResult; wasm: DecodeResult };
  try {
    results = decodeBoth(wasm, input);
  } catch (error) {
    return { outcome: 'threw', failure: `a decoder threw ${error instanceof CodecError ? error.code : String(error)}` };
  }
  const a = verdict(results.ts);
  const b = verdict(results.wasm);
  for (const r of [results.ts, results.wasm]) {
    if (r.status === 'error' && !(r.error instanceof CodecError)) return { outcome: a, failure: 'error result without a CodecError' };
  }
  if (a !== b) return { outcome: a, failure: `ts says ${a}, wasm says ${b}` };
  if (results.ts.status === 'ok' && results.wasm.status === 'ok') {
    if (JSON.stringify(normalise(results.ts.message)) !== JSON.stringify(normalise(results.wasm.message))) return { outcome: a, failure: 'ts and wasm decoded different messages' };
    if (results.ts.consumed !== results.wasm.consumed || results.ts.requestId !== results.wasm.requestId) return { outcome: a, failure: 'consumed or requestId differ' };
  }
  if (mutation === 'valid' && a !== 'ok') return { outcome: a, failure: `a valid frame gave ${a}` };
  if (mutation === 'truncate' && original !== null && a !== 'needMore') return { outcome: a, failure: `a prefix of a valid frame gave ${a}` };
  return { outcome: a, failure: null };
}

/** Runs `count` cases from `seed`; calls `progress` every `progressEvery` cases. */
export function runFuzz(wasm: WasmCodec, seed: number, count: number, progress?: (done: number, summary: FuzzSummary) => void, progressEvery = 10_000): FuzzSummary {
  const rand = new Prng(seed);
  const pool = fc.sample(wireMessage, { seed, numRuns: 256 }).map((m, i) => tsCodec.encodeFrame(m, i * 977));
  const summary: FuzzSummary = { seed, cases: 0, byMutation: {}, byOutcome: {}, failures: [], wasmMemoryBytesMax: 0 };
  const memory = (wasm as unknown as { exports: { memory: { buffer: ArrayBuffer } } }).exports.memory;
  for (let i = 0; i < count; i++) {
    const mutation = MUTATIONS[rand.int(MUTATIONS.length)]!;
    summary.byMutation[mutation] = (summary.byMutation[mutation] ?? 0) + 1;
    let failure: string | null;
    let outcome: string;
    if (mutation === 'stream') {
      failure = checkStream(rand, wasm, pool);
      outcome = failure === null ? 'ok' : 'stream-failed';
    } else {
      const input = makeInput(rand, mutation, pool);
      ({ outcome, failure } = checkCase(wasm, input, mutation, mutation === 'truncate' ? input : null));
      if (failure !== null) failure += ` [input ${Buffer.from(input.subarray(0, 96)).toString('hex')}${input.length > 96 ? '…' : ''}]`;
    }
    summary.byOutcome[outcome] = (summary.byOutcome[outcome] ?? 0) + 1;
    summary.wasmMemoryBytesMax = Math.max(summary.wasmMemoryBytesMax, memory.buffer.byteLength);
    if (memory.buffer.byteLength > WASM_MEMORY_BYTES_MAX) failure ??= `WASM memory grew to ${memory.buffer.byteLength} bytes`;
    if (failure !== null && summary.failures.length < FAILURES_KEPT_MAX) summary.failures.push(`case ${i} (${mutation}): ${failure}`);
    summary.cases++;
    if (progress && (i + 1) % progressEvery === 0) progress(i + 1, summary);
  }
  return summary;
}
