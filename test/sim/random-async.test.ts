// Randomised runs with asynchronous storage writes (src/core/ready.ts): Readies handed out before
// the last one is durable, writes finishing later and in order, crashes losing what is in flight
// (test/sim/ready-processing.ts). `npm run sim -- --async-writes on --seeds N` runs more.
import { it } from 'vitest';
import { runSeedRange } from './random.js';

it('random runs with asynchronous storage writes: seeds 5001..5300 × 2,000 events', () => {
  runSeedRange(5001, 300, undefined, { asyncWrites: true });
}, 600_000);
