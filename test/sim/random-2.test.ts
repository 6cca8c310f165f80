// Randomised runs, part 2 of 2 (seeds 251..500; 500 seeds × 2,000 events in all, split in
// two files so the two test workers share them). A failure prints the seed and the replay command;
// `npm run sim -- --seeds N --events M` runs longer.
import { it } from 'vitest';
import { runSeedRange } from './random.js';

it('random runs: seeds 251..500 × 2,000 events', () => {
  runSeedRange(251, 250);
}, 600_000);
