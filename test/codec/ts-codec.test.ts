import { describe, expect, it } from 'vitest';
import {
  CodecError, DEFAULT_CODEC_LIMITS, decodeFrame, decodeResult, decodeTask, encodeFrame, encodeFrameInto, encodedFrameSize,
  encodeResult, encodeTask, tsCodec, type WireMessage,
} from '../../src/codec/index.js';
import { crc32cTs } from '../../src/codec/crc32c-ts.js';
import { SAMPLES } from './samples.js';
import { requireWasmCodec } from './wasm-loader.js';

const wasm = requireWasmCodec();

function reseal(frame: Uint8Array): Uint8Array {
  // Recomputes the checksum after a test edits a frame, so the edit itself is what gets rejected.
  const crc = crc32cTs(frame, crc32cTs(frame, 0, 0, 12), 16, frame.length);
  new DataView(frame.buffer, frame.byteOffset).setUint32(12, crc, true);
  return frame;
}

function errorCode(bytes: Uint8Array, limits = {}): string | undefined {
  const r = tsCodec.decodeFrame(bytes, 0, limits);
  return r.status === 'error' ? r.error.code : r.status;
}

describe('TS codec', () => {
  it.each(Object.entries(SAMPLES))('round-trips %s', (_name, message) => {
    const frame = encodeFrame(message, 0xfedc_ba98);
    expect(frame.length).toBe(encodedFrameSize(message));
    const r = decodeFrame(frame);
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.consumed).toBe(frame.length);
    expect(r.requestId).toBe(0xfedc_ba98);
    expect(r.message).toEqual(message);
  });

  it('returns needMore for every prefix of a valid frame, header included', () => {
    const frame = encodeFrame(SAMPLES.appendEntries!, 3);
    for (let n = 0; n < frame.length; n++) expect(decodeFrame(frame.subarray(0, n)).status).toBe('needMore');
  });

  it('decodes entry payloads as views into the input', () => {
    const frame = encodeFrame(SAMPLES.appendEntries!, 1);
    const r = decodeFrame(frame);
    if (r.status !== 'ok' || r.message.type !== 'AppendEntries') throw new Error('expected AppendEntries');
    const data = r.message.entries[1]!.data;
    expect(data.buffer).toBe(frame.buffer);
    frame[data.byteOffset - frame.byteOffset] = 0x21;
    expect(data[0]).toBe(0x21);
  });

  it('keeps encoding after a frame\'s slab was transferred away (detached)', () => {
    const frame = encodeFrame(SAMPLES.timeoutNow!, 1);
    structuredClone(frame.buffer, { transfer: [frame.buffer as ArrayBuffer] });
    expect(frame.buffer.byteLength).toBe(0);
    for (const codec of [tsCodec, wasm]) {
      const again = codec.encodeFrame(SAMPLES.timeoutNow!, 2);
      expect(decodeFrame(again).status).toBe('ok');
    }
  });

  it('writes several frames into one buffer and decodes them in sequence', () => {
    const messages = [SAMPLES.timeoutNow!, SAMPLES.appendEntries!, SAMPLES.clientCas!];
    const total = messages.reduce((n, m) => n + encodedFrameSize(m), 0);
    const buf = new Uint8Array(total + 5);
    let at = 5;
    messages.forEach((m, i) => { at += encodeFrameInto(m, i, buf, at); });
    expect(at).toBe(buf.length);
    at = 5;
    for (let i = 0; i < messages.length; i++) {
      const r = decodeFrame(buf, at);
      if (r.status !== 'ok') throw new Error(`frame ${i}: ${r.status}`);
      expect(r.requestId).toBe(i);
      expect(r.message).toEqual(messages[i]);
      at += r.consumed;
    }
  });

  it('rejects a flipped bit with CODEC_ERR_CHECKSUM', () => {
    const frame = encodeFrame(SAMPLES.requestVote!, 1);
    frame[frame.length - 3]! ^= 0x10;
    expect(errorCode(frame)).toBe('CODEC_ERR_CHECKSUM');
  });

  it('rejects bad version, unknown type and unknown flags', () => {
    const f1 = encodeFrame(SAMPLES.timeoutNow!); f1[4] = 2;
    expect(errorCode(f1.subarray(0, 5))).toBe('CODEC_ERR_VERSION');
    const f2 = encodeFrame(SAMPLES.timeoutNow!); f2[5] = 99;
    expect(errorCode(f2.subarray(0, 6))).toBe('CODEC_ERR_UNKNOWN_TYPE');
    const f3 = encodeFrame(SAMPLES.timeoutNow!); f3[6] = 1;
    expect(errorCode(reseal(f3))).toBe('CODEC_ERR_MALFORMED');
  });

  it('rejects a frame past frameBytesMax from its first four bytes', () => {
    const frame = encodeFrame(SAMPLES.installSnapshot!);
    expect(errorCode(frame.subarray(0, 4), { frameBytesMax: frame.length - 1 })).toBe('CODEC_ERR_FRAME_TOO_LARGE');
    expect(errorCode(new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toBe('CODEC_ERR_FRAME_TOO_LARGE');
  });

  it('rejects integers past 2^53-1', () => {
    const frame = encodeFrame(SAMPLES.timeoutNow!);
    // term sits after the two node ids "n1" and "n2": 16 + 3 + 3.
    frame[16 + 6 + 6] = 0x20;
    expect(errorCode(reseal(frame))).toBe('CODEC_ERR_INTEGER_RANGE');
  });

  it('rejects counts past entriesMax and lengths past the frame', () => {
    const frame = encodeFrame(SAMPLES.appendEntries!);
    expect(errorCode(frame, { entriesMax: 2 })).toBe('CODEC_ERR_LIMIT');
    const hb = encodeFrame(SAMPLES.appendEntriesHeartbeat!);
    hb[hb.length - 4] = 200; // entry count 200 in a frame with no room for them
    expect(errorCode(reseal(hb))).toBe('CODEC_ERR_MALFORMED');
  });

  it('refuses to encode what it could not decode', () => {
    const bad = (patch: Record<string, unknown>): WireMessage => ({ ...SAMPLES.requestVote!, ...patch }) as WireMessage;
    const codeOf = (m: WireMessage): string => { try { encodeFrame(m); return 'none'; } catch (e) { return (e as CodecError).code; } };
    expect(codeOf(bad({ term: 2 ** 53 }))).toBe('CODEC_ERR_INTEGER_RANGE');
    expect(codeOf(bad({ term: -1 }))).toBe('CODEC_ERR_INTEGER_RANGE');
    expect(codeOf(bad({ term: 1.5 }))).toBe('CODEC_ERR_INTEGER_RANGE');
    expect(codeOf(bad({ from: '' }))).toBe('CODEC_ERR_MALFORMED');
    expect(codeOf(bad({ from: 'x'.repeat(256) }))).toBe('CODEC_ERR_MALFORMED');
    expect(codeOf(bad({ type: 'Nope' }))).toBe('CODEC_ERR_UNKNOWN_TYPE');
    expect(() => encodeFrame(SAMPLES.timeoutNow!, 2 ** 32)).toThrow(CodecError);
  });

  it('enforces stringBytesMax on decode', () => {
    const frame = encodeFrame(SAMPLES.clientCas!);
    expect(errorCode(frame, { stringBytesMax: 2 })).toBe('CODEC_ERR_LIMIT');
    expect(errorCode(frame, { stringBytesMax: DEFAULT_CODEC_LIMITS.stringBytesMax })).toBe('ok');
  });

  it('encodes and decodes task envelopes, refusing the wrong type', () => {
    const task = SAMPLES.task as Parameters<typeof encodeTask>[0];
    expect(decodeTask(encodeTask(task))).toEqual(task);
    const result = SAMPLES.result as Parameters<typeof encodeResult>[0];
    expect(decodeResult(encodeResult(result))).toEqual(result);
    expect(() => decodeTask(encodeResult(result))).toThrow(expect.objectContaining({ code: 'CODEC_ERR_UNEXPECTED_TYPE' }));
    expect(() => decodeTask(encodeTask(task).subarray(0, 10))).toThrow(expect.objectContaining({ code: 'CODEC_ERR_MALFORMED' }));
  });
});
