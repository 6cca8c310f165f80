// The crash test of the default run: 20 rounds of SIGKILL at seeded random moments while a child
// process appends; after each, the log must be in the state the latest acknowledged write (or a
// later one) left it in, byte for byte, whether it was in LMDB already or only in the
// write-ahead log at the kill.
// Longer runs: npm run crash:storage -- --rounds N [--seed S]
import { describe, expect, it } from 'vitest';
import { LmdbLogStore } from '../../src/storage/index.js';
import { checkLog, crashEntry, runCrashRounds } from './crash-runner.js';
import { tempDir } from './helpers.js';

describe('LmdbLogStore under kill -9', () => {
  it('keeps every acknowledged entry intact across 20 SIGKILLs', async () => {
    const seed = 0x5eed_0004;
    const report = await runCrashRounds({ rounds: 20, seed });
    expect(report.rounds).toHaveLength(20);
    for (const round of report.rounds) {
      expect(round.ackedWrite).toBeGreaterThan(0);
      expect(round.matchedWrite).toBeGreaterThanOrEqual(round.ackedWrite);
    }
    // The log kept growing across rounds.
    expect(report.rounds[19]!.lastIndex).toBeGreaterThan(report.rounds[0]!.lastIndex);
    // Kills landed between a WAL write and its checkpoint: the reopen replayed acknowledged
    // writes that only the WAL held.
    expect(report.rounds.filter((round) => round.replayed > 0).length).toBeGreaterThan(0);
  }, 120_000);
});

// The checker above is what makes that test able to fail; these pin what it accepts.
describe('crash checker', () => {
  async function logEndingAt(lastIndex: number, commit: number): Promise<{ path: string; remove(): void }> {
    const dir = tempDir('crash-check');
    const store = await LmdbLogStore.open(dir.path);
    const entries = Array.from({ length: lastIndex }, (_, i) => crashEntry(i + 1));
    await store.save({ entries, hardState: { term: crashEntry(lastIndex).term, vote: 'n1', commit } });
    await store.close();
    return dir;
  }

  it('refuses a log that ends before the latest acknowledged write', async () => {
    const dir = await logEndingAt(10, 10);
    try {
      const writes = [{ lastIndex: 10, commit: 10 }, { lastIndex: 12, commit: 10 }];
      await expect(checkLog(dir.path, { writes, ackedWrite: 2, ackedCompact: 0 })).rejects.toThrow(/lost acknowledged writes/);
    } finally {
      dir.remove();
    }
  });

  it('refuses a log whose hard state went back to before the latest acknowledged write', async () => {
    const dir = await logEndingAt(12, 10);
    try {
      const writes = [{ lastIndex: 10, commit: 10 }, { lastIndex: 12, commit: 12 }];
      await expect(checkLog(dir.path, { writes, ackedWrite: 2, ackedCompact: 0 })).rejects.toThrow(/lost acknowledged writes/);
    } finally {
      dir.remove();
    }
  });

  it('accepts a later write that truncated below an acknowledged one, as a rewrite does', async () => {
    // Write 1 (acknowledged) ended the log at 12; write 2 rewrote from 10 with one entry.
    const dir = await logEndingAt(10, 10);
    try {
      const writes = [{ lastIndex: 12, commit: 10 }, { lastIndex: 10, commit: 10 }];
      const result = await checkLog(dir.path, { writes, ackedWrite: 1, ackedCompact: 0 });
      expect(result.matchedWrite).toBe(2);
    } finally {
      dir.remove();
    }
  });
});
