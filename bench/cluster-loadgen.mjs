/**
 * Load generator for bench/cluster.bench.ts, run in its own process so it does not share an event
 * loop with the nodes: `concurrency` closed-loop workers issue one kind of request for `durationMs`
 * against the leader, and it prints one JSON line {ops, errors, p50Ms, p99Ms, seconds}.
 *
 * It runs the compiled client (dist/, as users get it), not the sources through tsx, whose
 * transform wraps every closure in a `__name` call: at one client the client's cost is in the figure.
 *
 * Usage: node bench/cluster-loadgen.mjs --url http://127.0.0.1:8001 --protocol http|ws
 *        --op write|linearizable|lease --concurrency 64 --duration-ms 3000 [--keys 1024]
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { RaftwireWsClient } from '../dist/src/client/index.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    protocol: { type: 'string', default: 'http' },
    op: { type: 'string', default: 'write' },
    concurrency: { type: 'string', default: '1' },
    'duration-ms': { type: 'string', default: '3000' },
    keys: { type: 'string', default: '1024' },
  },
});
const url = new URL(values.url);
const concurrency = Number(values.concurrency);
const durationMs = Number(values['duration-ms']);
const op = values.op;
const value = Buffer.alloc(100, 120); // 100-byte values, as the other benchmarks use
const keys = Number(values.keys);

const latencies = [];
let errors = 0;

async function httpWorker(agent, worker, until) {
  let i = worker;
  while (performance.now() < until) {
    const key = `k${i++ % keys}`;
    const started = performance.now();
    const ok = await new Promise((resolve) => {
      const request = http.request(
        {
          host: url.hostname,
          port: url.port,
          agent,
          method: op === 'write' ? 'PUT' : 'GET',
          path: op === 'write' ? `/v1/kv/${key}` : `/v1/kv/${key}?consistency=${op}`,
          headers: op === 'write' ? { 'content-length': value.length } : {},
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode === 200 || response.statusCode === 404));
        },
      );
      request.on('error', () => resolve(false));
      request.end(op === 'write' ? value : undefined);
    });
    if (ok) latencies.push(performance.now() - started);
    else errors++;
  }
}

async function wsWorker(client, worker, until) {
  let i = worker;
  while (performance.now() < until) {
    const key = `k${i++ % keys}`;
    const started = performance.now();
    try {
      if (op === 'write') await client.set(key, value);
      else await client.get(key);
      latencies.push(performance.now() - started);
    } catch {
      errors++;
    }
  }
}

async function main() {
  const until = performance.now() + durationMs;
  const started = performance.now();
  if (values.protocol === 'ws') {
    // One pipelined connection carries every worker's requests, as a pipelining client would.
    const client = await RaftwireWsClient.connect(url.origin, { consistency: op === 'write' ? 'linearizable' : op, discoverMembers: false });
    await Promise.all(Array.from({ length: concurrency }, (_, w) => wsWorker(client, w, until)));
    client.close();
  } else {
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    await Promise.all(Array.from({ length: concurrency }, (_, w) => httpWorker(agent, w, until)));
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  process.stdout.write(`${JSON.stringify({ ops: latencies.length, errors, seconds, p50Ms: at(0.5), p99Ms: at(0.99) })}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
