/**
 * Taking a state machine's snapshot without holding up the node: serialized at once, or, when the
 * state machine offers `captureSnapshot()`, captured at once and serialized one slice per
 * event-loop turn (client requests and peers' messages are served in between).
 *
 * @example
 * ```ts
 * const state = captureState(stateMachine);          // consistent as of now
 * const image = await state.bytes(() => running);    // undefined if abandoned
 * ```
 */
import type { StateMachine } from './state-machine.js';

export interface CapturedState {
  /** The snapshot bytes; undefined, and the capture abandoned, once `wanted` turns false between slices. */
  bytes(wanted: () => boolean): Promise<Uint8Array | undefined>;
}

export function captureState(stateMachine: StateMachine<unknown>): CapturedState {
  const serializer = stateMachine.captureSnapshot?.();
  if (serializer === undefined) {
    const image = stateMachine.snapshot();
    return { bytes: async () => image };
  }
  return { bytes: (wanted) => runSerializer(serializer, wanted) };
}

async function runSerializer(serializer: Iterator<void, Uint8Array, undefined>, wanted: () => boolean): Promise<Uint8Array | undefined> {
  try {
    for (;;) {
      const step = serializer.next();
      if (step.done) return step.value;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!wanted()) return undefined;
    }
  } finally {
    serializer.return?.();
  }
}
