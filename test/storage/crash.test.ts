// The crash test of the default run: 20 rounds of SIGKILL at seeded random moments while a child
// process appends; after each, every acknowledged entry must be there, byte for byte, whether it
// was in LMDB already or only in the write-ahead log at the kill.
// Longer runs: npm run crash:storage -- --rounds N [--seed S]
import { describe, expect, it } from 'vitest';
import { runCrashRounds } from './crash-runner.js';

describe('LmdbLogStore under kill -9', () => {
  it('keeps every acknowledged entry intact across 20 SIGKILLs', async () => {
    const seed = 0x5eed_0004;
    const report = await runCrashRounds({ rounds: 20, seed });
    expect(report.rounds).toHaveLength(20);
    // Each round acknowledged something and the log kept growing across rounds.
    for (const round of report.rounds) expect(round.lastIndex).toBeGreaterThan(round.ackedIndex);
    expect(report.rounds[19]!.lastIndex).toBeGreaterThan(report.rounds[0]!.lastIndex);
    // Kills landed between a WAL write and its checkpoint: the reopen replayed acknowledged
    // writes that only the WAL held.
    expect(report.rounds.filter((round) => round.replayed > 0).length).toBeGreaterThan(0);
  }, 120_000);
});
