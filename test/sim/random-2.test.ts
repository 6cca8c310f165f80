// Randomised runs, part 2 of 2: seeds 501..1000 × 2,000 events (see random-1.test.ts).
import { it } from 'vitest';
import { runSeedRange } from './random.js';

it('random runs: seeds 501..1000 × 2,000 events', () => {
  runSeedRange(501, 500);
}, 600_000);
