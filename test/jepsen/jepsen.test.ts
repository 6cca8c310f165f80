import { expect, it } from 'vitest';
import { describeFailure } from './linearizability.js';
import { type JepsenReport, NEMESIS_KINDS, runJepsen } from './runner.js';

/** Prints the run, then holds it to what every run must show. */
function expectSound(label: string, report: JepsenReport): void {
  const faults = Object.entries(report.faults).map(([kind, n]) => `${kind} ${n}`).join(', ');
  console.log(`${label}: ${report.operations} operations (${report.acknowledgedWrites} acknowledged writes, ${report.unknownOperations} unknown) under ${faults}; history ${report.historyFile}`);
  if (!report.verdict.ok) console.log(report.verdict.failures.map(describeFailure).join('\n'));
  expect(report.failedNodes, 'nodes that stopped on an error').toEqual([]);
  expect(report.verdict.unknown).toBe(false);
  expect(report.verdict.ok).toBe(true);
  expect(report.acknowledgedWrites).toBeGreaterThan(50);
  expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(NEMESIS_KINDS.length);
}

// The short run of the default suite: real processes, every nemesis kind (each at least once), about a minute.
// `npm run jepsen -- --time 600 --seed S` runs longer.
it('a 3-node cluster under kill -9, SIGSTOP, partitions (whole, bridge, one-way), leader kills and membership changes stays linearizable', async () => {
  // faultsMin: the first cycle of the seeded shuffle holds every kind once, however slow the machine.
  const report = await runJepsen({ timeMs: 50_000, seed: 20261121, faultsMin: NEMESIS_KINDS.length });
  expectSound('jepsen', report);
  for (const [kind, count] of Object.entries(report.faults)) expect(count, kind).toBeGreaterThan(0);
}, 300_000);

// The same over the binary WebSocket protocol: RaftwireWsClient's failover and retries (a new
// connection, everything unanswered sent again in sequence order) must keep each write once.
it('the same cluster, its clients on the WebSocket protocol, stays linearizable', async () => {
  expectSound('jepsen (ws)', await runJepsen({ timeMs: 40_000, seed: 20261207, protocol: 'ws', faultsMin: NEMESIS_KINDS.length }));
}, 300_000);

// Lease reads (`?consistency=lease`) under the same faults: served on the leader's lease without a
// quorum round, often before the request's callback returns. A paused leader must not serve one
// from a lease that ran out while it was stopped (it catches up its ticks first: docs/core.md).
it('the same cluster, its reads on the leader lease, stays linearizable', async () => {
  expectSound('jepsen (lease reads)', await runJepsen({ timeMs: 30_000, seed: 20261208, reads: 'lease', faultsMin: NEMESIS_KINDS.length }));
}, 300_000);
