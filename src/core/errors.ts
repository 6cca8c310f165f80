/**
 * Errors with stable codes. Every error raftwire raises derives from {@link RaftwireError} and has a
 * `code` callers match on (never the message). The root lives in `core` because `core` is the bottom
 * layer; every other layer may import it.
 *
 * @example
 * ```ts
 * try { await node.propose(data) } catch (e) {
 *   if (e instanceof RaftwireError && e.code === 'RAFT_ERR_NOT_LEADER') redirect(e.leaderId)
 * }
 * ```
 */

const kRaftwireError = Symbol.for('raftwire.error');

export class RaftwireError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
    (this as unknown as Record<symbol, boolean>)[kRaftwireError] = true;
  }
}

/** True for any raftwire error, even from another copy of the package (a brand, as undici does). */
export function isRaftwireError(value: unknown): value is RaftwireError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kRaftwireError] === true;
}

/**
 * A broken invariant: a bug in raftwire, never an operating error. It is not meant to be caught;
 * the message carries the state that broke it.
 */
export class AssertionError extends RaftwireError {
  constructor(message: string) {
    super('RAFT_ERR_ASSERTION', message);
  }
}

/** Throws {@link AssertionError} when `condition` is false. Keep the asserts on in production. */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new AssertionError(typeof message === 'function' ? message() : message);
}

/** For exhaustive switches over discriminated unions. */
export function assertNever(value: never, what = 'value'): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/** A proposal or read reached a node that is not the leader. `leaderId` is its best guess, or null. */
export class NotLeaderError extends RaftwireError {
  readonly leaderId: string | null;
  constructor(leaderId: string | null, message = `not the leader${leaderId ? `; leader is ${leaderId}` : '; leader unknown'}`) {
    super('RAFT_ERR_NOT_LEADER', message);
    this.leaderId = leaderId;
  }
}

/** A proposal was dropped (leadership lost, transfer in progress, queue full). Safe to retry. */
export class ProposalDroppedError extends RaftwireError {
  constructor(message: string) {
    super('RAFT_ERR_PROPOSAL_DROPPED', message);
  }
}

/** A configuration option is out of range or inconsistent; the message says how to fix it. */
export class InvalidConfigError extends RaftwireError {
  constructor(message: string) {
    super('RAFT_ERR_INVALID_CONFIG', message);
  }
}

/** A membership change that cannot be applied to the current configuration (the message says why). */
export class ConfChangeRejectedError extends RaftwireError {
  constructor(message: string) {
    super('RAFT_ERR_CONF_CHANGE_REJECTED', message);
  }
}

/** A snapshot handed to the core does not fit its log (wrong index, term or configuration). */
export class InvalidSnapshotError extends RaftwireError {
  constructor(message: string) {
    super('RAFT_ERR_INVALID_SNAPSHOT', message);
  }
}

/** Restored state (hard state, snapshot, entries) is inconsistent; the message says what breaks. */
export class InvalidRestoredStateError extends RaftwireError {
  constructor(message: string) {
    super('RAFT_ERR_INVALID_RESTORED_STATE', message);
  }
}

/**
 * A message breaks Raft's structure (entries not contiguous after prevLogIndex, a term above the
 * message's own, …). Nothing was changed; the node keeps serving.
 */
export class InvalidMessageError extends RaftwireError {
  constructor(message: string) {
    super('RAFT_ERR_INVALID_MESSAGE', message);
  }
}
