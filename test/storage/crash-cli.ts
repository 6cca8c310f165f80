// npm run crash:storage -- --rounds N [--seed S] [--delay-max MS]
// Long kill -9 soak of LmdbLogStore; prints one line per round and the seed to replay.
import { exitWithHelpIfAsked } from '../../bench/help.js';
import { runCrashRounds } from './crash-runner.js';

exitWithHelpIfAsked(`
npm run crash:storage -- [--rounds 100] [--seed S] [--delay-max 300]
kill -9 soak of LmdbLogStore: a child announces each write (where it leaves the log end and the
commit) and reports each acknowledgement; it is killed at a random moment each round, the store
is reopened and must be in the state of the latest acknowledged write or a later one (a later
rewrite may truncate), every entry checked (exact bytes, nothing torn), then appended to again.
  --rounds N       rounds                                        [100]
  --seed S         replay a run                                  [random]
  --delay-max MS   longest wait before the kill in a round        [300]
`);

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} needs a non-negative integer`);
  return value;
}

const rounds = flag('rounds', 100);
const seed = flag('seed', Date.now() % 0x7fffffff);
const delayMsMax = flag('delay-max', 300);
console.log(`crash:storage rounds=${rounds} seed=${seed} delay-max=${delayMsMax}ms`);
const started = performance.now();
try {
  await runCrashRounds({
    rounds,
    seed,
    delayMsMax,
    onRound: (r) => console.log(`round ${r.round}: killed after ${r.delayMs}ms, write ${r.ackedWrite} of ${r.issuedWrites} acknowledged (log end ${r.ackedIndex}), log matched write ${r.matchedWrite} and holds ${r.lastIndex - 1} + 1 appended after reopen, ${r.replayed} WAL records replayed, compacted through ${r.ackedCompact} (${r.staleAtOpen} compacted entries still in LMDB)`),
  });
  console.log(`ok: ${rounds} rounds in ${((performance.now() - started) / 1000).toFixed(1)}s, no acknowledged entry lost or torn`);
} catch (error) {
  console.error(`FAILED (replay with --seed ${seed} --rounds ${rounds} --delay-max ${delayMsMax}):`, error);
  process.exitCode = 1;
}
