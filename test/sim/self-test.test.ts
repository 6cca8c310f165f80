// The simulator must be able to fail: plant a storage bug (a restarted node forgets the last entry
// it persisted, though it may have acknowledged it) and the randomised runs must catch it, with a
// seed and a replay command.
import { expect, it } from 'vitest';
import { SimViolation } from './checker.js';
import { runRandom } from './workload.js';

it('catches a node that forgets an acknowledged entry after a crash', () => {
  const found: SimViolation[] = [];
  for (let seed = 1; seed <= 60 && found.length < 3; seed++) {
    try {
      runRandom({ seed, events: 2_000, amnesia: 'lastEntry' });
    } catch (e) {
      if (!(e instanceof SimViolation)) throw e;
      found.push(e);
    }
  }
  expect(found.length).toBeGreaterThanOrEqual(3);
  for (const v of found) {
    expect(v.message).toContain(`npm run sim -- --seed`);
    expect(v.dump).toContain('last ');
  }
  // Safety, not only liveness, is what breaks.
  expect(found.some((v) => v.invariant !== 'liveness')).toBe(true);
});

it('catches nothing when storage is correct (same seeds)', () => {
  for (let seed = 1; seed <= 10; seed++) runRandom({ seed, events: 2_000 });
});
