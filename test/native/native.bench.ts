/**
 * Native addon micro-benchmarks, every figure beside what a user would pick instead, in the same run:
 *
 * - CRC32C by input size: the addon (SSE4.2, three chains), its portable kernel, WASM (copy into
 *   its memory included), the TS reference, raftwire's dispatching `crc32c`, and Node's own
 *   `zlib.crc32` (plain CRC-32, another polynomial: what a user without an addon reaches for).
 * - Buffers: a `BufferPool` acquire+release (native slabs and JS slabs) against
 *   `Buffer.allocUnsafe`, `Buffer.alloc` and `new Uint8Array`, one at a time and 64 held at once.
 * - One N-API call (the addon's crc32c on 0 bytes): the floor cost of any native bookkeeping, the
 *   reason the pool's free lists are JS (docs/native.md).
 *
 * Prints a table and writes bench/results/native.json (machine, Node version, date, medians,
 * ratios). The machine is shared (2 cores, other work running): treat figures as noisy.
 *
 * Run: `npx tsx test/native/native.bench.ts` (options: `--time-ms 200 --rounds 3`; each figure is
 * the median over rounds of tinybench's per-task median latency).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { Bench } from 'tinybench';
import { BufferPool } from '../../src/codec/buffer-pool.js';
import { crc32c, crc32cImplementation } from '../../src/codec/crc32c.js';
import { crc32cTs } from '../../src/codec/crc32c-ts.js';
import { loadNative } from '../../src/codec/native.js';
import { loadWasmCodec } from '../../src/codec/wasm.js';
import { machineInfo } from '../../bench/machine.js';
import { exitWithHelpIfAsked } from '../../bench/help.js';

exitWithHelpIfAsked(`
npm run bench:native -- [--rounds 3] [--time-ms 200]
The native addon's CRC32C and buffer pool beside the WASM/TypeScript paths and plain allocation.
  --rounds N     rounds; figures are medians over rounds   [3]
  --time-ms T    tinybench time per task per round        [200]
`);

const { values } = parseArgs({ options: { 'time-ms': { type: 'string', default: '200' }, rounds: { type: 'string', default: '3' } } });
const timeMs = Number(values['time-ms']);
const rounds = Number(values.rounds);

const native = loadNative();
const wasm = loadWasmCodec();
const zlibCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;
const crcSizes = [16, 64, 96, 256, 512, 1024, 4096, 65536];
const poolSizes = [100, 1500, 16384];
let sink = 0;

const crcPaths: Record<string, ((d: Uint8Array) => number) | undefined> = {
  native: native ? (d) => native.crc32c(d) : undefined,
  'native-software': native ? (d) => native.crc32cSoftware(d) : undefined,
  wasm: wasm ? (d) => wasm.crc32c(d) : undefined,
  ts: (d) => crc32cTs(d),
  'crc32c()': (d) => crc32c(d),
  'zlib.crc32 (CRC-32)': zlibCrc32,
};

function bytes(size: number): Uint8Array {
  return new Uint8Array(size).map((_, i) => (i * 131 + 7) & 0xff);
}

type Alloc = { acquire(size: number): Uint8Array; release(buf: Uint8Array): void };
const nativePool = native ? new BufferPool({ native: true }) : undefined;
const jsPool = new BufferPool({ native: false });
const allocators: Record<string, Alloc | undefined> = {
  'pool (native slabs)': nativePool,
  'pool (js slabs)': jsPool,
  'Buffer.allocUnsafe': { acquire: (n) => Buffer.allocUnsafe(n), release: () => {} },
  'Buffer.alloc': { acquire: (n) => Buffer.alloc(n), release: () => {} },
  'new Uint8Array': { acquire: (n) => new Uint8Array(n), release: () => {} },
};

// Compared tasks run next to each other, so a change in load hits both sides of a ratio alike.
function makeBench(): Bench {
  const bench = new Bench({ time: timeMs, warmupTime: 50 });
  for (const size of crcSizes) {
    const data = bytes(size);
    for (const [name, fn] of Object.entries(crcPaths)) {
      if (fn === undefined) continue;
      if (!name.startsWith('zlib') && fn(data) !== crc32cTs(data)) throw new Error(`CRC32C ${name} disagrees with the reference at ${size} bytes`);
      bench.add(`crc32c | ${size} B | ${name}`, () => { sink ^= fn(data); });
    }
  }
  const held: Uint8Array[] = [];
  for (const size of poolSizes) {
    for (const [name, alloc] of Object.entries(allocators)) {
      if (alloc === undefined) continue;
      bench.add(`acquire+release | ${size} B x1 | ${name}`, () => {
        const buf = alloc.acquire(size);
        buf[0] = 1;
        alloc.release(buf);
      });
      bench.add(`acquire+release | ${size} B x64 held | ${name}`, () => {
        for (let i = 0; i < 64; i++) {
          const buf = alloc.acquire(size);
          buf[0] = i;
          held.push(buf);
        }
        for (let i = 0; i < 64; i++) alloc.release(held.pop()!);
      });
    }
  }
  if (native) {
    const empty = new Uint8Array(0);
    // 64 calls per sample: one call is close to the timer's own cost.
    bench.add('N-API call | 0 B x64 | native crc32c', () => {
      for (let i = 0; i < 64; i++) sink ^= native.crc32c(empty);
    });
  }
  return bench;
}

const samples = new Map<string, number[]>();
for (let round = 0; round < rounds; round++) {
  const bench = makeBench();
  await bench.run();
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}`);
    samples.set(task.name, [...(samples.get(task.name) ?? []), result.latency.p50 * 1000]);
  }
  console.log(`round ${round + 1}/${rounds} done`);
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Row { group: string; size: string; path: string; medianNs: number; gbPerSec?: number; vsBaseline?: number; baseline?: string }
const rows: Row[] = [...samples].map(([name, us]) => {
  const [group, size, path] = name.split(' | ') as [string, string, string];
  return { group, size, path, medianNs: median(us) * 1000 };
});
const find = (group: string, size: string, path: string): Row | undefined => rows.find((r) => r.group === group && r.size === size && r.path === path);
for (const r of rows) {
  // Ratios are speed-ups over the baseline a user would otherwise use (>1 = this row is faster).
  r.baseline = r.group === 'crc32c' ? 'ts' : r.group === 'acquire+release' ? 'Buffer.allocUnsafe' : undefined;
  const base = r.baseline === undefined ? undefined : find(r.group, r.size, r.baseline);
  if (base) r.vsBaseline = base.medianNs / r.medianNs;
  if (r.group === 'crc32c') r.gbPerSec = Number.parseInt(r.size, 10) / r.medianNs;
}

const fmt = (n: number | undefined, digits = 2): string => (n === undefined ? '' : n.toFixed(digits));
console.table(rows.map((r) => ({
  what: r.group, size: r.size, path: r.path, 'median ns': fmt(r.medianNs, 0), 'GB/s': fmt(r.gbPerSec),
  '× vs baseline': fmt(r.vsBaseline), baseline: r.baseline ?? '',
})));
// Per-operation figures from the x64 tasks: a single op is too close to the timer's resolution.
const per64 = (row: Row | undefined): number | undefined => (row === undefined ? undefined : row.medianNs / 64);
const napiNs = per64(find('N-API call', '0 B x64', 'native crc32c'));
const poolOpNs = Object.fromEntries(
  poolSizes.flatMap((size) => Object.keys(allocators).map((name) => [`${size} B ${name}`, per64(find('acquire+release', `${size} B x64 held`, name))])),
);
if (napiNs !== undefined) {
  const jsPoolNs = poolOpNs['1500 B pool (js slabs)']!;
  console.log(`one N-API call: ${fmt(napiNs, 0)} ns; a whole JS-bookkept acquire+release (1500 B): ${fmt(jsPoolNs, 0)} ns (a native free list needs two calls)`);
}
console.log('acquire+release per buffer (ns, from the x64 tasks):', Object.fromEntries(Object.entries(poolOpNs).map(([k, v]) => [k, fmt(v, 0)])));
console.log(`crc32c() large-input path: ${crc32cImplementation()}`);

const out = {
  name: 'native',
  date: new Date().toISOString(),
  machine: machineInfo(),
  node: process.version,
  note: 'medians of per-round tinybench medians; shared 2-core machine with other work running, so figures are noisy. vsBaseline = baseline median / row median (>1 = faster). zlib.crc32 is plain CRC-32 (another polynomial), shown as the built-in a user might reach for.',
  timeMsPerTask: timeMs,
  rounds,
  nativeCrc32c: native ? (native.hardwareCrc ? 'sse4.2' : 'software') : 'missing',
  wasm: wasm ? 'loaded' : 'missing',
  crc32cLargePath: crc32cImplementation(),
  napiCallNs: napiNs,
  acquireReleasePerBufferNs: poolOpNs,
  rows,
  sink,
};
mkdirSync(new URL('../../bench/results/', import.meta.url), { recursive: true });
writeFileSync(new URL('../../bench/results/native.json', import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
console.log('wrote bench/results/native.json');
