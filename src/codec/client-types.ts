/**
 * The client protocol's messages: what a client sends to a raftwire server over a binary
 * connection, and what it gets back. The frame's `requestId` pairs a reply with its request.
 *
 * @example
 * ```ts
 * const req: ClientRequest = { type: 'ClientRequest', op: 'set', key: 'a', value: bytes('1'),
 *   expected: null, ttlMs: 0, clientId: 'c1', sequence: 7 };
 * socket.write(encodeFrame(req, 42));
 * ```
 * @module
 */

/** What a client asks for. */
export type ClientOp = 'get' | 'set' | 'delete' | 'cas';

/**
 * One key-value request. `value` is null for get/delete; `expected` is used by cas only (null there
 * means "only if absent"). `clientId` + `sequence` let the server apply a retried write once.
 */
export interface ClientRequest {
  type: 'ClientRequest';
  op: ClientOp;
  key: string;
  value: Uint8Array | null;
  expected: Uint8Array | null;
  /** Time to live in ms; 0 for none. */
  ttlMs: number;
  clientId: string;
  /** Increases by one per write of this client; 0 outside a session. */
  sequence: number;
}

/** How a request ended. `conflict` is a cas whose expected value did not match. */
export type ClientReplyStatus = 'ok' | 'notFound' | 'conflict' | 'notLeader' | 'error';

/** The answer to one {@link ClientRequest}. */
export interface ClientReply {
  type: 'ClientReply';
  status: ClientReplyStatus;
  /** Stable error code (e.g. `RAFT_ERR_NOT_LEADER`); empty when `status` is `ok`. */
  code: string;
  /** The value read (get) or the current value (failed cas); null when none. */
  value: Uint8Array | null;
  /** The leader this node believes in, when `status` is `notLeader`; null if unknown. */
  leaderHint: string | null;
}

/**
 * Reply codes of a request refused for a passing reason: leadership moving (the proposal was
 * dropped), no leader known yet, the node stopping or stopped. Sent again, on a new connection
 * (to this node or another), the request may succeed; a write keeps its client id and sequence,
 * so it still applies once. A server does not count a write not served ({@link isRetryableReply})
 * as answered on that connection: later writes there never tell the session to forget it (their
 * `ackedThrough` stays below it), so it can still be sent again.
 */
export const CLIENT_RETRY_CODES: ReadonlySet<string> = new Set(['RAFT_ERR_PROPOSAL_DROPPED', 'RAFT_ERR_NOT_LEADER', 'RAFT_ERR_NODE_STOPPED', 'RAFT_ERR_NODE_FATAL']);

/**
 * True if the request of `reply` was not served and is worth sending again: every `notLeader`
 * (to the leader it names, or, hint or not, later), and an `error` with one of
 * {@link CLIENT_RETRY_CODES}.
 */
export function isRetryableReply(reply: ClientReply): boolean {
  return reply.status === 'notLeader' || (reply.status === 'error' && CLIENT_RETRY_CODES.has(reply.code));
}
