// The process the crash test kills. It opens the log in argv[2], then appends batches forever,
// with up to `inflight` appends outstanding (so group commit is exercised), and prints one line
// per write as it is issued and one per durable write the moment its promise resolves:
//   "w <seq> <last> <commit>"  write number seq is issued; once durable (and no later write is),
//                              the log ends at index last and the hard state's commit is commit
//   "a <seq>"                  write number seq is acknowledged (durable)
//   "c <index>"                a compaction through index is acknowledged
// A write's lastIndex is not always above the one before it: a rewrite of 1 or 2 entries that
// starts 3 back truncates the log below what an earlier write acknowledged, as a Raft follower
// does with uncommitted entries, and a save of one sets a lower commit. So the parent checks the
// reopened log against the sequence of writes, not against the highest index ever acknowledged.
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
let seq = 0;
// The commit in the hard state once every issued write is durable: saves set it, appends keep it.
let commit = store.hardState().commit;
process.stdout.write(`ready ${next}\n`);

function appendOne(): void {
  const rewrite = rand.chance(0.1) ? Math.min(rand.int(4), next - store.firstIndex()) : 0;
  const from = next - rewrite;
  const count = rand.between(1, 48);
  const batch: Entry[] = [];
  for (let i = from; i < from + count; i++) batch.push(crashEntry(i));
  next = from + count;
  const last = next - 1;
  const writeSeq = ++seq;
  const withHardState = rand.chance(0.2);
  if (withHardState) commit = last;
  inflight++;
  // Announced before it is issued, so the parent knows every write that can be durable.
  process.stdout.write(`w ${writeSeq} ${last} ${commit}\n`);
  const write = withHardState
    ? store.save({ entries: batch, hardState: { term: crashEntry(last).term, vote: 'n1', commit: last } })
    : store.append(batch);
  // Now and then compact well behind the rewrites (which look back at most 3 entries).
  const compactTo = last - 200 - rand.int(100);
  if (rand.chance(0.05) && compactTo > store.firstIndex()) {
    void store.compact(compactTo).then(() => process.stdout.write(`c ${compactTo}\n`));
  }
  write.then(
    () => {
      process.stdout.write(`a ${writeSeq}\n`);
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
