/**
 * Runs an iterator one `next()` per event-loop turn, so long work (serializing or restoring a large
 * state) leaves room for everything else in between. Abandoned, with `return()` called, once
 * `wanted` turns false between steps.
 *
 * @example
 * ```ts
 * const outcome = await stepPerTurn(stateMachine.captureSnapshot!(), () => running);
 * if (outcome !== undefined) save(outcome.value);
 * ```
 */
export async function stepPerTurn<T>(steps: Iterator<void, T, undefined>, wanted: () => boolean): Promise<{ value: T } | undefined> {
  try {
    for (;;) {
      const step = steps.next();
      if (step.done) return { value: step.value };
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!wanted()) return undefined;
    }
  } finally {
    steps.return?.();
  }
}
