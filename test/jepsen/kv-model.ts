/**
 * The sequential specification of the cache's key-value operations, for the linearizability
 * checker: given the state of one key and an operation with its observed output, is that output
 * possible, and what is the state after it?
 *
 * An operation whose outcome is unknown (it timed out, or its client crashed) has `output:
 * undefined`: any output is accepted and its effect is applied, and the checker may also place it
 * after every other operation, which is the same as "never applied".
 */

/** One key-value operation as a client invoked it. Values are strings for readable histories. */
export type KvInput =
  | { op: 'get'; key: string }
  | { op: 'set'; key: string; value: string }
  | { op: 'delete'; key: string }
  | { op: 'cas'; key: string; expected: string | null; value: string };

/** What the client observed. `value` for get (null: absent); `ok` for cas. */
export interface KvOutput {
  value?: string | null;
  ok?: boolean;
}

/** The state of one key: its value, or null when absent. */
export type KvState = string | null;

export const kvModel = {
  init: (): KvState => null,

  /** Returns the state after `input`, or undefined if `output` is impossible from `state`. */
  step(state: KvState, input: KvInput, output: KvOutput | undefined): KvState | undefined {
    switch (input.op) {
      case 'get':
        if (output === undefined) return state;
        return output.value === state ? state : undefined;
      case 'set':
        return input.value;
      case 'delete':
        return null;
      case 'cas': {
        const applies = state === input.expected;
        if (output !== undefined && output.ok !== applies) return undefined;
        return applies ? input.value : state;
      }
    }
  },

  describe(input: KvInput, output: KvOutput | undefined): string {
    const out = output === undefined ? '?' : input.op === 'get' ? JSON.stringify(output.value) : input.op === 'cas' ? String(output.ok) : 'ok';
    switch (input.op) {
      case 'get':
        return `get(${input.key}) → ${out}`;
      case 'set':
        return `set(${input.key}, ${JSON.stringify(input.value)}) → ${out}`;
      case 'delete':
        return `delete(${input.key}) → ${out}`;
      case 'cas':
        return `cas(${input.key}, ${JSON.stringify(input.expected)} → ${JSON.stringify(input.value)}) → ${out}`;
    }
  },
};
