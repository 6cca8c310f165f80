import { RaftwireError } from '../core/errors.js';

/** The node is not running (not started yet, or stopped); `code` `RAFT_ERR_NODE_STOPPED`. */
export class NodeStoppedError extends RaftwireError {
  constructor(message = 'the raft node is stopped') {
    super('RAFT_ERR_NODE_STOPPED', message);
  }
}

/**
 * The node hit a failure it cannot continue safely from (its log could not be written, so its
 * in-memory Raft state is ahead of its disk). It stops; restarting it recovers from what is
 * durable. `code` `RAFT_ERR_NODE_FATAL`; `cause` is the underlying error.
 */
export class NodeFatalError extends RaftwireError {
  constructor(message: string, cause: unknown) {
    super('RAFT_ERR_NODE_FATAL', message, { cause });
  }
}

/** A peer did not answer a request in the same round it was stepped (stale or ignored message). */
export class NoResponseError extends RaftwireError {
  constructor(message: string) {
    super('RAFT_ERR_NO_RESPONSE', message);
  }
}

/** A proposal larger than `proposalBytesMax`; `code` `RAFT_ERR_PROPOSAL_TOO_LARGE`. Nothing was proposed. */
export class ProposalTooLargeError extends RaftwireError {
  constructor(bytes: number, bytesMax: number) {
    super('RAFT_ERR_PROPOSAL_TOO_LARGE', `a proposal of ${bytes} bytes is over proposalBytesMax (${bytesMax}); split it or raise the limit`);
  }
}

/**
 * A membership change did not finish in time (the new member did not catch up, or the previous
 * change did not commit); `code` `RAFT_ERR_MEMBERSHIP_TIMEOUT`. The change may still complete;
 * asking again is safe, `addNode`/`removeNode` are idempotent.
 */
export class MembershipTimeoutError extends RaftwireError {
  constructor(message: string) {
    super('RAFT_ERR_MEMBERSHIP_TIMEOUT', message);
  }
}
