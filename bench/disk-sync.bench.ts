/**
 * How this machine's disk serves synced appends from several processes at once: the floor under
 * every durable write of a local cluster, whose nodes share one disk. Each writer is its own
 * process appending `--bytes`-byte records through an O_DSYNC descriptor (what the WAL does) for
 * `--duration-ms`; runs with 1, 2 and 3 writers. Prints a table and writes
 * bench/results/disk-sync.json.
 *
 * A durable write in a 3-node cluster on one disk is acknowledged once the leader and a follower
 * have each synced: if the disk serves flushes one at a time, a lone client waits for about two.
 *
 * Run: `npm run bench:disk` (`-- --help`).
 */
import { fork } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { machineInfo } from './machine.js';

const { values } = parseArgs({
  options: {
    writers: { type: 'string', default: '1,2,3' },
    bytes: { type: 'string', default: '128' },
    'duration-ms': { type: 'string', default: '3000' },
    dir: { type: 'string' },
    child: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(`bench:disk: synced appends (O_DSYNC) from 1, 2 and 3 processes at once

Options (npm run bench:disk -- --option value):
  --writers <list>     concurrent writer processes per run       [1,2,3]
  --bytes <n>          bytes per append                           [128]
  --duration-ms <ms>   length of each run                         [3000]
  --dir <dir>          where the files go (the disk measured)     [a temporary directory]`);
  process.exit(0);
}

const bytes = Number(values.bytes);
const durationMs = Number(values['duration-ms']);

/** One writer: appends until the time is up, reports appends and their mean time. */
function runChild(path: string): void {
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_DSYNC);
  const record = Buffer.alloc(bytes, 7);
  let count = 0;
  let position = 0;
  const started = performance.now();
  while (performance.now() - started < durationMs) {
    writeSync(fd, record, 0, record.length, position);
    position += record.length;
    count++;
  }
  const seconds = (performance.now() - started) / 1000;
  closeSync(fd);
  process.send!({ count, seconds });
}

async function run(dir: string, writers: number): Promise<{ writers: number; appendsPerSecondEach: number; meanUs: number; appendsPerSecondTotal: number }> {
  const results = await Promise.all(
    Array.from({ length: writers }, (_, i) =>
      new Promise<{ count: number; seconds: number }>((resolve, reject) => {
        const child = fork(import.meta.filename, ['--child', join(dir, `writer-${i}`), '--bytes', String(bytes), '--duration-ms', String(durationMs)], { execArgv: ['--import', 'tsx'] });
        child.once('message', (m) => resolve(m as { count: number; seconds: number }));
        child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`writer exited ${code}`))));
      }),
    ),
  );
  const each = results.map((r) => r.count / r.seconds);
  const mean = each.reduce((a, b) => a + b, 0) / each.length;
  return { writers, appendsPerSecondEach: Math.round(mean), meanUs: Math.round(1e6 / mean), appendsPerSecondTotal: Math.round(each.reduce((a, b) => a + b, 0)) };
}

async function main(): Promise<void> {
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'raftwire-disk-'));
  try {
    const rows = [];
    for (const writers of values.writers.split(',').map(Number)) {
      const row = await run(dir, writers);
      process.stderr.write(`${writers} writer(s): ${row.appendsPerSecondEach} appends/s each (${row.meanUs} µs), ${row.appendsPerSecondTotal} in all\n`);
      rows.push(row);
    }
    const alone = rows.find((r) => r.writers === 1);
    console.table(rows.map((r) => ({ writers: r.writers, 'appends/s each': r.appendsPerSecondEach, 'µs each': r.meanUs, 'appends/s in all': r.appendsPerSecondTotal, 'µs ÷ alone': alone ? (r.meanUs / alone.meanUs).toFixed(2) : '' })));
    mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
    writeFileSync(
      join(import.meta.dirname, 'results', 'disk-sync.json'),
      `${JSON.stringify({ benchmark: 'disk-sync', date: new Date().toISOString(), node: process.version, machine: machineInfo(), setup: { bytes, durationMs, flags: 'O_DSYNC', dir: values.dir ?? 'a temporary directory' }, rows }, null, 2)}\n`,
    );
  } finally {
    if (values.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

if (values.child) runChild(values.child);
else
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
