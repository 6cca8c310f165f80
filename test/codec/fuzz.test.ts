import { describe, expect, it } from 'vitest';
import { runFuzz } from './fuzz.js';
import { requireWasmCodec } from './wasm-loader.js';

// 100,000 cases from a fixed seed (FUZZ_SEED overrides it; a failure prints the seed to replay with
// `npm run fuzz:codec -- --seed S --count N`). Longer runs: npm run fuzz:codec -- --count N.
const SEED = Number(process.env['FUZZ_SEED'] ?? 20_261_121);
const CASES = 100_000;

describe('codec fuzzing', () => {
  it(`${CASES} random and mutated frames through both decoders (seed ${SEED})`, () => {
    const summary = runFuzz(requireWasmCodec(), SEED, CASES);
    expect(summary.failures, `reproduce with: npm run fuzz:codec -- --seed ${SEED} --count ${CASES}`).toEqual([]);
    expect(summary.cases).toBe(CASES);
    // The mutations reach past the checksum into every kind of rejection, not only CHECKSUM.
    for (const outcome of ['ok', 'needMore', 'CODEC_ERR_CHECKSUM', 'CODEC_ERR_MALFORMED', 'CODEC_ERR_FRAME_TOO_LARGE']) {
      expect(summary.byOutcome[outcome] ?? 0, outcome).toBeGreaterThan(0);
    }
  });
});
