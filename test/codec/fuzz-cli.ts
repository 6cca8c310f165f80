// Long codec fuzz runs: npm run fuzz:codec -- --count 10000000 [--seed 42]
// Prints progress and a summary; exits 1 (with the seed to replay) if any case failed.
import { parseArgs } from 'node:util';
import { runFuzz } from './fuzz.js';
import { requireWasmCodec } from './wasm-loader.js';
import { exitWithHelpIfAsked } from '../../bench/help.js';

exitWithHelpIfAsked(`
npm run fuzz:codec -- [--count 1000000] [--seed S]
Feeds random and mutated frames to every codec; any crash, hang or non-CodecError is a failure,
printed with the seed that replays it.
  --count N    frames to try      [1000000]
  --seed S     replay this seed   [random]
`);

const { values } = parseArgs({ options: { count: { type: 'string', default: '1000000' }, seed: { type: 'string' } } });
const count = Number(values.count);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
if (!Number.isSafeInteger(count) || count <= 0 || !Number.isSafeInteger(seed)) {
  console.error('usage: npm run fuzz:codec -- --count N [--seed S]');
  process.exit(2);
}
const started = Date.now();
console.log(`codec fuzz: ${count} cases, seed ${seed}`);
const summary = runFuzz(requireWasmCodec(), seed, count, (done, s) => {
  const rate = Math.round(done / ((Date.now() - started) / 1000));
  console.log(`  ${done}/${count} (${((100 * done) / count).toFixed(0)}%), ${rate} cases/s, failures ${s.failures.length}`);
}, Math.max(1, Math.floor(count / 20)));
console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log('by mutation:', summary.byMutation);
console.log('by outcome: ', summary.byOutcome);
console.log(`WASM memory high-water mark: ${summary.wasmMemoryBytesMax} bytes`);
if (summary.failures.length > 0) {
  console.error(`FAILED (${summary.failures.length} shown; replay with --seed ${seed} --count ${count}):`);
  for (const f of summary.failures) console.error(`  ${f}`);
  process.exit(1);
}
console.log('no failures');
