/** Shared body of the default randomised test files: a range of seeds, each a full random run. */
import { expect } from 'vitest';
import { SimViolation } from './checker.js';
import { replayCommand, runRandom, type RunOverrides } from './workload.js';

/** Events per seed in the default test run. */
export const defaultEvents = 2_000;

/**
 * Runs every seed of the range (a failure does not stop the others), then fails with every failing
 * seed's replay command and the first one's full report.
 */
export function runSeedRange(first: number, count: number, events = defaultEvents, overrides: RunOverrides = {}): void {
  let elections = 0;
  let commits = 0;
  let crashes = 0;
  let reads = 0;
  let snapshotsInstalled = 0;
  const failures: { seed: number; error: unknown }[] = [];
  for (let seed = first; seed < first + count; seed++) {
    try {
      const s = runRandom({ seed, events, ...overrides });
      elections += s.elections;
      commits += s.commits;
      crashes += s.crashes;
      reads += s.readsChecked;
      snapshotsInstalled += s.snapshotsInstalled;
    } catch (error) {
      failures.push({ seed, error });
    }
  }
  if (failures.length > 0) {
    const lines = failures.map(({ seed, error }) => {
      const what = error instanceof SimViolation ? `${error.invariant}: ${error.detail.split('\n')[0]}` : String(error);
      return `  seed ${seed}: ${what}\n    replay: ${replayCommand(seed, events, overrides)}`;
    });
    const firstError = failures[0]!.error;
    const report = firstError instanceof SimViolation ? firstError.message : String((firstError as Error)?.stack ?? firstError);
    throw new Error(`${failures.length} of ${count} seeds failed:\n${lines.join('\n')}\n\nfirst failure:\n${report}`);
  }
  // Coverage, so a run that silently did nothing fails.
  expect(elections).toBeGreaterThanOrEqual(count);
  expect(commits).toBeGreaterThan(count);
  expect(crashes).toBeGreaterThan(0);
  expect(reads).toBeGreaterThan(0);
  console.log(
    `sim seeds ${first}..${first + count - 1} × ${events} events${overrides.asyncWrites ? ', asynchronous storage writes' : ''} (tick, arrival, fault or client op): ` +
      `${elections} elections, ${commits} commits, ${crashes} crashes, ${reads} reads checked, ${snapshotsInstalled} snapshots installed… OK`,
  );
}
