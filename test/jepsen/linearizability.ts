/**
 * A linearizability checker for key-value histories: the Wing–Gong search with Lowe's
 * memoisation, over each key separately (operations on different keys commute, so a history is
 * linearizable exactly when each key's sub-history is), as Porcupine does.
 *
 * Input is a list of completed or pending operations with real invoke and return times. An
 * operation that never returned (timed out) gets `returnMs: Infinity` and `output: undefined`:
 * it may have taken effect at any point after its invocation, or not at all.
 *
 * @example
 * ```ts
 * const verdict = checkLinearizability([
 *   { clientId: 1, input: { op: 'set', key: 'x', value: '1' }, output: {}, invokeMs: 0, returnMs: 10 },
 *   { clientId: 2, input: { op: 'get', key: 'x' }, output: { value: null }, invokeMs: 20, returnMs: 30 },
 * ]);
 * verdict.ok // false: a stale read
 * ```
 */
import { type KvInput, type KvOutput, type KvState, kvModel } from './kv-model.js';

export interface Operation {
  clientId: number;
  input: KvInput;
  /** undefined: the outcome is unknown (timed out); the op may or may not have taken effect. */
  output: KvOutput | undefined;
  invokeMs: number;
  /** Infinity when the operation never returned. */
  returnMs: number;
  /** Why the outcome is unknown: the client's error code (for reading a history; the checker ignores it). */
  error?: string;
}

export interface KeyVerdict {
  key: string;
  ok: boolean;
  /** The search gave up after `searchStepsMax` steps: neither proven nor refuted. */
  unknown: boolean;
  operations: number;
  /** On failure: the longest prefix the search could linearize, then the operations it could not place. */
  longestLinearized: Operation[];
  blocked: Operation[];
}

export interface Verdict {
  ok: boolean;
  unknown: boolean;
  operations: number;
  keys: KeyVerdict[];
  failures: KeyVerdict[];
}

export interface CheckOptions {
  /** Search steps per key before giving up with `unknown`. */
  searchStepsMax?: number;
}

interface Event {
  kind: 'call' | 'return';
  op: number; // index into the key's operations
  timeMs: number;
  prev: Event | null;
  next: Event | null;
  match: Event | null; // call → its return, return → its call
}

/** Checks a whole history; see the module comment. */
export function checkLinearizability(history: readonly Operation[], options: CheckOptions = {}): Verdict {
  const byKey = new Map<string, Operation[]>();
  for (const op of history) {
    if (!(op.invokeMs <= op.returnMs)) throw new RangeError(`operation returns before it is invoked: ${JSON.stringify(op)}`);
    const list = byKey.get(op.input.key);
    if (list === undefined) byKey.set(op.input.key, [op]);
    else list.push(op);
  }
  const keys = [...byKey].map(([key, ops]) => checkKey(key, ops, options.searchStepsMax ?? 5_000_000));
  const failures = keys.filter((k) => !k.ok);
  return {
    ok: failures.length === 0 && keys.every((k) => !k.unknown),
    unknown: failures.length === 0 && keys.some((k) => k.unknown),
    operations: history.length,
    keys,
    failures,
  };
}

function buildEvents(ops: readonly Operation[]): Event {
  const events: Event[] = [];
  ops.forEach((op, i) => {
    const call: Event = { kind: 'call', op: i, timeMs: op.invokeMs, prev: null, next: null, match: null };
    const ret: Event = { kind: 'return', op: i, timeMs: op.returnMs, prev: null, next: null, match: call };
    call.match = ret;
    events.push(call, ret);
  });
  // By time; at equal times calls first, which treats touching operations as concurrent (lenient).
  events.sort((a, b) => a.timeMs - b.timeMs || (a.kind === b.kind ? 0 : a.kind === 'call' ? -1 : 1));
  const head: Event = { kind: 'call', op: -1, timeMs: -Infinity, prev: null, next: null, match: null };
  let last = head;
  for (const e of events) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

/** Removes a call and its return from the list (the call is now linearized). */
function lift(call: Event): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

/** Puts them back, in reverse order of lift. */
function unlift(call: Event): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

class Bitset {
  readonly words: Uint32Array;
  constructor(bits: number) {
    this.words = new Uint32Array(Math.ceil(bits / 32) || 1);
  }
  set(i: number): void {
    this.words[i >>> 5]! |= 1 << (i & 31);
  }
  clear(i: number): void {
    this.words[i >>> 5]! &= ~(1 << (i & 31));
  }
  count(): number {
    let n = 0;
    for (let w of this.words) for (; w; w &= w - 1) n++;
    return n;
  }
  key(state: KvState): string {
    return `${this.words.join(',')}|${state === null ? '\u0000' : state}`;
  }
}

function checkKey(key: string, ops: readonly Operation[], searchStepsMax: number): KeyVerdict {
  const head = buildEvents(ops);
  const linearized = new Bitset(ops.length);
  const seen = new Set<string>(); // (linearized set, state) pairs already explored: Lowe's memoisation
  const calls: { event: Event; stateBefore: KvState }[] = [];
  let state = kvModel.init();
  let best: number[] = [];
  let bestBlocked: number[] = [];
  let steps = 0;
  let entry = head.next;
  while (head.next !== null) {
    if (++steps > searchStepsMax) {
      return { key, ok: true, unknown: true, operations: ops.length, longestLinearized: [], blocked: [] };
    }
    if (entry === null) break; // defensive: a return always stops the walk before the end
    if (entry.kind === 'call') {
      const op = ops[entry.op]!;
      const next = kvModel.step(state, op.input, op.output);
      if (next !== undefined) {
        linearized.set(entry.op);
        const memo = linearized.key(next);
        if (!seen.has(memo)) {
          seen.add(memo);
          calls.push({ event: entry, stateBefore: state });
          state = next;
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized.clear(entry.op);
      }
      entry = entry.next;
    } else {
      // A return whose call is not linearized yet: everything before it has been tried. Backtrack.
      if (calls.length > best.length || best.length === 0) {
        // The deepest point so far: what is left to place here could not be placed next.
        best = calls.map((c) => c.event.op);
        bestBlocked = [];
        for (let e: Event | null = head.next; e !== null && bestBlocked.length < 8; e = e.next) if (e.kind === 'call') bestBlocked.push(e.op);
      }
      const top = calls.pop();
      if (top === undefined) {
        return {
          key,
          ok: false,
          unknown: false,
          operations: ops.length,
          longestLinearized: best.map((i) => ops[i]!),
          blocked: bestBlocked.map((i) => ops[i]!),
        };
      }
      state = top.stateBefore;
      linearized.clear(top.event.op);
      unlift(top.event);
      entry = top.event.next;
    }
  }
  return { key, ok: true, unknown: false, operations: ops.length, longestLinearized: [], blocked: [] };
}

/** A readable account of a failed key, for logs. */
export function describeFailure(failure: KeyVerdict): string {
  const line = (op: Operation) =>
    `  client ${op.clientId}  [${op.invokeMs.toFixed(3)}, ${Number.isFinite(op.returnMs) ? op.returnMs.toFixed(3) : '∞'}]  ${kvModel.describe(op.input, op.output)}`;
  return [
    `key ${JSON.stringify(failure.key)}: not linearizable (${failure.operations} operations)`,
    'longest linearizable prefix, in the order found:',
    ...failure.longestLinearized.map(line),
    'operations that could not be placed next:',
    ...failure.blocked.map(line),
  ].join('\n');
}
