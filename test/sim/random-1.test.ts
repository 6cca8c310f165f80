// Randomised runs, part 1 of 2: seeds 1..500 × 2,000 events (1,000 seeds × 2,000 events in all,
// split in two files so the two test workers share them; the issue asks for at least 500 × 2,000).
// A failure lists every failing seed with its replay command; `npm run sim -- --seeds N --events M`
// runs longer.
import { it } from 'vitest';
import { runSeedRange } from './random.js';

it('random runs: seeds 1..500 × 2,000 events', () => {
  runSeedRange(1, 500);
}, 600_000);
