/**
 * The simulator's command line: `npm run sim -- --seeds N --events M [--first F] [--nodes K]`
 * runs seeds F..F+N−1 (`--snapshots on|off`, `--membership on|off` force what the seed would pick) (`--keep-going` lists every failing seed instead of stopping at the first); `--seed S` runs one seed; `--trace N` keeps the last N events for the dump. A failure prints the invariant, the state dump
 * and the one command that replays it, and exits 1; a passing run prints how much it covered.
 */
import { parseArgs } from 'node:util';
import { SimViolation } from './checker.js';
import { replayCommand, runRandom, type RunSummary } from './workload.js';

const HELP = `npm run sim -- [options]: deterministic Raft simulation (test/sim/README.md)

  --seeds N          how many seeds to run                         [default: 100]
  --first F          the first seed                                [default: 1]
  --seed S           run one seed (replay a failure)
  --events M         events per seed (ticks, deliveries, faults, client operations) [default: 2000]
  --nodes K          cluster size (default: the seed picks 3, 5 or 7)
  --snapshots on|off, --membership on|off   force what the seed would pick
  --async-writes on  the nodes use asynchronous storage writes (writes finish later, in order)
  --keep-going       list every failing seed instead of stopping at the first
  --trace N          events kept for the failure dump              [default: 60]
  --verbose          one line per seed
  -h, --help         show this text

A failure prints the invariant, the state dump and the command that replays it, and exits 1.`;

const { values } = parseArgs({
  options: {
    help: { type: 'boolean', short: 'h', default: false },
    seeds: { type: 'string', default: '100' },
    events: { type: 'string', default: '2000' },
    seed: { type: 'string' },
    first: { type: 'string', default: '1' },
    nodes: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    trace: { type: 'string', default: '60' },
    snapshots: { type: 'string' },
    membership: { type: 'string' },
    'async-writes': { type: 'string' },
    'keep-going': { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const events = positiveInt('events', values.events);
const nodes = values.nodes === undefined ? undefined : positiveInt('nodes', values.nodes);
const overrides = {
  ...(nodes === undefined ? {} : { nodes }),
  ...(values.snapshots === undefined ? {} : { snapshots: onOff('snapshots', values.snapshots) }),
  ...(values.membership === undefined ? {} : { membership: onOff('membership', values.membership) }),
  ...(values['async-writes'] === undefined ? {} : { asyncWrites: onOff('async-writes', values['async-writes']) }),
};

function onOff(name: string, text: string): boolean {
  if (text === 'on' || text === 'off') return text === 'on';
  console.error(`--${name} must be on or off, got ${JSON.stringify(text)}`);
  process.exit(2);
}
const single = values.seed !== undefined ? Number(values.seed) : undefined;
const first = single ?? positiveInt('first', values.first);
const seeds = single !== undefined ? 1 : positiveInt('seeds', values.seeds);

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return n;
}

const totals = { elections: 0, commits: 0, proposals: 0, acked: 0, crashes: 0, restarts: 0, partitions: 0, readsChecked: 0, confChanges: 0, transfers: 0, snapshotsTaken: 0, snapshotsInstalled: 0, messages: 0, virtualMs: 0 };
const failures: string[] = [];
const started = performance.now();
let lastProgress = started;
let stopped = false;
for (let k = 0; k < seeds && !stopped; k++) {
  const seed = first + k;
  let summary: RunSummary;
  try {
    summary = runRandom({ seed, events, traceEvents: positiveInt('trace', values.trace), ...overrides });
  } catch (e) {
    const replay = replayCommand(seed, events, overrides);
    if (values['keep-going']) {
      failures.push(`seed ${seed}: ${e instanceof SimViolation ? `${e.invariant}: ${e.detail.split('\n')[0]}` : (e as Error).message} (replay: ${replay})`);
      continue;
    }
    if (e instanceof SimViolation) {
      console.error(`\nFAILED at seed ${seed}\n${e.message}\n\nreplay: ${replay}`);
    } else {
      console.error(`\nFAILED at seed ${seed} (harness error)\n${(e as Error).stack}\n\nreplay: ${replay}`);
    }
    // Not process.exit(): it can cut a long dump short on a pipe.
    process.exitCode = 1;
    stopped = true;
    continue;
  }
  for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += summary[key];
  if (values.verbose || single !== undefined) console.log(JSON.stringify(summary));
  const now = performance.now();
  if (now - lastProgress > 2000) {
    lastProgress = now;
    console.log(`  ${k + 1}/${seeds} seeds (${((now - started) / 1000).toFixed(1)} s)`);
  }
}
const seconds = (performance.now() - started) / 1000;
if (failures.length > 0) {
  console.error(`\n${failures.length} of ${seeds} seeds FAILED:\n  ${failures.join('\n  ')}`);
  process.exitCode = 1;
} else if (!stopped) {
  console.log(
  `${seeds} seeds × ${events} events (event = one tick, message arrival, fault or client operation), ${nodes ?? '3/5/7 (per seed)'} nodes: ` +
    `${totals.elections} elections, ${totals.commits} commits, ${totals.acked}/${totals.proposals} proposals acknowledged, ` +
    `${totals.readsChecked} reads checked, ${totals.crashes} crashes, ${totals.restarts} restarts, ${totals.partitions} partitions, ` +
    `${totals.confChanges} conf changes, ${totals.transfers} transfers, ${totals.snapshotsTaken} snapshots taken, ` +
    `${totals.snapshotsInstalled} installed, ${totals.messages} messages, ${(totals.virtualMs / 1000).toFixed(0)} s virtual time ` +
    `in ${seconds.toFixed(1)} s… OK`,
  );
}
