// captureState: the node's envelope goes in front of the state machine's bytes, written by the
// state machine when it can (no copy), added with a copy when it cannot or does not.
import { describe, expect, it } from 'vitest';
import { captureState } from '../../src/node/snapshot-capture.js';
import type { StateMachine } from '../../src/node/state-machine.js';

const envelope = new Uint8Array([0x52, 0x57, 0x53, 0x31, 2, 0, 0, 0, 0x7b, 0x7d]);
const state = new Uint8Array([1, 2, 3, 4, 5]);
const expected = Buffer.concat([envelope, state]);

function machine(capture?: (prefix: Uint8Array | undefined) => Uint8Array): StateMachine<unknown> {
  return {
    apply: () => undefined,
    snapshot: () => state,
    restore: () => undefined,
    ...(capture === undefined
      ? {}
      : {
          *captureSnapshot(options?: { prefix?: Uint8Array }): Generator<void, Uint8Array, undefined> {
            yield;
            yield;
            return capture(options?.prefix);
          },
        }),
  };
}

describe('captureState', () => {
  it('wraps snapshot() when the state machine has no captureSnapshot', async () => {
    expect(Buffer.from((await captureState(machine(), envelope).bytes(() => true))!)).toEqual(expected);
  });

  it('takes the bytes as they are when the state machine wrote the prefix itself', async () => {
    let written: Uint8Array | undefined;
    const image = await captureState(machine((prefix) => (written = Buffer.concat([prefix!, state]))), envelope).bytes(() => true);
    expect(image).toBe(written); // not copied
    expect(Buffer.from(image!)).toEqual(expected);
  });

  it('adds the envelope with a copy when the state machine ignored the prefix', async () => {
    const image = await captureState(machine(() => state), envelope).bytes(() => true);
    expect(Buffer.from(image!)).toEqual(expected);
  });

  it('gives undefined once the capture is no longer wanted between slices', async () => {
    expect(await captureState(machine(() => state), envelope).bytes(() => false)).toBeUndefined();
  });
});
