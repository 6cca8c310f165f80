// Regenerates test/vectors/*.json from the TypeScript reference codec:
//   npx tsx test/codec/update-vectors.ts
// Only after a deliberate format change (bump FRAME_VERSION and say so in docs/wire-format.md):
// the vectors are the proof that both codecs still speak the published format.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tsCodec } from '../../src/codec/index.js';
import { crc32cTs } from '../../src/codec/crc32c-ts.js';
import { SAMPLES } from './samples.js';
import { type FrameVector, type RejectVector, hex, toJson } from './vector-format.js';

const dir = fileURLToPath(new URL('../vectors/', import.meta.url));

const frames: FrameVector[] = Object.entries(SAMPLES).map(([name, message], i) => {
  const requestId = i === 0 ? 0 : 1000 + i * 7919;
  return { name, requestId, message: toJson(message), frameHex: hex(tsCodec.encodeFrame(message, requestId)) };
});

function reseal(frame: Uint8Array): Uint8Array {
  const crc = crc32cTs(frame, crc32cTs(frame, 0, 0, 12), 16, frame.length);
  new DataView(frame.buffer, frame.byteOffset).setUint32(12, crc, true);
  return frame;
}
function edit(name: keyof typeof SAMPLES, change: (f: Uint8Array) => Uint8Array | void, sealed = true): Uint8Array {
  let frame = tsCodec.encodeFrame(SAMPLES[name]!, 5);
  frame = change(frame) ?? frame;
  return sealed ? reseal(frame) : frame;
}
function withBodyBytes(frame: Uint8Array, bodyBytes: number): Uint8Array {
  const out = new Uint8Array(16 + bodyBytes);
  out.set(frame.subarray(0, Math.min(frame.length, out.length)));
  new DataView(out.buffer, out.byteOffset).setUint32(0, bodyBytes, true);
  return out;
}

/** A sealed frame around a hand-made body. */
function rawFrame(type: number, body: number[]): Uint8Array {
  const frame = new Uint8Array(16 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length, true);
  frame[4] = 1;
  frame[5] = type;
  frame.set(body, 16);
  return reseal(frame);
}

/** A heartbeat body with 2 entries: a whole one with 10 data bytes, then 12 bytes of a second. */
function shortTailFrame(): Uint8Array {
  const heartbeat = tsCodec.encodeFrame(SAMPLES.appendEntriesHeartbeat!, 5);
  const head = Array.from(heartbeat.subarray(16, heartbeat.length - 4));
  const first = [1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 10, 0, 0, 0, ...new Array<number>(10).fill(7)];
  const secondPart = [0, 0, 0, 0, 0, 0, 0x20, 0, 1, 0, 0, 0];
  return rawFrame(3, [...head, 2, 0, 0, 0, ...first, ...secondPart]);
}

// timeoutNow body: [u8 2]"n1" [u8 2]"n2" u64 term [u8 2]"n1" → term at 22, leaderId at 30.
const rejects: RejectVector[] = [
  { name: 'flipped-body-bit', why: 'one bit of the body flipped in transit', expect: 'CODEC_ERR_CHECKSUM', frameHex: hex(edit('timeoutNow', (f) => { f[25]! ^= 4; }, false)) },
  { name: 'flipped-request-id-bit', why: 'the checksum covers the header too', expect: 'CODEC_ERR_CHECKSUM', frameHex: hex(edit('timeoutNow', (f) => { f[9]! ^= 1; }, false)) },
  { name: 'version-2', why: 'a frame from a newer format', expect: 'CODEC_ERR_VERSION', frameHex: hex(edit('timeoutNow', (f) => { f[4] = 2; })) },
  { name: 'unknown-type', why: 'type 99 is not assigned', expect: 'CODEC_ERR_UNKNOWN_TYPE', frameHex: hex(edit('timeoutNow', (f) => { f[5] = 99; })) },
  { name: 'huge-length', why: 'a 4 GiB body announced in the first four bytes', expect: 'CODEC_ERR_FRAME_TOO_LARGE', frameHex: 'f0ffffff' },
  { name: 'term-past-2^53', why: 'high word 0x00200000 makes the term 2^53', expect: 'CODEC_ERR_INTEGER_RANGE', frameHex: hex(edit('timeoutNow', (f) => { f[28] = 0x20; })) },
  { name: 'unknown-flag', why: 'bit 1 is not defined for TimeoutNow', expect: 'CODEC_ERR_MALFORMED', frameHex: hex(edit('timeoutNow', (f) => { f[6] = 2; })) },
  { name: 'empty-node-id', why: 'node ids are never empty', expect: 'CODEC_ERR_MALFORMED', frameHex: hex(rawFrame(2, [0, 2, 0x6e, 0x31, 5, 0, 0, 0, 0, 0, 0, 0])) },
  { name: 'node-id-past-body', why: 'a node id length runs past the frame', expect: 'CODEC_ERR_MALFORMED', frameHex: hex(edit('timeoutNow', (f) => { f[16] = 200; })) },
  { name: 'bad-utf8', why: '0xff is never UTF-8', expect: 'CODEC_ERR_MALFORMED', frameHex: hex(edit('timeoutNow', (f) => { f[17] = 0xff; })) },
  { name: 'trailing-byte', why: 'a byte after the last field', expect: 'CODEC_ERR_MALFORMED', frameHex: hex(edit('timeoutNow', (f) => withBodyBytes(f, f.length - 16 + 1))) },
  { name: 'entries-past-body', why: 'an entry count the body cannot hold', expect: 'CODEC_ERR_MALFORMED', frameHex: hex(edit('appendEntriesHeartbeat', (f) => { f[f.length - 4] = 200; })) },
  { name: 'entry-tail-integer-range', why: 'the last entry is shorter than an entry header and its index is past 2^53-1: the field order decides the code', expect: 'CODEC_ERR_INTEGER_RANGE', frameHex: hex(shortTailFrame()) },
  { name: 'entries-past-max', why: '70000 entries is past the default entriesMax 65536', expect: 'CODEC_ERR_LIMIT', frameHex: hex(edit('appendEntriesHeartbeat', (f) => { new DataView(f.buffer, f.byteOffset, f.byteLength).setUint32(f.length - 4, 70_000, true); })) },
  { name: 'null-payload', why: 'a required byte string holds the null length', expect: 'CODEC_ERR_MALFORMED', frameHex: hex(edit('result', (f) => { new DataView(f.buffer, f.byteOffset, f.byteLength).setUint32(16 + 4 + 3 + 1, 0xffff_ffff, true); })) },
  { name: 'bad-enum', why: 'ClientRequest op 9 does not exist', expect: 'CODEC_ERR_MALFORMED', frameHex: hex(edit('clientGet', (f) => { f[16] = 9; })) },
  { name: 'header-prefix', why: 'three bytes of a valid frame', expect: 'needMore', frameHex: hex(tsCodec.encodeFrame(SAMPLES.timeoutNow!, 1).subarray(0, 3)) },
  { name: 'body-prefix', why: 'a valid frame missing its last byte', expect: 'needMore', frameHex: hex(tsCodec.encodeFrame(SAMPLES.appendEntries!, 1).subarray(0, -1)) },
];

writeFileSync(`${dir}frames.json`, `${JSON.stringify(frames, null, 1)}\n`);
writeFileSync(`${dir}rejects.json`, `${JSON.stringify(rejects, null, 1)}\n`);
console.log(`wrote ${frames.length} frame vectors and ${rejects.length} reject vectors to test/vectors/`);
