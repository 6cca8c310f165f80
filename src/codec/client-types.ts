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
