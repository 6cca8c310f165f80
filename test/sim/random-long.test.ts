// Long randomised runs: fewer seeds, ten times the events, so slow-building states (long divergent
// logs, many snapshots, membership drift) are reached too. `npm run sim -- --events 20000` goes
// further.
import { it } from 'vitest';
import { runSeedRange } from './random.js';

it('random runs: seeds 100001..100040 × 20,000 events', () => {
  runSeedRange(100_001, 40, 20_000);
}, 600_000);
