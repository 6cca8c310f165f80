import { describe, expect, it } from 'vitest';
import { InvalidConfigError, resolveRaftConfig } from '../../src/core/index.js';

const random = (): number => 0.5;

describe('resolveRaftConfig', () => {
  it('fills the defaults and converts milliseconds to ticks', () => {
    const c = resolveRaftConfig({ id: 'n1', random });
    expect(c.electionTimeoutMinTicks).toBe(15);
    expect(c.electionTimeoutMaxTicks).toBe(30);
    expect(c.heartbeatIntervalTicks).toBe(5);
    expect(c.preVote).toBe(true);
    expect(c.checkQuorum).toBe(true);
    expect(c.maxInflightMessages).toBe(256);
  });

  it.each([
    [{ id: '' }, /id must be a non-empty string/],
    [{ tickMs: 0 }, /tickMs must be a positive integer/],
    [{ electionTimeoutMinMs: 155 }, /multiple of tickMs.*use 160/],
    [{ electionTimeoutMinMs: 300, electionTimeoutMaxMs: 300 }, /greater than electionTimeoutMinMs/],
    [{ heartbeatIntervalMs: 150 }, /heartbeatIntervalMs \(150\) must be less than electionTimeoutMinMs/],
    [{ maxInflightMessages: 0 }, /maxInflightMessages must be a positive integer/],
    [{ maxBatchBytes: 1.5 }, /maxBatchBytes must be a positive integer/],
    [{ snapshotThreshold: -1 }, /snapshotThreshold/],
  ])('rejects %j with a message that says how to fix it', (override, message) => {
    const attempt = (): unknown => resolveRaftConfig({ id: 'n1', random, ...override });
    expect(attempt).toThrow(InvalidConfigError);
    expect(attempt).toThrow(message);
  });

  it('rejects a missing generator', () => {
    expect(() => resolveRaftConfig({ id: 'n1' } as never)).toThrow(/seeded generator/);
  });
});
