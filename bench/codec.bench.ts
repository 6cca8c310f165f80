/**
 * Wire codec speed, every figure beside what a user would pick instead, measured in the same run:
 * - AppendEntries with 1 and with 64 entries of 100 bytes: encode, decode, and encode+decode, for
 *   the WASM codec, the TypeScript codec, the default path (raftwire/codec's exports), msgpackr
 *   (`pack`/`unpack`, no checksum) and JSON with base64 payloads (what an HTTP/JSON Raft transport
 *   sends: JSON.stringify → UTF-8 bytes, and back);
 * - CRC32C of 64 KiB: native addon (if built), WASM (including the copy into its memory), TS.
 *
 * Prints a table and writes bench/results/codec.json (machine, Node version, date, medians and
 * ratios). The machine may be shared (2 cores, other work running): treat the figures as noisy.
 *
 * Run: `npm run bench:codec` (options: `-- --time-ms 250 --rounds 3`; each figure is the median
 * over rounds of tinybench's per-task median).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { pack, unpack } from 'msgpackr';
import { Bench } from 'tinybench';
import type { AppendEntriesRequest, Entry } from '../src/core/types.js';
import { decodeFrame, encodeFrame, tsCodec, wasmCodec, type FrameCodec, type WireMessage } from '../src/codec/index.js';
import { crc32cTs } from '../src/codec/crc32c-ts.js';
import { loadNative } from '../src/codec/native.js';
import { loadWasmCodec } from '../src/codec/wasm.js';
import { appendEntriesRequest } from './fixtures.js';
import { machineInfo } from './machine.js';
import { exitWithHelpIfAsked } from './help.js';

exitWithHelpIfAsked(`
npm run bench:codec -- [--rounds 3] [--time-ms 250]
Wire codec speed (WASM, TypeScript, default path) beside msgpackr and JSON+base64, and CRC32C.
Prints a table and writes bench/results/codec.json.
  --rounds N     rounds; each figure is the median over rounds of tinybench's median  [3]
  --time-ms T    tinybench time per task per round                                     [250]
`);

const { values } = parseArgs({ options: { 'time-ms': { type: 'string', default: '250' }, rounds: { type: 'string', default: '3' } } });
const timeMs = Number(values['time-ms']);
/** The suite runs this many times; each figure is the median over rounds of the per-round median. */
const rounds = Number(values.rounds);

// JSON + base64: the HTTP/JSON transport's body.
function jsonEncode(m: AppendEntriesRequest): Uint8Array {
  return Buffer.from(JSON.stringify({ ...m, entries: m.entries.map((e) => ({ ...e, data: Buffer.from(e.data.buffer, e.data.byteOffset, e.data.length).toString('base64') })) }));
}
function jsonDecode(bytes: Uint8Array): AppendEntriesRequest {
  const m = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8')) as AppendEntriesRequest & { entries: (Entry & { data: string })[] };
  for (const e of m.entries) (e as Entry).data = Buffer.from(e.data as unknown as string, 'base64');
  return m;
}

type Codec = { encode(m: WireMessage): Uint8Array; decode(b: Uint8Array): unknown };
function frameCodec(c: FrameCodec): Codec {
  return {
    encode: (m) => c.encodeFrame(m, 1),
    decode: (b) => {
      const r = c.decodeFrame(b);
      if (r.status !== 'ok') throw new Error(`decode: ${r.status}`);
      return r.message;
    },
  };
}

const wasmAvailable = loadWasmCodec() !== null;
const codecs: Record<string, Codec> = {
  ...(wasmAvailable ? { wasm: frameCodec(wasmCodec) } : {}),
  ts: frameCodec(tsCodec),
  default: frameCodec({ name: 'default', encodeFrame, decodeFrame, encodeFrameInto: tsCodec.encodeFrameInto, encodedFrameSize: tsCodec.encodedFrameSize }),
  msgpackr: { encode: (m) => pack(m), decode: (b) => unpack(b) },
  'json+base64': { encode: (m) => jsonEncode(m as AppendEntriesRequest), decode: (b) => jsonDecode(b) },
};

const shapes = { 'AppendEntries x1': appendEntriesRequest(1, 'node-1', 'node-2'), 'AppendEntries x64': appendEntriesRequest(64, 'node-1', 'node-2') } as const;
let sink = 0;
const crcData = new Uint8Array(64 * 1024).map((_, i) => (i * 131) & 0xff);
const native = loadNative();
const crcPaths: Record<string, ((d: Uint8Array) => number) | null> = {
  native: native ? (d) => native.crc32c(d) : null,
  wasm: wasmAvailable ? (d) => wasmCodec.crc32c(d) : null,
  ts: (d) => crc32cTs(d),
};

// Tasks that are compared run next to each other (shape → op → codec), so a change in the load of
// this shared machine hits both sides of a ratio alike.
function makeBench(): Bench {
  const bench = new Bench({ time: timeMs, warmupTime: 100 });
  for (const [shape, message] of Object.entries(shapes)) {
    const encoded = Object.fromEntries(Object.entries(codecs).map(([name, codec]) => [name, codec.encode(message)]));
    for (const [name, codec] of Object.entries(codecs)) codec.decode(encoded[name]!); // fail before measuring
    for (const [name, codec] of Object.entries(codecs)) bench.add(`${shape} | encode | ${name}`, () => { sink ^= codec.encode(message).length; });
    for (const [name, codec] of Object.entries(codecs)) bench.add(`${shape} | decode | ${name}`, () => { sink ^= codec.decode(encoded[name]!) === null ? 1 : 0; });
    for (const [name, codec] of Object.entries(codecs)) bench.add(`${shape} | encode+decode | ${name}`, () => { sink ^= codec.decode(codec.encode(message)) === null ? 1 : 0; });
  }
  for (const [name, fn] of Object.entries(crcPaths)) {
    if (fn === null) continue;
    if (fn(crcData) !== crc32cTs(crcData)) throw new Error(`CRC32C ${name} disagrees with the reference`);
    bench.add(`CRC32C 64 KiB | checksum | ${name}`, () => { sink ^= fn(crcData); });
  }
  return bench;
}

const samples = new Map<string, { medianUs: number[]; opsPerSec: number[] }>();
for (let round = 0; round < rounds; round++) {
  const bench = makeBench();
  await bench.run();
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}`);
    const s = samples.get(task.name) ?? { medianUs: [], opsPerSec: [] };
    s.medianUs.push(result.latency.p50 * 1000);
    s.opsPerSec.push(result.throughput.p50);
    samples.set(task.name, s);
  }
  console.log(`round ${round + 1}/${rounds} done`);
}
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };

interface Row { shape: string; op: string; codec: string; medianUs: number; opsPerSecMedian: number; bytes?: number; vsMsgpackr?: number; vsJson?: number; vsTs?: number }
const rows: Row[] = [];
for (const [name, s] of samples) {
  const [shape, op, codec] = name.split(' | ') as [string, string, string];
  rows.push({ shape, op, codec, medianUs: median(s.medianUs), opsPerSecMedian: median(s.opsPerSec) });
}
const find = (shape: string, op: string, codec: string): Row | undefined => rows.find((r) => r.shape === shape && r.op === op && r.codec === codec);
for (const r of rows) {
  // Ratios are speed-ups: how many times faster this row is than the alternative (>1 = faster).
  const ratio = (codec: string): number | undefined => { const o = find(r.shape, r.op, codec); return o ? o.medianUs / r.medianUs : undefined; };
  if (r.shape.startsWith('AppendEntries')) {
    r.vsMsgpackr = ratio('msgpackr');
    r.vsJson = ratio('json+base64');
    r.bytes = codecs[r.codec]!.encode(shapes[r.shape as keyof typeof shapes]).length;
  }
  r.vsTs = ratio('ts');
}

const fastest: Record<string, string> = {};
for (const shape of Object.keys(shapes)) {
  for (const op of ['encode', 'decode']) {
    const w = find(shape, op, 'wasm');
    const t = find(shape, op, 'ts')!;
    fastest[`${shape} ${op}`] = w && w.medianUs < t.medianUs ? 'wasm' : 'ts';
  }
}
const target = find('AppendEntries x64', 'encode+decode', 'default')!;
const fmt = (n: number | undefined, digits = 2): string => (n === undefined ? '' : n.toFixed(digits));
console.table(rows.map((r) => ({
  shape: r.shape, op: r.op, codec: r.codec, 'median µs': fmt(r.medianUs), 'ops/s (median)': Math.round(r.opsPerSecMedian), bytes: r.bytes ?? '',
  '× vs msgpackr': fmt(r.vsMsgpackr), '× vs JSON+b64': fmt(r.vsJson), '× vs ts': fmt(r.vsTs),
})));
console.log('faster path per shape (median):', fastest);
console.log(`target (default, AppendEntries x64 encode+decode): ${fmt(target.vsMsgpackr)}× msgpackr (want ≥ 2), ${fmt(target.vsJson)}× JSON+base64 (want ≥ 10)`);
if (!native) console.log('CRC32C native: missing (addon not built or RAFTWIRE_NATIVE=0)');
if (!wasmAvailable) console.log('WASM codec: missing (run npm run build:wasm)');

const out = {
  name: 'codec',
  date: new Date().toISOString(),
  machine: machineInfo(),
  node: process.version,
  note: 'medians; shared 2-core machine with other work running, so figures are noisy. Ratios are speed-ups of the row over the named alternative, measured in the same run. msgpackr carries no checksum; raftwire frames include CRC32C.',
  timeMsPerTask: timeMs,
  rounds,
  nativeCrc32c: native ? (native.hardwareCrc ? 'sse4.2' : 'software') : 'missing',
  wasm: wasmAvailable ? 'loaded' : 'missing',
  fastestPath: fastest,
  target: { codec: 'default', shape: 'AppendEntries x64', op: 'encode+decode', vsMsgpackr: target.vsMsgpackr, vsJson: target.vsJson, wantVsMsgpackr: 2, wantVsJson: 10 },
  rows,
  sink,
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/codec.json', import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
console.log('wrote bench/results/codec.json');
