/**
 * Overhead per call of the resilience primitives on their fast path, each beside the bare call a
 * user would write instead, measured in the same run:
 * - `RateLimiter.tryAcquire()` (each algorithm, permits always available) beside an always-true
 *   check, and the token bucket beside a hand-rolled inline one: target under 100 ns per call;
 * - `CircuitBreaker.execute(op)` (closed, op succeeds) beside `await op()`: target under 1 µs;
 * - `RetryExecutor.execute(op)` (first attempt succeeds) beside `await op()`: target under 1 µs.
 *
 * One benchmark iteration makes `callsPerIteration` calls, so a sample is well above the timer's
 * resolution; per-call figures are the median iteration time divided by that count. The overhead is
 * the wrapped call's median minus the bare call's. Prints a table and writes
 * bench/results/resilience.json. The machine may be shared (2 cores, other work running): treat the
 * figures as noisy.
 *
 * Run: `npm run bench:resilience`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { Bench } from 'tinybench';
import { CircuitBreaker, RateLimiter, type RateLimiterAlgorithm, RetryExecutor } from '../src/resilience/index.js';
import { machineInfo } from './machine.js';
import { exitWithHelpIfAsked } from './help.js';

exitWithHelpIfAsked(`
npm run bench:resilience
Per-call overhead of RateLimiter.tryAcquire, CircuitBreaker.execute and RetryExecutor.execute beside
the bare call. Prints a table and writes bench/results/resilience.json. No options.
`);

const callsPerIteration = 1_000;
const bench = new Bench({ time: 1_500, warmupTime: 300 });

// Results land here so the optimiser cannot drop the calls.
let sink = 0;

// A check that always says yes, called through a variable like tryAcquire would be.
const alwaysTrue: () => boolean = () => true;
bench.add('bare: always-true check', () => {
  for (let i = 0; i < callsPerIteration; i++) if (alwaysTrue()) sink++;
});

// What a user would otherwise write by hand: an inline token bucket on performance.now(). Reading
// the clock is most of the cost of any limiter, so this is the fair floor.
const handRolled = { tokens: 1_000_000, at: performance.now(), ratePerMs: 1e9, burst: 1_000_000 };
function handRolledTryAcquire(): boolean {
  const now = performance.now();
  handRolled.tokens = Math.min(handRolled.burst, handRolled.tokens + (now - handRolled.at) * handRolled.ratePerMs);
  handRolled.at = now;
  if (handRolled.tokens < 1) return false;
  handRolled.tokens -= 1;
  return true;
}
bench.add('bare: hand-rolled token bucket', () => {
  for (let i = 0; i < callsPerIteration; i++) if (handRolledTryAcquire()) sink++;
});

const limiters: Record<RateLimiterAlgorithm, RateLimiter> = {
  // Rates so high that a permit is always free: the fast path, not the waiting one, is measured.
  tokenBucket: new RateLimiter({ algorithm: 'tokenBucket', requestsPerSecond: 1e12, burstSize: 1_000_000 }),
  leakyBucket: new RateLimiter({ algorithm: 'leakyBucket', requestsPerSecond: 1e12, burstSize: 1 }),
  fixedWindow: new RateLimiter({ algorithm: 'fixedWindow', requestsPerSecond: 1e12, windowMs: 1 }),
  slidingWindow: new RateLimiter({ algorithm: 'slidingWindow', requestsPerSecond: 1e9, windowMs: 1 }),
};
const admitted: Record<string, { calls: number; admitted: number }> = {};
for (const [algorithm, limiter] of Object.entries(limiters)) {
  const counts = (admitted[algorithm] = { calls: 0, admitted: 0 });
  bench.add(`RateLimiter.tryAcquire (${algorithm})`, () => {
    let n = 0;
    for (let i = 0; i < callsPerIteration; i++) if (limiter.tryAcquire()) n++;
    counts.calls += callsPerIteration;
    counts.admitted += n;
  });
}

const op = async (): Promise<number> => 1;
const breaker = new CircuitBreaker();
const retry = new RetryExecutor();

bench.add('bare: await op()', async () => {
  for (let i = 0; i < callsPerIteration; i++) sink += await op();
});
bench.add('CircuitBreaker.execute(op)', async () => {
  for (let i = 0; i < callsPerIteration; i++) sink += await breaker.execute(op);
});
bench.add('RetryExecutor.execute(op)', async () => {
  for (let i = 0; i < callsPerIteration; i++) sink += (await retry.execute(op)).value;
});

await bench.run();
console.table(bench.table());

function perCallNs(name: string): number {
  const task = bench.tasks.find((t) => t.name === name);
  const result = task?.result as { latency?: { p50: number } } | undefined;
  if (result?.latency === undefined) throw new Error(`no result for ${name}`);
  return (result.latency.p50 * 1e6) / callsPerIteration;
}

interface Row {
  figure: string;
  medianNsPerCall: number;
  versus: string;
  alternativeNsPerCall: number;
  overheadNsPerCall: number;
  ratio: number;
  targetNs: number;
  met: boolean;
}

function row(figure: string, versus: string, targetNs: number): Row {
  const medianNs = perCallNs(figure);
  const alternativeNs = perCallNs(versus);
  const overheadNs = medianNs - alternativeNs;
  return {
    figure,
    medianNsPerCall: +medianNs.toFixed(1),
    versus,
    alternativeNsPerCall: +alternativeNs.toFixed(1),
    overheadNsPerCall: +overheadNs.toFixed(1),
    ratio: +(medianNs / alternativeNs).toFixed(2),
    targetNs,
    met: overheadNs < targetNs,
  };
}

const rows: Row[] = [
  ...Object.keys(limiters).map((algorithm) => row(`RateLimiter.tryAcquire (${algorithm})`, 'bare: always-true check', 100)),
  row('RateLimiter.tryAcquire (tokenBucket)', 'bare: hand-rolled token bucket', 100),
  row('CircuitBreaker.execute(op)', 'bare: await op()', 1000),
  row('RetryExecutor.execute(op)', 'bare: await op()', 1000),
];
console.table(rows);
for (const [algorithm, c] of Object.entries(admitted)) {
  console.log(`tryAcquire (${algorithm}) admitted ${((100 * c.admitted) / Math.max(1, c.calls)).toFixed(1)}% of ${c.calls} calls`);
}
console.log(`targets (overhead per call): tryAcquire < 100 ns, execute < 1 µs. Medians; noisy: 2 shared cores. sink=${sink > 0 ? 'ok' : 0}`);

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/resilience.json', import.meta.url),
  `${JSON.stringify(
    {
      name: 'resilience',
      date: new Date().toISOString(),
      machine: machineInfo(),
      node: process.version,
      note: 'medians of per-iteration time / callsPerIteration; overhead = wrapped - bare; shared 2-core machine, figures are noisy',
      callsPerIteration,
      results: rows,
      tryAcquireAdmitted: admitted,
      tasks: bench.tasks.map((t) => {
        const r = t.result as { latency?: { p50: number; mean: number }; throughput?: { p50: number } } | undefined;
        return { name: t.name, latencyMedianMs: r?.latency?.p50, latencyMeanMs: r?.latency?.mean, iterationsPerSecondMedian: r?.throughput?.p50 };
      }),
    },
    null,
    2,
  )}\n`,
);
console.log('wrote bench/results/resilience.json');
