import type { VirtualClock } from '../../src/util/clock.js';

/** Lets every queued microtask (and promise chain) run; no real time passes that a test depends on. */
export async function flush(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Advances the virtual clock by `ms` and lets the continuations of the fired timers run. */
export async function advance(clock: VirtualClock, ms: number): Promise<void> {
  await flush();
  clock.advance(ms);
  await flush();
}

/** Tracks a promise's outcome without awaiting it. */
export function track<T>(promise: Promise<T>): { settled: boolean; value?: T; error?: unknown; promise: Promise<T> } {
  const state: { settled: boolean; value?: T; error?: unknown; promise: Promise<T> } = { settled: false, promise };
  promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

/**
 * Runs the virtual clock timer by timer until `promise` settles, so a test sees the exact times at
 * which things happen. Fails if it does not settle within `stepsMax` timers.
 */
export async function runUntilSettled<T>(clock: VirtualClock, promise: Promise<T>, stepsMax = 10_000): Promise<T> {
  const state = track(promise);
  for (let step = 0; step < stepsMax; step++) {
    await flush();
    if (state.settled) break;
    if (!clock.runNext()) {
      await flush();
      if (!state.settled) throw new Error(`promise did not settle and no timer is pending at ${clock.now()} ms`);
    }
  }
  return promise;
}

/**
 * Runs per property: `fallback` in the default suite; set RESILIENCE_PROPERTY_RUNS for a longer
 * soak, e.g. `RESILIENCE_PROPERTY_RUNS=20000 npx vitest run test/resilience`.
 */
export function propertyRuns(fallback: number): number {
  const fromEnv = Number(process.env.RESILIENCE_PROPERTY_RUNS);
  return Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : fallback;
}
