import { afterEach, describe, expect, it, vi } from 'vitest';
import { CodecError, tsCodec } from '../../src/codec/index.js';
import { crc32cTs } from '../../src/codec/crc32c-ts.js';
import { Prng } from '../../src/util/prng.js';
import { SAMPLES } from './samples.js';
import { requireWasmCodec } from './wasm-loader.js';

const wasm = requireWasmCodec();

function randomBytes(rand: Prng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rand.int(256);
  return out;
}

describe('WASM codec', () => {
  it('computes CRC32C like the reference, at every length and alignment and when continued', () => {
    expect(wasm.crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    const rand = new Prng(7);
    for (let n = 0; n < 300; n++) {
      const data = randomBytes(rand, n + 3);
      expect(wasm.crc32c(data, 0, 3)).toBe(crc32cTs(data, 0, 3));
      const split = rand.int(n + 1) + 3;
      expect(wasm.crc32c(data, wasm.crc32c(data, 0, 0, split), split)).toBe(crc32cTs(data));
    }
  });

  it('grows its memory for a large frame and keeps working after', () => {
    const big = new Uint8Array(3 * 1024 * 1024).fill(0x5a);
    const message = { ...SAMPLES.installSnapshot!, data: big } as typeof SAMPLES.installSnapshot;
    const frame = wasm.encodeFrame(message!, 4);
    // Buffer.equals: vitest's deep equality walks a 3 MiB array element by element.
    expect(Buffer.from(frame).equals(tsCodec.encodeFrame(message!, 4))).toBe(true);
    const r = wasm.decodeFrame(frame);
    if (r.status !== 'ok' || r.message.type !== 'InstallSnapshot') throw new Error(`decode: ${r.status}`);
    expect(Buffer.from(r.message.data).equals(big)).toBe(true);
    expect(wasm.decodeFrame(tsCodec.encodeFrame(SAMPLES.timeoutNow!, 1)).status).toBe('ok');
  });

  it('rejects on encode what the reference rejects, with the same code', () => {
    const cases: Record<string, unknown>[] = [
      { ...SAMPLES.requestVote, term: 2 ** 53 }, { ...SAMPLES.requestVote, term: -1 }, { ...SAMPLES.requestVote, lastLogIndex: 0.5 },
      { ...SAMPLES.requestVote, term: '5' }, { ...SAMPLES.requestVote, from: '' }, { ...SAMPLES.requestVote, to: 'x'.repeat(256) },
      { ...SAMPLES.requestVote, type: 'Nope' }, { ...SAMPLES.clientGet, op: 'put' }, { ...SAMPLES.task, payload: null },
      { ...SAMPLES.task, taskId: null }, { ...SAMPLES.task, taskId: 5 }, { ...SAMPLES.requestVote, type: 'toString' },
      { ...SAMPLES.appendEntries, entries: [null] }, { ...SAMPLES.installSnapshot, config: null },
      { ...SAMPLES.appendEntries, entries: [{ index: 1, term: 1, type: 'other', data: new Uint8Array(1) }] },
      { ...SAMPLES.appendEntries, entries: [{ index: 1, term: NaN, type: 'normal', data: new Uint8Array(1) }] },
    ];
    const codeOf = (encode: () => unknown): string => {
      try { encode(); return 'none'; } catch (e) { return e instanceof CodecError ? e.code : `not a CodecError: ${String(e)}`; }
    };
    for (const m of cases) {
      const expected = codeOf(() => tsCodec.encodeFrame(m as never));
      expect(expected).not.toBe('none');
      expect(codeOf(() => wasm.encodeFrame(m as never)), JSON.stringify(m)).toBe(expected);
    }
  });

  afterEach(() => {
    vi.doUnmock('node:fs');
    vi.resetModules();
    vi.restoreAllMocks();
  });

  it('returns null with exactly one warning when build/codec.wasm is missing', async () => {
    vi.resetModules();
    vi.doMock('node:fs', async (original) => ({ ...(await original<typeof import('node:fs')>()), existsSync: () => false }));
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { loadWasmCodec } = await import('../../src/codec/wasm.js');
    expect(loadWasmCodec()).toBeNull();
    expect(loadWasmCodec()).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![1]).toMatchObject({ code: 'RAFTWIRE_WASM_UNAVAILABLE' });
  });
});

describe('WASM codec memory growth in the middle of a message', () => {
  it('keeps the fields marshalled after a field that grew the memory', () => {
    // Larger than anything encoded before in this file, and followed by u64 fields.
    const task = { ...SAMPLES.task!, payload: new Uint8Array(9 * 1024 * 1024).fill(1), priority: 7, attempt: 3 } as typeof SAMPLES.task;
    const frame = wasm.encodeFrame(task!, 2);
    expect(Buffer.from(frame).equals(tsCodec.encodeFrame(task!, 2))).toBe(true);
    const r = tsCodec.decodeFrame(frame);
    expect(r.status === 'ok' && r.message.type === 'TaskEnvelope' && [r.message.priority, r.message.attempt]).toEqual([7, 3]);
  });
});

describe('WASM codec decoding', () => {
  it('returns entry payloads and byte fields as views into the input', () => {
    const frame = tsCodec.encodeFrame(SAMPLES.appendEntries!, 1);
    const r = wasm.decodeFrame(frame);
    if (r.status !== 'ok' || r.message.type !== 'AppendEntries') throw new Error('expected AppendEntries');
    const data = r.message.entries[1]!.data;
    expect(data.buffer).toBe(frame.buffer);
    frame[data.byteOffset - frame.byteOffset] = 0x21;
    expect(data[0]).toBe(0x21);
  });
});
