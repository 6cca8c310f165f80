/**
 * `npm run jepsen -- --time 600 --seed 7 [--nodes 3] [--clients 4] [--keys 4] [--nemesis kill,pause,partition,bridge,oneWay,killLeader,membership] [--storage-writes sync|async] [--protocol http|ws] [--reads linearizable|lease] [--out dir]`
 * Runs the fault-injection runner and prints the verdict; exits 1 if the history is not
 * linearizable (the timeline of the failing window is written next to the history).
 */
import { parseArgs } from 'node:util';
import { describeFailure } from './linearizability.js';
import { NEMESIS_KINDS, type NemesisKind, runJepsen } from './runner.js';

const { values } = parseArgs({
  options: {
    time: { type: 'string', default: '60' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    nodes: { type: 'string', default: '3' },
    clients: { type: 'string', default: '4' },
    keys: { type: 'string', default: '4' },
    nemesis: { type: 'string', default: NEMESIS_KINDS.join(',') },
    'storage-writes': { type: 'string' },
    protocol: { type: 'string', default: 'http' },
    reads: { type: 'string', default: 'linearizable' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('npm run jepsen -- --time <seconds> --seed <n> [--nodes 3] [--clients 4] [--keys 4] [--nemesis kill,pause,partition,bridge,oneWay,killLeader,membership] [--storage-writes sync|async] [--protocol http|ws] [--reads linearizable|lease] [--out <dir>]');
  process.exit(0);
}
if (values.protocol !== 'http' && values.protocol !== 'ws') {
  console.error('jepsen: --protocol must be http or ws');
  process.exit(2);
}
if (values.reads !== 'linearizable' && values.reads !== 'lease') {
  console.error('jepsen: --reads must be linearizable or lease');
  process.exit(2);
}
const seed = Number(values.seed);
const report = await runJepsen({
  timeMs: Number(values.time) * 1000,
  seed,
  nodes: Number(values.nodes),
  clients: Number(values.clients),
  keys: Number(values.keys),
  nemeses: values.nemesis.split(',') as NemesisKind[],
  storageWrites: values['storage-writes'] as 'sync' | 'async' | undefined,
  protocol: values.protocol,
  reads: values.reads,
  outDir: values.out,
  log: (line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`),
});
const faults = Object.entries(report.faults).map(([kind, n]) => `${kind} ${n}`).join(', ');
console.log(`\n${report.operations} operations (${report.okOperations} completed, ${report.unknownOperations} unknown outcome, ${report.acknowledgedWrites} acknowledged writes) under faults: ${faults}`);
console.log(`history: ${report.historyFile}`);
if (report.failedNodes.length > 0) {
  console.log(`nodes that stopped on an error: ${report.failedNodes.join(', ')} (see the log above)`);
  process.exitCode = 1;
}
if (report.verdict.ok) {
  console.log(`verdict: linearizable (${report.verdict.keys.length} keys checked)`);
} else if (report.verdict.unknown) {
  console.log('verdict: unknown (the checker gave up on a key; rerun with fewer clients or a shorter time)');
  process.exitCode = 2;
} else {
  for (const failure of report.verdict.failures) console.log(describeFailure(failure));
  console.log(`verdict: NOT linearizable; timeline: ${report.timelineFile}\nreplay the schedule: npm run jepsen -- --time ${values.time} --seed ${seed}`);
  process.exitCode = 1;
}
