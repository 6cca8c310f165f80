import { expect, it } from 'vitest';
import { describeFailure } from './linearizability.js';
import { runJepsen } from './runner.js';

// The short run of the default suite: real processes, every nemesis kind, about a minute.
// `npm run jepsen -- --time 600 --seed S` runs longer.
it('a 3-node cluster under kill -9, SIGSTOP, partitions and leader kills stays linearizable', async () => {
  const report = await runJepsen({ timeMs: 40_000, seed: 20261121 });
  const faults = Object.entries(report.faults).map(([kind, n]) => `${kind} ${n}`).join(', ');
  console.log(`jepsen: ${report.operations} operations (${report.acknowledgedWrites} acknowledged writes, ${report.unknownOperations} unknown) under ${faults}; history ${report.historyFile}`);
  if (!report.verdict.ok) console.log(report.verdict.failures.map(describeFailure).join('\n'));
  expect(report.verdict.unknown).toBe(false);
  expect(report.verdict.ok).toBe(true);
  expect(report.acknowledgedWrites).toBeGreaterThan(50);
  expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(5);
}, 180_000);
