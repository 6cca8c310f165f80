// The process the crash test kills. It opens the log in argv[2], then appends batches forever,
// with up to `inflight` appends outstanding (so group commit is exercised), and prints one line
// per durable write the moment its promise resolves:
//   "a <lastIndex>"  entries up to lastIndex are acknowledged (durable)
//   "h <commit>"     a hard state with this commit index is acknowledged
//   "c <index>"      a compaction through index is acknowledged
// The store writes a WAL and checkpoints it into LMDB in the background (settings below).
// Some batches start below the last index and rewrite entries with identical contents, which
// runs the truncate-and-append path without changing what an acknowledged index must hold.
// stdout is a pipe, and pipe writes are synchronous on Linux: a printed line was really sent.
import { LmdbLogStore } from '../../src/storage/index.js';
import type { Entry } from '../../src/core/types.js';
import { Prng } from '../../src/util/prng.js';
import { crashEntry } from './crash-runner.js';

const [path, seedText] = process.argv.slice(2);
if (path === undefined || seedText === undefined) throw new Error('usage: crash-child <dir> <seed>');
const rand = new Prng(Number(seedText));
const inflightMax = 4;

// The parent starts the next child while the current one runs (module loading takes a second),
// and says "go" on stdin once the previous one is dead and checked.
await new Promise<void>((resolve) => {
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (text: string) => {
    if (text.includes('go')) resolve();
  });
});
process.stdin.pause();
// Checkpoint settings drawn per child, so kills land between a WAL write and the checkpoint that
// takes it into LMDB, during checkpoints, and around segment rolls and recycling (64 KiB segments).
const store = await LmdbLogStore.open(path, {
  walSegmentBytes: 64 * 1024,
  checkpointBytes: rand.pick([16 * 1024, 256 * 1024, 4 * 1024 * 1024]),
  checkpointIntervalMs: rand.pick([5, 50, 200]),
  // Compacted entries leave LMDB a few at a time: kills land with some still there.
  staleRemovalsMin: rand.pick([1, 16, 1024]),
});
let next = store.lastIndex() + 1;
let inflight = 0;
process.stdout.write(`ready ${next}\n`);

function appendOne(): void {
  const rewrite = rand.chance(0.1) ? Math.min(rand.int(4), next - store.firstIndex()) : 0;
  const from = next - rewrite;
  const count = rand.between(1, 48);
  const batch: Entry[] = [];
  for (let i = from; i < from + count; i++) batch.push(crashEntry(i));
  next = from + count;
  const last = next - 1;
  inflight++;
  const write = rand.chance(0.2)
    ? store.save({ entries: batch, hardState: { term: crashEntry(last).term, vote: 'n1', commit: last } }).then(() => process.stdout.write(`a ${last}\nh ${last}\n`))
    : store.append(batch).then(() => process.stdout.write(`a ${last}\n`));
  // Now and then compact well behind the rewrites (which look back at most 3 entries).
  const compactTo = last - 200 - rand.int(100);
  if (rand.chance(0.05) && compactTo > store.firstIndex()) {
    void store.compact(compactTo).then(() => process.stdout.write(`c ${compactTo}\n`));
  }
  write.then(
    () => {
      inflight--;
      pump();
    },
    (error: unknown) => {
      process.stderr.write(`append failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
}

function pump(): void {
  // A rewrite must not race an append still in flight that it would overlap: rewrites only
  // look back at most 3 entries, and batches are planned in order, so the queue keeps them sane.
  while (inflight < inflightMax) appendOne();
}

pump();
