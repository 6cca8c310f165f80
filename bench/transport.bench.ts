/**
 * Transport speed, client and server in separate processes, every figure beside the alternatives
 * measured in the same run:
 * - shapes: AppendEntries with 64 entries of 100 bytes, empty AppendEntries (heartbeats), RequestVote;
 * - at 1 request in flight (tinybench: one RPC per iteration, so latency percentiles are per RPC)
 *   and at 256 in flight (a closed loop of 256 workers for a fixed time, per-RPC latencies recorded);
 * - transports: UwsNetwork, HttpNetwork (HTTP/JSON, the compatibility path), and a raw `node:net`
 *   length-prefixed echo of the same frame bytes with no decoding and batched writes: the limit of
 *   this machine for one TCP connection pair in Node.
 *
 * Prints a table and writes bench/results/transport.json (machine, Node version, date, figures and
 * ratios). The machine may be shared (2 cores, other helpers running): figures are noisy; the
 * client and the server also share those 2 cores.
 *
 * Run: `npm run bench:transport` (options: `-- --seconds 1.5 --rounds 3 --only uws,http,raw`).
 *
 * Why `ws` dials: `node --experimental-websocket --import tsx bench/transport.bench.ts --client-choice`
 * measures the two WebSocket clients Node 20 offers (`ws`, and undici's built-in `WebSocket`, which
 * Node 20 only exposes behind that flag) against the same uWS echo server in a child process, and
 * writes bench/results/transport-client-choice.json.
 * The same file is the server process: `tsx bench/transport.bench.ts --serve <uws|http|raw> <port>`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { encodeFrame } from '../src/codec/index.js';
import type { AppendEntriesRequest, RequestVoteRequest } from '../src/core/types.js';
import { HttpNetwork } from '../src/transport/http.js';
import { UwsNetwork } from '../src/transport/uws/network.js';
import type { NetworkInterface, RaftRpcHandlers } from '../src/transport/types.js';
import { appendEntriesRequest } from './fixtures.js';
import { parseBenchArgs } from './help.js';
import { machineInfo } from './machine.js';

const { values } = parseBenchArgs({
  options: {
    serve: { type: 'string' },
    port: { type: 'string', default: '0' },
    seconds: { type: 'string', default: '1.5' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string', default: 'uws,http,raw' },
    'client-choice': { type: 'boolean', default: false },
    out: { type: 'string' },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  allowPositionals: true,
}, 'npm run bench:transport -- --help');

if (values.help) {
  console.log(`npm run bench:transport -- [--seconds 1.5] [--rounds 3] [--only uws,http,raw]
Transport speed, client and server in separate processes: AppendEntries with 64×100-byte entries,
heartbeats and RequestVote, at 1 and at 256 requests in flight, for UwsNetwork, HttpNetwork
(HTTP/JSON) and a raw node:net length-prefixed echo (this machine's limit), all in the same run.

  --seconds S      length of each measurement                             [default: 1.5]
  --rounds N       rounds per figure; the median is kept                  [default: 3]
  --only LIST      which transports to measure                            [default: uws,http,raw]
  --client-choice  measure the WebSocket clients (ws, undici) instead; run with
                   node --experimental-websocket --import tsx bench/transport.bench.ts --client-choice
  --out FILE       results file [default: bench/results/transport.json, or
                   bench/results/transport-client-choice.json with --client-choice]
  --cpu-prof DIR   the server processes write V8 CPU profiles to DIR (read them with
                   npm run profile:tasks); the client runs in this process: profile it with
                   node --cpu-prof --cpu-prof-dir DIR --import tsx bench/transport.bench.ts
  -h, --help       show this text

Prints a table and writes the results file.`);
  process.exit(0);
}

const secret = 'bench-cluster-secret-0123456789';
type Kind = 'uws' | 'http' | 'raw';
type Shape = 'append64' | 'heartbeat' | 'vote';
const shapes: Shape[] = ['heartbeat', 'vote', 'append64'];
const inflights = [1, 256] as const;

const voteRequest: RequestVoteRequest = { type: 'RequestVote', from: 'n1', to: 'n2', term: 43, candidateId: 'n1', lastLogIndex: 1_000_063, lastLogTerm: 42, preVote: false, leadershipTransfer: false };
const requests: Record<Shape, AppendEntriesRequest | RequestVoteRequest> = { append64: appendEntriesRequest(64, 'n1', 'n2'), heartbeat: appendEntriesRequest(0, 'n1', 'n2'), vote: voteRequest };
const payloadBytes: Record<Shape, number> = { append64: 6400, heartbeat: 0, vote: 0 };

const handlers: RaftRpcHandlers = {
  onRequestVote: (req) => ({ term: req.term, voteGranted: true }),
  onAppendEntries: (req) => ({ term: req.term, success: true, lastLogIndex: req.prevLogIndex + req.entries.length }),
  onInstallSnapshot: (req) => ({ term: req.term }),
};

// ---------------- server process ----------------

async function serve(kind: Kind, port: number): Promise<void> {
  // Exit through process.exit so profilers (--cpu-prof) write their output.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
  if (kind === 'raw') {
    const answer = encodeFrame({ type: 'AppendEntriesResponse', from: 'n2', to: 'n1', term: 42, success: true, lastLogIndex: 1_000_063, conflictIndex: 0, conflictTerm: 0, context: 0 }, 1);
    const server = net.createServer((socket) => {
      socket.setNoDelay(true);
      let pending: Buffer = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        let offset = 0;
        let count = 0;
        while (pending.length - offset >= 4) {
          const length = pending.readUInt32LE(offset);
          if (pending.length - offset - 4 < length) break;
          offset += 4 + length;
          count++;
        }
        pending = pending.subarray(offset);
        if (count === 0) return;
        // One write per read: answers batch the way requests arrived.
        const out = Buffer.allocUnsafe(count * (4 + answer.length));
        for (let i = 0; i < count; i++) {
          out.writeUInt32LE(answer.length, i * (4 + answer.length));
          out.set(answer, i * (4 + answer.length) + 4);
        }
        socket.write(out);
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    process.stdout.write(`ready ${(server.address() as net.AddressInfo).port}\n`);
    return;
  }
  const network: UwsNetwork | HttpNetwork = kind === 'uws' ? new UwsNetwork('n2', { port, clusterSecret: secret, timeout: 30_000 }) : new HttpNetwork('n2', { port, timeout: 30_000 });
  network.registerHandlers(handlers);
  await network.start();
  process.stdout.write(`ready ${network.port}\n`);
}

// ---------------- client side ----------------

/** A raw length-prefixed client: answers come back in order, so a FIFO pairs them. */
class RawClient {
  private readonly socket: net.Socket;
  private readonly waiting: (() => void)[] = [];
  private waitingHead = 0;
  private outgoing: Buffer[] = [];
  private flushScheduled = false;
  private pending: Buffer = Buffer.alloc(0);

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends one prefixed frame; resolves on its answer. Writes of one turn leave as one write. */
  call(prefixed: Buffer): Promise<void> {
    this.outgoing.push(prefixed);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => {
        this.flushScheduled = false;
        const batch = this.outgoing;
        this.outgoing = [];
        this.socket.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch));
      });
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let offset = 0;
    while (this.pending.length - offset >= 4) {
      const length = this.pending.readUInt32LE(offset);
      if (this.pending.length - offset - 4 < length) break;
      offset += 4 + length;
      this.waiting[this.waitingHead++]!();
    }
    if (this.waitingHead > 4096 && this.waitingHead === this.waiting.length) {
      this.waiting.length = 0;
      this.waitingHead = 0;
    }
    this.pending = this.pending.subarray(offset);
  }

  close(): void {
    this.socket.destroy();
  }
}

type Caller = (shape: Shape) => Promise<unknown>;

function networkCaller(network: NetworkInterface): Caller {
  return (shape) => {
    const req = requests[shape];
    return req.type === 'RequestVote' ? network.sendRequestVote('n2', req) : network.sendAppendEntries('n2', req);
  };
}

function rawCaller(client: RawClient): Caller {
  const prefixed = Object.fromEntries(
    shapes.map((shape) => {
      const frame = encodeFrame(requests[shape], 1);
      const buf = Buffer.allocUnsafe(4 + frame.length);
      buf.writeUInt32LE(frame.length, 0);
      buf.set(frame, 4);
      return [shape, buf];
    }),
  ) as Record<Shape, Buffer>;
  return (shape) => client.call(prefixed[shape]);
}

function startServer(kind: Kind): Promise<{ child: ChildProcess; port: number }> {
  const self = fileURLToPath(import.meta.url);
  const profile = values['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', self, '--serve', kind, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /ready (\d+)/.exec(out);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
}

interface Figure {
  transport: Kind;
  shape: Shape;
  inflight: number;
  rpcsPerSecond: number;
  payloadMBPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  samples: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** One request in flight, measured by tinybench (one RPC per iteration). */
async function measureSerial(kind: Kind, shape: Shape, call: Caller, seconds: number): Promise<Figure> {
  const bench = new Bench({ time: seconds * 1000, warmupTime: 200, iterations: 50 });
  bench.add(`${kind} ${shape} x1`, () => call(shape));
  await bench.run();
  const task = bench.tasks[0]!;
  const result = task.result as unknown as { latency: { p50: number; p99: number; mean: number }; state?: string; error?: unknown };
  if (result.error !== undefined) throw result.error;
  const rpcsPerSecond = 1000 / result.latency.mean;
  return { transport: kind, shape, inflight: 1, rpcsPerSecond, payloadMBPerSecond: (rpcsPerSecond * payloadBytes[shape]) / 1e6, p50Ms: result.latency.p50, p99Ms: result.latency.p99, samples: task.runs };
}

/** `inflight` workers in a closed loop for `seconds` (after a short warm-up), every RPC timed. */
async function measureConcurrent(kind: Kind, shape: Shape, call: Caller, inflight: number, seconds: number): Promise<Figure> {
  const samplesMax = 4_000_000;
  const latencies = new Float64Array(samplesMax);
  let count = 0;
  let recording = false;
  let running = true;
  const worker = async (): Promise<void> => {
    while (running) {
      const t0 = performance.now();
      await call(shape);
      if (recording && count < samplesMax) latencies[count++] = performance.now() - t0;
    }
  };
  const workers = Array.from({ length: inflight }, worker);
  await new Promise((r) => setTimeout(r, 300));
  recording = true;
  const start = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  recording = false;
  const elapsedS = (performance.now() - start) / 1000;
  const recorded = count;
  running = false;
  await Promise.all(workers);
  const sorted = latencies.subarray(0, recorded).sort();
  const rpcsPerSecond = recorded / elapsedS;
  return { transport: kind, shape, inflight, rpcsPerSecond, payloadMBPerSecond: (rpcsPerSecond * payloadBytes[shape]) / 1e6, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), samples: recorded };
}

async function connect(kind: Kind): Promise<{ call: Caller; close: () => Promise<void> }> {
  const { child, port } = await startServer(kind);
  // A profiled server must exit by itself (SIGTERM → process.exit) to write its profile.
  const kill = async (): Promise<void> => {
    if (values['cpu-prof'] === undefined) {
      child.kill('SIGKILL');
      return;
    }
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  if (kind === 'raw') {
    const client = await RawClient.connect(port);
    return { call: rawCaller(client), close: async () => { client.close(); await kill(); } };
  }
  const network = kind === 'uws'
    ? new UwsNetwork('n1', { port: 0, nodeAddresses: { n2: `127.0.0.1:${port}` }, clusterSecret: secret, timeout: 30_000 })
    : new HttpNetwork('n1', { port: 0, nodeAddresses: { n2: `127.0.0.1:${port}` }, timeout: 30_000 });
  network.registerHandlers(handlers);
  await network.start();
  const call = networkCaller(network);
  await call('vote'); // connection up before anything is timed
  return { call, close: async () => { await network.stop(); await kill(); } };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function runClient(): Promise<void> {
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const kinds = values.only!.split(',') as Kind[];
  const connections = new Map<Kind, { call: Caller; close: () => Promise<void> }>();
  const figures: Figure[] = [];
  try {
    for (const kind of kinds) connections.set(kind, await connect(kind));
    // Transports take turns for each shape, round after round, so that load from other work on
    // this machine hits them alike; each figure is the median of its rounds.
    for (const shape of shapes) {
      for (const inflight of inflights) {
        const perKind = new Map<Kind, Figure[]>();
        for (let round = 0; round < rounds; round++) {
          for (const kind of kinds) {
            const { call } = connections.get(kind)!;
            const figure = inflight === 1 ? await measureSerial(kind, shape, call, seconds) : await measureConcurrent(kind, shape, call, inflight, seconds);
            perKind.set(kind, [...(perKind.get(kind) ?? []), figure]);
          }
        }
        for (const kind of kinds) {
          const runs = perKind.get(kind)!;
          const figure: Figure = {
            transport: kind, shape, inflight,
            rpcsPerSecond: median(runs.map((f) => f.rpcsPerSecond)),
            payloadMBPerSecond: median(runs.map((f) => f.payloadMBPerSecond)),
            p50Ms: median(runs.map((f) => f.p50Ms)),
            p99Ms: median(runs.map((f) => f.p99Ms)),
            samples: runs.reduce((sum, f) => sum + f.samples, 0),
          };
          figures.push(figure);
          console.error(`${kind.padEnd(5)} ${shape.padEnd(10)} x${String(inflight).padEnd(4)} ${Math.round(figure.rpcsPerSecond).toString().padStart(9)} RPC/s  p50 ${figure.p50Ms.toFixed(3)} ms  p99 ${figure.p99Ms.toFixed(3)} ms  (rounds: ${runs.map((f) => Math.round(f.rpcsPerSecond)).join(', ')})`);
        }
      }
    }
  } finally {
    for (const connection of connections.values()) await connection.close();
  }
  report(figures, seconds, rounds);
}

function report(figures: Figure[], seconds: number, rounds: number): void {
  const find = (t: Kind, s: Shape, i: number): Figure | undefined => figures.find((f) => f.transport === t && f.shape === s && f.inflight === i);
  const ratio = (a: number | undefined, b: number | undefined): number | null => (a === undefined || b === undefined || b === 0 ? null : a / b);
  const rows = figures.map((f) => {
    const http = find('http', f.shape, f.inflight);
    const raw = find('raw', f.shape, f.inflight);
    return {
      transport: f.transport,
      shape: f.shape,
      inflight: f.inflight,
      'RPC/s': Math.round(f.rpcsPerSecond),
      'payload MB/s': Number(f.payloadMBPerSecond.toFixed(1)),
      'p50 ms': Number(f.p50Ms.toFixed(3)),
      'p99 ms': Number(f.p99Ms.toFixed(3)),
      'x HTTP (RPC/s)': ratio(f.rpcsPerSecond, http?.rpcsPerSecond)?.toFixed(2) ?? '-',
      'of raw TCP (RPC/s)': ratio(f.rpcsPerSecond, raw?.rpcsPerSecond)?.toFixed(2) ?? '-',
      'p50 / raw p50': ratio(f.p50Ms, raw?.p50Ms)?.toFixed(2) ?? '-',
    };
  });
  console.table(rows);
  const uws = (s: Shape, i: number) => find('uws', s, i);
  const targets = {
    'uws >= 20x http, heartbeats @256': ratio(uws('heartbeat', 256)?.rpcsPerSecond, find('http', 'heartbeat', 256)?.rpcsPerSecond),
    'uws >= 20x http, votes @256': ratio(uws('vote', 256)?.rpcsPerSecond, find('http', 'vote', 256)?.rpcsPerSecond),
    'uws >= 0.6 raw, heartbeats @256': ratio(uws('heartbeat', 256)?.rpcsPerSecond, find('raw', 'heartbeat', 256)?.rpcsPerSecond),
    'uws >= 0.6 raw, append64 @256': ratio(uws('append64', 256)?.rpcsPerSecond, find('raw', 'append64', 256)?.rpcsPerSecond),
    'uws p50 <= 1.5x raw p50, heartbeat @1': ratio(uws('heartbeat', 1)?.p50Ms, find('raw', 'heartbeat', 1)?.p50Ms),
    'uws p50 <= 1.5x raw p50, append64 @1': ratio(uws('append64', 1)?.p50Ms, find('raw', 'append64', 1)?.p50Ms),
  };
  console.log('targets (measured ratio):');
  for (const [name, value] of Object.entries(targets)) console.log(`  ${name}: ${value === null ? 'n/a' : value.toFixed(2)}`);
  const result = {
    name: 'transport',
    date: new Date().toISOString(),
    node: process.version,
    machine: machineInfo(),
    method: {
      secondsPerRun: seconds,
      rounds,
      aggregation: 'each figure is the median over rounds; transports take turns within a round',
      inflight1: 'tinybench, one RPC per iteration; RPC/s = 1000 / mean latency; p50/p99 from tinybench latency samples',
      inflight256: 'closed loop of 256 concurrent callers for the whole duration after 300 ms warm-up; every RPC timed; RPC/s = RPCs completed / elapsed',
      processes: 'client in the bench process, server in a child process (node --import tsx), both on this machine, over 127.0.0.1',
      raw: 'node:net, u32 length prefix + the same codec frame bytes, answers a fixed AppendEntriesResponse frame; no decoding; writes batched per turn',
      noise: 'shared 2-core machine with other work running: figures are noisy; client and server share the cores',
      payload: 'payload MB/s counts entry bytes only (64 x 100 B per append64 RPC)',
    },
    figures,
    ratios: rows.map((r) => ({ transport: r.transport, shape: r.shape, inflight: r.inflight, vsHttp: r['x HTTP (RPC/s)'], ofRawTcp: r['of raw TCP (RPC/s)'], p50VsRaw: r['p50 / raw p50'] })),
    targets,
  };
  // A profiled run is slowed by the profiler: it is for finding out, not for the record.
  if (values['cpu-prof'] !== undefined && values.out === undefined) console.log(`not written to bench/results/transport.json (profiled run); pass --out to keep it; profiles in ${values['cpu-prof']}`);
  else writeResults(values.out ?? 'transport.json', result);
}

// ---------------- client choice: ws vs undici WebSocket ----------------

/** uWS server answering each message of n frames (u32 n first) with n * 60 bytes, like a batch of answers. */
async function serveEcho(): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
  const { default: uWS } = await import('uWebSockets.js');
  uWS.App()
    .ws('/raft', { maxPayloadLength: 1 << 24, message: (ws, message) => { ws.send(new Uint8Array(60 * new Uint32Array(message.slice(0, 4))[0]!), true); } })
    .listen('127.0.0.1', 0, (listenSocket) => {
      if (listenSocket !== false) process.stdout.write(`ready ${uWS.us_socket_local_port(listenSocket as never)}\n`);
    });
}

interface MinimalSocket {
  send(data: Uint8Array): void;
  close(): void;
  onMessage(listener: () => void): void;
}

async function clientChoice(seconds: number): Promise<void> {
  const { default: WsClient } = await import('ws');
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--serve', 'echo'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout!.on('data', (c: Buffer) => { const m = /ready (\d+)/.exec(c.toString()); if (m) resolve(Number(m[1])); }));
  const url = `ws://127.0.0.1:${port}/raft`;
  const clients: Record<string, () => Promise<MinimalSocket>> = {
    // Configured as UwsNetwork dials: an all-zero mask (no copy and XOR pass per message).
    ws: () => new Promise((resolve) => {
      const ws = new WsClient(url, { perMessageDeflate: false, generateMask: (mask: Uint8Array) => { mask.fill(0); }, skipUTF8Validation: true });
      ws.once('open', () => resolve({ send: (d) => ws.send(d), close: () => ws.close(), onMessage: (l) => ws.on('message', l) }));
    }),
  };
  const Native = (globalThis as { WebSocket?: new (url: string) => { binaryType: string; send(d: Uint8Array): void; close(): void; addEventListener(e: string, l: () => void, o?: object): void } }).WebSocket;
  if (Native !== undefined) {
    clients['undici WebSocket'] = () => new Promise((resolve) => {
      const ws = new Native(url);
      ws.binaryType = 'arraybuffer';
      ws.addEventListener('open', () => resolve({ send: (d) => ws.send(d), close: () => ws.close(), onMessage: (l) => ws.addEventListener('message', l) }), { once: true });
    });
  }
  const loads = [
    { name: '1 frame of 60 B', frames: 1, bytes: 60 },
    { name: '256 frames of 60 B', frames: 256, bytes: 60 * 256 },
    { name: '32 frames of 8000 B', frames: 32, bytes: 8000 * 32 },
    { name: '1 frame of 1 MiB', frames: 1, bytes: 1 << 20 },
  ];
  const rows: { client: string; load: string; roundTripsPerSecond: number; framesPerSecond: number }[] = [];
  for (const load of loads) {
    for (const [name, open] of Object.entries(clients)) {
      const socket = await open();
      const payload = new Uint8Array(load.bytes);
      new DataView(payload.buffer).setUint32(0, load.frames, true);
      let count = 0;
      const start = performance.now();
      const until = start + seconds * 1000;
      await new Promise<void>((resolve) => {
        socket.onMessage(() => {
          count++;
          if (performance.now() > until) resolve();
          else socket.send(payload);
        });
        socket.send(payload);
      });
      const elapsedS = (performance.now() - start) / 1000;
      socket.close();
      rows.push({ client: name, load: load.name, roundTripsPerSecond: Math.round(count / elapsedS), framesPerSecond: Math.round((count * load.frames) / elapsedS) });
    }
  }
  child.kill('SIGKILL');
  const withRatios = rows.map((row) => {
    const ws = rows.find((r) => r.load === row.load && r.client === 'ws')!;
    return { ...row, 'x ws': Number((row.roundTripsPerSecond / ws.roundTripsPerSecond).toFixed(2)) };
  });
  console.table(withRatios);
  if (Native === undefined) console.log('undici WebSocket not available: run with node --experimental-websocket to compare');
  writeResults(values.out ?? 'transport-client-choice.json', { name: 'transport-client-choice', date: new Date().toISOString(), node: process.version, machine: machineInfo(), noise: 'shared 2-core machine; one run per row', rows: withRatios });
}

/** Writes `result` to `file`: a bare name goes under bench/results/, a path is taken as given. */
function writeResults(file: string, result: unknown): void {
  const path = file.includes('/') ? resolve(file) : fileURLToPath(new URL(`./results/${file}`, import.meta.url));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${path}`);
}

if (values.serve === 'echo') await serveEcho();
else if (values.serve !== undefined) await serve(values.serve as Kind, Number(values.port));
else if (values['client-choice']) await clientChoice(Number(values.seconds));
else await runClient();
