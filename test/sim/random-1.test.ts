// Randomised runs, part 1 of 2 (seeds 1..250; 500 seeds × 2,000 events in all, split in
// two files so the two test workers share them). A failure prints the seed and the replay command;
// `npm run sim -- --seeds N --events M` runs longer.
import { it } from 'vitest';
import { runSeedRange } from './random.js';

it('random runs: seeds 1..250 × 2,000 events', () => {
  runSeedRange(1, 250);
}, 600_000);
