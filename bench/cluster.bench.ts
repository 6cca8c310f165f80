/**
 * Whole-cluster benchmark: 3 raftwire processes with durable LMDB logs (fsync on every commit),
 * the load generator in its own process (bench/cluster-loadgen.mjs), closed-loop clients against
 * the leader. For writes, linearizable reads and lease reads, at each concurrency: ops/s, p50 and
 * p99 over HTTP keep-alive and over the binary WebSocket protocol, and WebSocket/HTTP as a ratio
 * (HTTP/JSON is what a user of an HTTP KV store would use instead). HTTP load comes from wrk (installed
 * with apt-get when missing, `--http-client node` for the Node generator); WebSocket load from
 * RaftwireWsClient in bench/cluster-loadgen.mjs. Then failover: the leader is
 * killed with SIGKILL and the time to the first acknowledged write is measured.
 *
 * Run: `npm run bench:cluster` (`-- --help` lists the options). Writes bench/results/cluster.json
 * (not with `--unsafe-no-fsync`, `--cpu-prof`, `--alloc-prof` or a subset of ops, which are for finding out, not
 * for the record: then `--out` names the file). Everything shares this machine's cores: the nodes,
 * the load generator and anything else running.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RaftwireClient, RaftwireWsClient } from '../src/client/index.js';
import { BenchCluster } from './cluster-process.js';
import { ensureWrk, runWrk } from './cluster-wrk.js';
import { parseBenchArgs } from './help.js';
import { machineInfo } from './machine.js';

const { values } = parseBenchArgs({
  options: {
    concurrency: { type: 'string', default: '1,16,64,256' },
    'duration-ms': { type: 'string', default: '3000' },
    protocols: { type: 'string', default: 'http,ws' },
    ops: { type: 'string', default: 'write,linearizable,lease' },
    failovers: { type: 'string', default: '3' },
    'http-client': { type: 'string', default: 'wrk' },
    'election-timeout': { type: 'string' },
    'repeats-single': { type: 'string', default: '3' },
    heartbeat: { type: 'string' },
    'storage-writes': { type: 'string' },
    keys: { type: 'string', default: '1024' },
    'unsafe-no-fsync': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'alloc-prof': { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
}, 'npm run bench:cluster -- --help');

if (values.help) {
  console.log(`bench:cluster: 3 node processes, durable LMDB, wrk (HTTP) and RaftwireWsClient (WebSocket)

Options (npm run bench:cluster -- --option value):
  --concurrency <list>      closed-loop clients per run                    [1,16,64,256]
  --duration-ms <ms>        length of each run                             [3000]
  --protocols <list>        http,ws                                        [http,ws]
  --ops <list>              write,linearizable,lease                       [all three]
  --failovers <n>           leader SIGKILLs, time to first acknowledged write  [3]
  --election-timeout <a-b>  nodes' election timeout, ms                    [the default, 150-300]
  --heartbeat <ms>          nodes' heartbeat interval                      [the default, 50]
  --storage-writes <m>      nodes' Ready processing: async or sync          [the default, sync]
  --http-client <c>         wrk or node                                    [wrk]
  --keys <n>                key space, preloaded with 100-byte values before the runs; a large
                            one makes snapshots large (200000: 24 MB)      [1024]
  --repeats-single <n>      runs per protocol at 1 client, taking turns; the median is kept  [3]
  --unsafe-no-fsync         UNSAFE: the nodes' logs never fsync; shows the ceiling of all that is
                            not the disk. Results go to --out, never to cluster.json
  --cpu-prof <dir>          nodes write V8 CPU profiles (.cpuprofile) to <dir> when they stop
  --alloc-prof <dir>        nodes write allocation profiles (.heapprofile, collected objects
                            included) and the run's client operations (ops.json) to <dir>;
                            npm run profile:alloc -- <dir> prints bytes per operation
                            (counted after the preload; use with --failovers 0)
  --out <file>              results file                    [bench/results/cluster.json]`);
  process.exit(0);
}
const concurrencies = values.concurrency.split(',').map(Number);
const protocols = values.protocols.split(',');
const ops = values.ops.split(',').filter(Boolean); // --ops '' measures failover only
const durationMs = Number(values['duration-ms']);
const keys = Number(values.keys);
if (!Number.isSafeInteger(keys) || keys < 1) throw new Error('--keys needs a positive integer');

interface Run {
  ops: number;
  errors: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
}

const useWrk = values['http-client'] === 'wrk' && ensureWrk((line) => process.stderr.write(`${line}\n`));
const httpClient = useWrk ? 'wrk' : 'node http (bench/cluster-loadgen.mjs)';

/** `http-node`: HTTP from the Node load generator even when wrk drives the `http` runs. */
function loadgen(url: string, protocol: string, op: string, concurrency: number): Promise<Run> {
  if (protocol === 'http' && useWrk) return runWrk(url, op, concurrency, durationMs, keys);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, 'cluster-loadgen.mjs'), '--url', url, '--protocol', protocol === 'http-node' ? 'http' : protocol, '--op', op, '--concurrency', String(concurrency), '--duration-ms', String(durationMs), '--keys', String(keys)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as Run) : reject(new Error(`loadgen exited ${code}`))));
  });
}

/**
 * The disk's raw rate of small synced appends (write 128 bytes + fdatasync, one at a time) in the
 * nodes' data directory, for `durationMs`: a durable write can be acknowledged no faster than its
 * leader and one follower can each sync once, so this is the ceiling of unbatched durable writes.
 */
function fdatasyncPerSecond(dir: string, durationMs: number): number {
  const path = join(dir, 'fdatasync-probe');
  const fd = openSync(path, 'w');
  const record = Buffer.alloc(128, 1);
  let count = 0;
  const started = performance.now();
  try {
    while (performance.now() - started < durationMs) {
      writeSync(fd, record);
      fdatasyncSync(fd);
      count++;
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  return Math.round(count / ((performance.now() - started) / 1000));
}

/**
 * CPU seconds the node processes have used (all their threads, /proc/<pid>/stat utime + stime).
 * CPU per operation is steadier than ops/s on a machine others share: it does not drop when
 * another process takes a core, so it shows whether a change made the nodes cheaper.
 */
function nodesCpuSeconds(cluster: BenchCluster): number {
  let ticks = 0;
  for (const child of cluster.processes.values()) {
    try {
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      return NaN; // not Linux, or the process is gone
    }
  }
  return ticks / 100; // USER_HZ
}

/**
 * What the nodes report, read once per node: the highest term (terms only grow, so the difference
 * counts elections) and the InstallSnapshot RPCs sent (from /metrics: a follower that falls behind
 * the leader's compacted log needs the whole state, which with a large cache is a stall).
 */
async function countersOf(cluster: BenchCluster): Promise<{ term: number; snapshotsSent: number }> {
  let term = 0;
  let snapshotsSent = 0;
  for (const id of cluster.processes.keys()) {
    try {
      term = Math.max(term, ((await cluster.status(id)) as unknown as { term: number }).term);
      const text = await (await fetch(`${cluster.peers[id]!.client}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
      for (const match of text.matchAll(/^raft_rpc_seconds_count\{[^}]*type="InstallSnapshot"[^}]*\} (\d+)/gm)) snapshotsSent += Number(match[1]);
    } catch {
      // a node restarting: the others say (its snapshot count is lost with it; the row says fewer)
    }
  }
  return { term, snapshotsSent };
}

/**
 * Writes keys k0..k<keys-1> with 100-byte values, printing progress on long ones: 256 at a time
 * over one pipelined WebSocket to the leader (over HTTP, 64 at a time, it managed about 1,000
 * keys/s, and 200,000 keys took 200 s). A write that fails there (leadership moved) is retried
 * through the HTTP client, which finds the leader itself.
 */
async function preload(client: RaftwireClient, leaderUrl: string, keys: number): Promise<void> {
  const value = 'x'.repeat(100);
  const bytes = new TextEncoder().encode(value);
  const started = performance.now();
  const ws = await RaftwireWsClient.connect(leaderUrl, { discoverMembers: false });
  let next = 0;
  let done = 0;
  const step = Math.max(10_000, Math.ceil(keys / 10));
  try {
    await Promise.all(
      Array.from({ length: Math.min(256, keys) }, async () => {
        while (next < keys) {
          const key = `k${next++}`;
          await ws.set(key, bytes).catch(() => client.put(key, value));
          if (++done % step === 0) process.stderr.write(`  preloaded ${done} of ${keys} keys (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
        }
      }),
    );
  } finally {
    ws.close();
  }
}

/** Issue #6's targets, checked against the measured rows. */
function targets(rows: Record<string, unknown>[], failoverMedianMs: number | undefined): { target: string; measured: string; met: boolean }[] {
  const cell = (op: string, c: number, p: string) => (rows.find((r) => r.op === op && r.concurrency === c)?.[p] as (Run & { opsPerSecond: number }) | undefined);
  const out: { target: string; measured: string; met: boolean }[] = [];
  const add = (target: string, value: number | undefined, goal: number, better: 'higher' | 'lower', unit: string) => {
    if (value === undefined || Number.isNaN(value)) return;
    out.push({ target, measured: `${Number(value.toFixed(3))} ${unit} (${(value / goal).toFixed(2)}x of target)`, met: better === 'higher' ? value >= goal : value < goal });
  };
  for (const p of protocols) {
    add(`${p}: durable writes, 64 clients >= 40,000/s`, cell('write', 64, p)?.opsPerSecond, 40_000, 'higher', 'ops/s');
    add(`${p}: linearizable reads, 64 clients >= 100,000/s`, cell('linearizable', 64, p)?.opsPerSecond, 100_000, 'higher', 'ops/s');
    add(`${p}: writes, 64 clients, p99 < 10 ms`, cell('write', 64, p)?.p99Ms, 10, 'lower', 'ms');
    add(`${p}: linearizable reads, 64 clients, p99 < 10 ms`, cell('linearizable', 64, p)?.p99Ms, 10, 'lower', 'ms');
    add(`${p}: write, 1 client, p50 < 0.4 ms`, cell('write', 1, p)?.p50Ms, 0.4, 'lower', 'ms');
    add(`${p}: linearizable read, 1 client, p50 < 0.4 ms`, cell('linearizable', 1, p)?.p50Ms, 0.4, 'lower', 'ms');
  }
  for (const r of rows) {
    const h = r.http as { opsPerSecond: number } | undefined;
    const w = r.ws as { opsPerSecond: number } | undefined;
    if (h && w) out.push({ target: `WebSocket beats HTTP: ${r.op}, ${r.concurrency} clients`, measured: `ws/http ${(w.opsPerSecond / h.opsPerSecond).toFixed(2)}x`, met: w.opsPerSecond > h.opsPerSecond });
    const ratio = r.wsOverHttpNode as number | undefined;
    if (ratio !== undefined) out.push({ target: `WebSocket beats HTTP, both from Node: ${r.op}, ${r.concurrency} client`, measured: `ws/http ${ratio.toFixed(2)}x`, met: ratio > 1 });
  }
  add(`failover (default timeouts) < 1 s`, failoverMedianMs, 1000, 'lower', 'ms');
  return out;
}

async function main(): Promise<void> {
  // The nodes run the compiled package (bench/cluster-node.mjs says why): compile it from the
  // sources in this checkout so the figures are never those of a stale dist/.
  process.stderr.write('compiling dist/ (tsc -p tsconfig.build.json)…\n');
  execFileSync(process.execPath, [join(import.meta.dirname, '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(import.meta.dirname, '..', 'tsconfig.build.json')], { stdio: 'inherit' });
  const nodeArgs: string[] = [];
  if (values['election-timeout']) nodeArgs.push('--election-timeout', values['election-timeout']);
  if (values.heartbeat) nodeArgs.push('--heartbeat', values.heartbeat);
  if (values['storage-writes']) nodeArgs.push('--storage-writes', values['storage-writes']);
  const cluster = new BenchCluster(['n1', 'n2', 'n3'], nodeArgs, { unsafeNoFsync: values['unsafe-no-fsync'], cpuProfDir: values['cpu-prof'], allocProfDir: values['alloc-prof'] });
  if (values['alloc-prof']) mkdirSync(values['alloc-prof'], { recursive: true });
  // Every client operation after the preload, failover writes included: the denominator of the
  // allocation profiles' bytes per operation.
  let clientOps = 0;
  let lastLeader = '';
  await cluster.init();
  cluster.startAll();
  const rows: Record<string, unknown>[] = [];
  const electionTimeoutMs = values['election-timeout'] ?? '150-300 (default)';
  const storage = values['unsafe-no-fsync'] ? 'LmdbLogStore, UNSAFE: no fsync (--unsafe-no-fsync)' : 'LmdbLogStore, durable (fsync per commit)';
  const diskFdatasyncPerSecond = fdatasyncPerSecond(cluster.dataRoot, 1000);
  process.stderr.write(`disk: ${diskFdatasyncPerSecond} fdatasync/s (128-byte appends, one at a time)\n`);
  try {
    let leader = await cluster.awaitLeader();
    const client = cluster.client();
    process.stderr.write(`cluster up, leader ${leader}; preloading ${keys} keys\n`);
    await preload(client, cluster.peers[leader]!.client, keys);
    // Allocation profiles count from here: start-up and preload are not the operations measured.
    if (values['alloc-prof']) cluster.signalAll('SIGUSR2');
    for (const op of ops) {
      for (const concurrency of concurrencies) {
        const row: Record<string, unknown> = { op, concurrency };
        // Protocols take turns, `repeats` times each, and each keeps its median run: one client's
        // figures swing 2x from run to run with where the OS places the processes on two cores.
        const repeats = concurrency === 1 ? Number(values['repeats-single']) : 1;
        const runs: Record<string, { opsPerSecond: number; p50Ms: number; p99Ms: number; errors: number; nodesCpuUsPerOp: number; newTerms: number; snapshotsSent: number }[]> = {};
        // At one client the client's own cost decides (wrk is C, the WebSocket client is Node): HTTP
        // from the Node generator as well shows the two protocols with the same client runtime.
        const sameClient = concurrency === 1 && useWrk && protocols.includes('http') && protocols.includes('ws');
        for (let r = 0; r < repeats; r++) {
          for (const protocol of sameClient ? [...protocols, 'http-node'] : protocols) {
            leader = await cluster.awaitLeader();
            const cpuBefore = nodesCpuSeconds(cluster);
            const before = await countersOf(cluster);
            const run = await loadgen(cluster.peers[leader]!.client, protocol, op, concurrency);
            clientOps += run.ops;
            lastLeader = leader;
            const cpuUsPerOp = Math.round(((nodesCpuSeconds(cluster) - cpuBefore) * 1e6) / Math.max(1, run.ops));
            // Elections during the run: a node that stalls past an election timeout costs one.
            const after = await countersOf(cluster);
            const newTerms = after.term - before.term;
            const snapshotRpcs = after.snapshotsSent - before.snapshotsSent;
            (runs[protocol] ??= []).push({ opsPerSecond: Math.round(run.ops / run.seconds), p50Ms: run.p50Ms, p99Ms: run.p99Ms, errors: run.errors, nodesCpuUsPerOp: cpuUsPerOp, newTerms, snapshotsSent: snapshotRpcs });
            process.stderr.write(`${op} c=${concurrency} ${protocol}: ${Math.round(run.ops / run.seconds)} ops/s p50 ${run.p50Ms.toFixed(3)} ms p99 ${run.p99Ms.toFixed(3)} ms errors ${run.errors}, nodes' cpu ${cpuUsPerOp} us/op, new terms ${newTerms}, InstallSnapshot RPCs ${snapshotRpcs}\n`);
          }
        }
        for (const [protocol, list] of Object.entries(runs)) {
          list.sort((a, b) => a.opsPerSecond - b.opsPerSecond);
          row[protocol] = { ...list[Math.floor(list.length / 2)]!, ...(list.length > 1 ? { runsOpsPerSecond: list.map((x) => x.opsPerSecond) } : {}) };
        }
        const h = row.http as { opsPerSecond: number } | undefined;
        const w = row.ws as { opsPerSecond: number } | undefined;
        if (h && w) row.wsOverHttp = Number((w.opsPerSecond / h.opsPerSecond).toFixed(2));
        const hn = row['http-node'] as { opsPerSecond: number } | undefined;
        if (hn && w) row.wsOverHttpNode = Number((w.opsPerSecond / hn.opsPerSecond).toFixed(2));
        rows.push(row);
      }
    }

    const failovers: number[] = [];
    for (let i = 0; i < Number(values.failovers); i++) {
      leader = await cluster.awaitLeader(cluster.ids);
      // The writer knows every node and talks to the leader, as a client does when the leader dies:
      // it must notice the refused connection and find the new leader by itself.
      const order = [leader, ...cluster.ids.filter((id) => id !== leader)];
      const writer = new RaftwireClient({ endpoints: order.map((id) => cluster.peers[id]!.client), timeoutMs: 1000, maxRetries: 1000 });
      await writer.put('failover', 'before');
      const killedAt = performance.now();
      await cluster.kill(leader);
      await writer.put('failover', String(i));
      failovers.push(performance.now() - killedAt);
      clientOps += 2;
      process.stderr.write(`failover ${i + 1}: ${failovers.at(-1)!.toFixed(0)} ms\n`);
      cluster.start(leader); // back to three for the next round
    }
    failovers.sort((a, b) => a - b);

    // What a server that does nothing reaches with the same client on the same cores, for reads.
    const ceiling: Record<number, number> = {};
    if (useWrk && protocols.includes('http') && ops.some((op) => op !== 'write')) {
      const bare = await startBareUws();
      try {
        for (const concurrency of concurrencies) {
          const run = await runWrk(`http://127.0.0.1:${bare.port}`, 'lease', concurrency, durationMs);
          ceiling[concurrency] = Math.round(run.ops / run.seconds);
          process.stderr.write(`bare uWS (no Raft, no storage) c=${concurrency}: ${ceiling[concurrency]} ops/s\n`);
        }
      } finally {
        bare.stop();
      }
      for (const row of rows) {
        const h = row.http as { opsPerSecond: number } | undefined;
        const limit = ceiling[row.concurrency as number];
        if (row.op !== 'write' && h && limit) row.httpOverBareUws = Number((h.opsPerSecond / limit).toFixed(2));
      }
    }

    console.table(
      rows.map((r) => {
        const h = r.http as Run & { opsPerSecond: number };
        const w = r.ws as Run & { opsPerSecond: number };
        return {
          op: r.op,
          clients: r.concurrency,
          'http ops/s': h?.opsPerSecond,
          'http p50 ms': h?.p50Ms.toFixed(3),
          'http p99 ms': h?.p99Ms.toFixed(3),
          'ws ops/s': w?.opsPerSecond,
          'ws p50 ms': w?.p50Ms.toFixed(3),
          'ws p99 ms': w?.p99Ms.toFixed(3),
          'cpu us/op http': (h as unknown as { nodesCpuUsPerOp?: number })?.nodesCpuUsPerOp,
          'cpu us/op ws': (w as unknown as { nodesCpuUsPerOp?: number })?.nodesCpuUsPerOp,
          'new terms': ((h as unknown as { newTerms?: number })?.newTerms ?? 0) + ((w as unknown as { newTerms?: number })?.newTerms ?? 0),
          'snapshots sent': ((h as unknown as { snapshotsSent?: number })?.snapshotsSent ?? 0) + ((w as unknown as { snapshotsSent?: number })?.snapshotsSent ?? 0),
          'ws/http': r.wsOverHttp,
          ...(r.wsOverHttpNode !== undefined ? { 'ws/http, Node clients': r.wsOverHttpNode } : {}),
          ...(r.httpOverBareUws !== undefined ? { 'http/bare uWS': r.httpOverBareUws } : {}),
          ...(r.op === 'write' ? { 'ws ops/fdatasync': (w?.opsPerSecond / diskFdatasyncPerSecond).toFixed(2) } : {}),
        };
      }),
    );
    const failoverMedianMs = failovers[Math.floor(failovers.length / 2)];
    if (Object.keys(ceiling).length > 0) {
      console.log(`bare uWS HTTP server (no Raft, no storage; bench/uws-hello.mjs) with the same wrk: ${Object.entries(ceiling).map(([c, v]) => `${v} ops/s at ${c}`).join(', ')}; reads beside it in 'http/bare uWS'`);
    }
    console.log(`storage: ${storage}; disk: ${diskFdatasyncPerSecond} fdatasync/s measured in this run (writes/s beside it in 'ws ops/fdatasync')`);
    if (failovers.length === 0) console.log('failover: not measured (--failovers 0)');
    else console.log(`failover (leader SIGKILL → first acknowledged write, election timeout ${electionTimeoutMs} ms): median ${failoverMedianMs?.toFixed(0)} ms over ${failovers.length} (${failovers.map((f) => f.toFixed(0)).join(', ')} ms)`);
    const checked = targets(rows, failoverMedianMs);
    console.log(`issue #6 targets: ${checked.filter((t) => t.met).length} of ${checked.length} met`);
    console.table(checked);
    const record = !values['unsafe-no-fsync'] && !values['cpu-prof'] && !values['alloc-prof'];
    const outPath = values.out ?? (record ? join(import.meta.dirname, 'results', 'cluster.json') : undefined);
    if (outPath === undefined) {
      console.log('not written to bench/results/cluster.json (unsafe or profiled run); pass --out to keep it');
      return;
    }
    mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
    writeFileSync(
      outPath,
      `${JSON.stringify(
        {
          benchmark: 'cluster',
          date: new Date().toISOString(),
          node: process.version,
          machine: machineInfo(),
          setup: { httpClient, wsClient: 'RaftwireWsClient, one pipelined connection (bench/cluster-loadgen.mjs)', nodes: 3, storage, diskFdatasyncPerSecond, transport: 'UwsNetwork', valueBytes: 100, keys, durationMs, electionTimeoutMs, heartbeatMs: values.heartbeat ?? '50 (default)' },
          rows,
          failoverMs: { median: failoverMedianMs, runs: failovers },
          bareUwsHttpOpsPerSecond: ceiling,
          targets: checked,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    if (values['alloc-prof']) {
      const what = `${ops.join(',')} over ${protocols.join(',')} at ${concurrencies.join(',')} clients, ${keys} keys, ${values.failovers} failovers; profiled after the preload`;
      writeFileSync(join(values['alloc-prof'], 'ops.json'), `${JSON.stringify({ ops: clientOps, leader: lastLeader, what }, null, 2)}\n`);
    }
    if (values['cpu-prof'] || values['alloc-prof']) await cluster.stopGracefully();
    await cluster.stopAll();
  }
}

/** Starts bench/uws-hello.mjs in its own process and waits for its port. */
function startBareUws(): Promise<{ port: number; stop(): void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, 'uws-hello.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench/uws-hello.mjs exited ${code}`)));
    child.stdout.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), stop: () => child.kill('SIGKILL') }));
  });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
