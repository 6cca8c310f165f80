import { defineConfig } from 'vitest/config';

// The default run is what CI runs (.ci/run → npm test). Long soak/fuzz/simulation runs have their
// own npm scripts; nothing here depends on wall-clock speed.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    // Two cores on CI: more workers only adds contention.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
