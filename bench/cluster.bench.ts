/**
 * Whole-cluster benchmark: 3 raftwire processes with durable LMDB logs (fsync on every commit),
 * the load generator in its own process (bench/cluster-loadgen.ts), closed-loop clients against
 * the leader. For writes, linearizable reads and lease reads, at each concurrency: ops/s, p50 and
 * p99 over HTTP keep-alive and over the binary WebSocket protocol, and WebSocket/HTTP as a ratio
 * (HTTP/JSON is what a user of an HTTP KV store would use instead). HTTP load comes from wrk (installed
 * with apt-get when missing, `--http-client node` for the Node generator); WebSocket load from
 * RaftwireWsClient in bench/cluster-loadgen.ts. Then failover: the leader is
 * killed with SIGKILL and the time to the first acknowledged write is measured.
 *
 * Run: `npm run bench:cluster` (options: `-- --concurrency 1,16,64,256 --duration-ms 3000
 * --protocols http,ws --ops write,linearizable,lease --failovers 3`). Writes bench/results/cluster.json.
 * Everything shares this machine's cores: the nodes, the load generator and anything else running.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RaftwireClient } from '../src/client/index.js';
import { ProcessCluster } from '../test/cluster/process-cluster.js';
import { ensureWrk, runWrk } from './cluster-wrk.js';
import { machineInfo } from './machine.js';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '1,16,64,256' },
    'duration-ms': { type: 'string', default: '3000' },
    protocols: { type: 'string', default: 'http,ws' },
    ops: { type: 'string', default: 'write,linearizable,lease' },
    failovers: { type: 'string', default: '3' },
    'http-client': { type: 'string', default: 'wrk' },
  },
});
const concurrencies = values.concurrency.split(',').map(Number);
const protocols = values.protocols.split(',');
const ops = values.ops.split(',');
const durationMs = Number(values['duration-ms']);

interface Run {
  ops: number;
  errors: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
}

const useWrk = values['http-client'] === 'wrk' && ensureWrk((line) => process.stderr.write(`${line}\n`));
const httpClient = useWrk ? 'wrk' : 'node http (bench/cluster-loadgen.ts)';

function loadgen(url: string, protocol: string, op: string, concurrency: number): Promise<Run> {
  if (protocol === 'http' && useWrk) return runWrk(url, op, concurrency, durationMs);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'cluster-loadgen.ts'), '--url', url, '--protocol', protocol, '--op', op, '--concurrency', String(concurrency), '--duration-ms', String(durationMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as Run) : reject(new Error(`loadgen exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const cluster = new ProcessCluster(['n1', 'n2', 'n3'], ['--election-timeout', '300-600', '--heartbeat', '50']);
  await cluster.init();
  cluster.startAll();
  const rows: Record<string, unknown>[] = [];
  try {
    let leader = await cluster.awaitLeader();
    const client = cluster.client();
    process.stderr.write(`cluster up, leader ${leader}; preloading keys\n`);
    await Promise.all(Array.from({ length: 1024 }, (_, i) => client.put(`k${i}`, 'x'.repeat(100))));
    for (const op of ops) {
      for (const concurrency of concurrencies) {
        const row: Record<string, unknown> = { op, concurrency };
        for (const protocol of protocols) {
          leader = await cluster.awaitLeader();
          const run = await loadgen(cluster.peers[leader]!.client, protocol, op, concurrency);
          row[protocol] = { opsPerSecond: Math.round(run.ops / run.seconds), p50Ms: run.p50Ms, p99Ms: run.p99Ms, errors: run.errors };
          process.stderr.write(`${op} c=${concurrency} ${protocol}: ${Math.round(run.ops / run.seconds)} ops/s p50 ${run.p50Ms.toFixed(3)} ms p99 ${run.p99Ms.toFixed(3)} ms errors ${run.errors}\n`);
        }
        const h = row.http as { opsPerSecond: number } | undefined;
        const w = row.ws as { opsPerSecond: number } | undefined;
        if (h && w) row.wsOverHttp = Number((w.opsPerSecond / h.opsPerSecond).toFixed(2));
        rows.push(row);
      }
    }

    const failovers: number[] = [];
    for (let i = 0; i < Number(values.failovers); i++) {
      leader = await cluster.awaitLeader(cluster.ids);
      const survivors = cluster.ids.filter((id) => id !== leader);
      const writer = new RaftwireClient({ endpoints: survivors.map((id) => cluster.peers[id]!.client), timeoutMs: 1000, maxRetries: 1000 });
      const killedAt = performance.now();
      await cluster.kill(leader);
      await writer.put('failover', String(i));
      failovers.push(performance.now() - killedAt);
      process.stderr.write(`failover ${i + 1}: ${failovers.at(-1)!.toFixed(0)} ms\n`);
      cluster.start(leader); // back to three for the next round
    }
    failovers.sort((a, b) => a - b);

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
          'ws/http': r.wsOverHttp,
        };
      }),
    );
    const failoverMedianMs = failovers[Math.floor(failovers.length / 2)];
    console.log(`failover (leader SIGKILL → first acknowledged write): median ${failoverMedianMs?.toFixed(0)} ms over ${failovers.length} (${failovers.map((f) => f.toFixed(0)).join(', ')} ms)`);
    mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
    writeFileSync(
      join(import.meta.dirname, 'results', 'cluster.json'),
      `${JSON.stringify(
        {
          benchmark: 'cluster',
          date: new Date().toISOString(),
          node: process.version,
          machine: machineInfo(),
          setup: { httpClient, wsClient: 'RaftwireWsClient, one pipelined connection (bench/cluster-loadgen.ts)', nodes: 3, storage: 'LmdbLogStore, durable (fsync per commit)', transport: 'UwsNetwork', valueBytes: 100, durationMs, electionTimeoutMs: '300-600' },
          rows,
          failoverMs: { median: failoverMedianMs, runs: failovers },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await cluster.stopAll();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
