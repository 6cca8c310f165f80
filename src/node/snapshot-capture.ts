/**
 * Taking a state machine's snapshot without holding up the node: serialized at once, or, when the
 * state machine offers `captureSnapshot()`, captured at once and serialized one slice per
 * event-loop turn (client requests and peers' messages are served in between).
 *
 * @example
 * ```ts
 * const state = captureState(stateMachine, envelope); // consistent as of now
 * const image = await state.bytes(() => running);     // envelope + state; undefined if abandoned
 * ```
 */
import { sameBytes } from '../util/bytes.js';
import { withEnvelope } from './members.js';
import { stepPerTurn } from './step-per-turn.js';
import type { StateMachine } from './state-machine.js';

export interface CapturedState {
  /** `envelope` + the snapshot bytes; undefined, and the capture abandoned, once `wanted` turns false between slices. */
  bytes(wanted: () => boolean): Promise<Uint8Array | undefined>;
}

/** Captures the state now; its bytes come wrapped in `envelope` (copied only if the state machine cannot write it first). */
export function captureState(stateMachine: StateMachine<unknown>, envelope: Uint8Array): CapturedState {
  const serializer = stateMachine.captureSnapshot?.({ prefix: envelope });
  if (serializer === undefined) {
    const image = withEnvelope(envelope, stateMachine.snapshot());
    return { bytes: async () => image };
  }
  return {
    bytes: async (wanted) => {
      const image = (await stepPerTurn(serializer, wanted))?.value;
      const wrapped = image === undefined || (image.length >= envelope.length && sameBytes(image.subarray(0, envelope.length), envelope));
      return wrapped ? image : withEnvelope(envelope, image);
    },
  };
}
