/** Shared body of the default randomised test files: a range of seeds, each a full random run. */
import { expect } from 'vitest';
import { runRandom } from './workload.js';

/** Events per seed in the default test run. */
export const defaultEvents = 2_000;

export function runSeedRange(first: number, count: number, events = defaultEvents): void {
  let elections = 0;
  let commits = 0;
  let crashes = 0;
  let reads = 0;
  let snapshotsInstalled = 0;
  for (let seed = first; seed < first + count; seed++) {
    const s = runRandom({ seed, events });
    elections += s.elections;
    commits += s.commits;
    crashes += s.crashes;
    reads += s.readsChecked;
    snapshotsInstalled += s.snapshotsInstalled;
  }
  // Coverage, so a run that silently did nothing fails.
  expect(elections).toBeGreaterThanOrEqual(count);
  expect(commits).toBeGreaterThan(count);
  expect(crashes).toBeGreaterThan(0);
  expect(reads).toBeGreaterThan(0);
  console.log(
    `sim seeds ${first}..${first + count - 1} × ${events} events (tick, arrival, fault or client op): ` +
      `${elections} elections, ${commits} commits, ${crashes} crashes, ${reads} reads checked, ${snapshotsInstalled} snapshots installed… OK`,
  );
}
