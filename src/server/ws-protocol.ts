/**
 * The binary client protocol over WebSocket (`/v1/ws`), for pipelined clients: each binary message
 * carries one or more codec frames (`ClientRequest`, docs/wire-format.md), answered by
 * `ClientReply` frames with the same `requestId`, in completion order. Many requests may be in
 * flight on one connection; replies finishing together (in one microtask pass) go out as one message.
 *
 * Reads use the consistency named at connect time (`/v1/ws?consistency=lease`; linearizable by
 * default). On a follower, writes and non-stale reads answer `notLeader` with `leaderHint` set to
 * the leader's client URL (or its id when the URL is unknown); the client reconnects there.
 * A malformed frame closes the connection (code 1002) and costs the server nothing else.
 */
import type uWS from 'uWebSockets.js';
import type { CacheRequest, CacheResult } from '../cache/index.js';
import { type ClientReply, type ClientRequest, decodeFrame, encodedFrameSize, encodeFrameInto, isRetryableReply } from '../codec/index.js';
import { NotLeaderError, isRaftwireError } from '../core/errors.js';
import { Slab } from '../util/slab.js';
import { CONSISTENCIES, type Consistency, type KvService } from './kv-service.js';

export interface WsProtocolOptions {
  kv: KvService;
  leaderUrl?: (nodeId: string) => string | undefined;
  authToken?: string;
  /** Largest incoming message, bytes. */
  payloadBytesMax: number;
  /** Requests one connection may have in flight; past it the connection is closed (1008). */
  inflightPerConnectionMax?: number;
  /** Bytes buffered for a slow reader before it is disconnected. */
  backpressureBytesMax?: number;
  /**
   * Open connections past which an upgrade is refused with 503 `HTTP_ERR_TOO_MANY_CONNECTIONS`
   * (and `Retry-After: 1`). Default 10,000.
   */
  connectionsMax?: number;
  /**
   * True once the node is shutting down: a request is then answered `RAFT_ERR_NODE_STOPPED`
   * (retryable: the client goes to another node) instead of being served.
   */
  closing?: () => boolean;
}

/** What the server needs to know of the protocol's connections (for a drain). */
export interface WsProtocolHandle {
  /** Requests being served now, over every connection. */
  inflightRequests(): number;
  /** Connections open now. */
  connections(): number;
}

/** The reply to every successful set and cas: built once (encoding only reads it). */
const OK: ClientReply = Object.freeze({ type: 'ClientReply', status: 'ok', code: '', value: null, leaderHint: null }) as ClientReply;
const SHUTTING_DOWN: ClientReply = Object.freeze({ type: 'ClientReply', status: 'error', code: 'RAFT_ERR_NODE_STOPPED', value: null, leaderHint: null }) as ClientReply;

interface ConnectionState {
  consistency: Consistency;
  /** Write sequences received on this connection and not yet answered, per client id. */
  unanswered: Map<string, Set<number>>;
  inflight: number;
  outgoing: { reply: ClientReply; requestId: number }[];
  flushScheduled: boolean;
  closed: boolean;
}

/**
 * Incoming messages are copied here: a request's views (its value) live until it is answered,
 * and requests are answered in about the order they came (src/util/slab.ts).
 */
const requestSlab = new Slab(256 * 1024);
/** Replies are encoded here; uWS copies a message when it is sent, so one buffer serves every flush. */
let replyScratch = new Uint8Array(64 * 1024);
const replyScratchBytesKept = 1024 * 1024;

const PROTOCOL_ERROR = 1002;
const POLICY_VIOLATION = 1008;

export function attachWsProtocol(app: uWS.TemplatedApp, options: WsProtocolOptions): WsProtocolHandle {
  const inflightMax = options.inflightPerConnectionMax ?? 4096;
  let inflightAll = 0;
  const connectionsMax = options.connectionsMax ?? 10_000;
  // Counted at open, not at upgrade: an upgrade whose client is gone before it opens never closes.
  // Upgrades answered in the same turn can pass the bound by their number, no more.
  let connections = 0;
  app.ws<ConnectionState>('/v1/ws', {
    maxPayloadLength: options.payloadBytesMax,
    maxBackpressure: options.backpressureBytesMax ?? 16 * 1024 * 1024,
    closeOnBackpressureLimit: 1,
    idleTimeout: 120,
    upgrade: (res, req, context) => {
      const query = new URLSearchParams(req.getQuery() ?? '');
      const consistency = (query.get('consistency') ?? 'linearizable') as Consistency;
      const authorization = req.getHeader('authorization');
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      if (options.authToken !== undefined && authorization !== `Bearer ${options.authToken}` && query.get('token') !== options.authToken) {
        res.writeStatus('401 Unauthorized').end(JSON.stringify({ code: 'HTTP_ERR_UNAUTHORIZED', message: 'a valid bearer token is required' }));
        return;
      }
      if (connections >= connectionsMax) {
        res.writeStatus('503 Service Unavailable').writeHeader('retry-after', '1').end(JSON.stringify({ code: 'HTTP_ERR_TOO_MANY_CONNECTIONS', message: `over ${connectionsMax} WebSocket connections; try another node or later` }));
        return;
      }
      if (!CONSISTENCIES.includes(consistency)) {
        res.writeStatus('400 Bad Request').end(JSON.stringify({ code: 'HTTP_ERR_BAD_REQUEST', message: `consistency must be one of ${CONSISTENCIES.join(', ')}` }));
        return;
      }
      const state: ConnectionState = { consistency, unanswered: new Map(), inflight: 0, outgoing: [], flushScheduled: false, closed: false };
      res.upgrade(state, key, protocol, extensions, context);
    },
    message: (ws, message, isBinary) => {
      const state = ws.getUserData();
      if (!isBinary) return ws.end(PROTOCOL_ERROR, 'binary frames only');
      // uWS reuses `message` after this callback: copy once, then decode frames as views of the copy.
      const bytes = requestSlab.copy(new Uint8Array(message));
      let offset = 0;
      while (offset < bytes.length) {
        const result = decodeFrame(bytes, offset);
        if (result.status !== 'ok') return ws.end(PROTOCOL_ERROR, result.status === 'error' ? result.error.code : 'truncated frame');
        offset += result.consumed;
        if (result.message.type !== 'ClientRequest') return ws.end(PROTOCOL_ERROR, 'expected ClientRequest frames');
        if (++state.inflight > inflightMax) return ws.end(POLICY_VIOLATION, `over ${inflightMax} requests in flight`);
        const requestId = result.requestId;
        const request = result.message;
        // The client counts a write answered only when its reply arrives on this connection, so
        // everything below the lowest write still in flight here has been answered. Writes arrive
        // in sequence order (the protocol's rule), so the set's first element is that lowest one;
        // a client breaking the rule can only get its own retries refused as stale, never applied twice.
        let pending: Set<number> | undefined;
        let ackedThrough = 0;
        if (request.op !== 'get' && request.sequence > 0) {
          pending = state.unanswered.get(request.clientId);
          if (pending === undefined) state.unanswered.set(request.clientId, (pending = new Set()));
          pending.add(request.sequence);
          ackedThrough = (pending.values().next().value as number) - 1;
        }
        inflightAll++;
        if (options.closing?.()) answer(ws, state, requestId, request, pending, SHUTTING_DOWN);
        else if (request.op === 'get') {
          // Reads and writes take a callback, not a promise: one closure per request on the leader's hottest path.
          options.kv.getThen(request.key, state.consistency, (error, value) =>
            answer(ws, state, requestId, request, pending, error === null ? readReplyOf(value) : errorReplyOf(options, error)),
          );
        } else {
          options.kv.writeThen(toCacheRequest(request), { clientId: request.clientId, sequence: request.sequence, ackedThrough }, (error, result) =>
            answer(ws, state, requestId, request, pending, error === null ? writeReplyOf(request, result!) : errorReplyOf(options, error)),
          );
        }
      }
    },
    open: () => {
      connections++;
    },
    close: (ws) => {
      connections--;
      ws.getUserData().closed = true;
    },
  });
  return { inflightRequests: () => inflightAll, connections: () => connections };

  /** Queues `reply` to request `requestId` for this turn's message, and settles its bookkeeping. */
  function answer(ws: uWS.WebSocket<ConnectionState>, state: ConnectionState, requestId: number, request: ClientRequest, pending: Set<number> | undefined, reply: ClientReply): void {
    state.inflight--;
    inflightAll--;
    // A write refused for a passing reason will be sent again on another connection: the
    // session must not be told to forget it by the writes that follow on this one.
    if (!isRetryableReply(reply)) pending?.delete(request.sequence);
    if (pending?.size === 0) state.unanswered.delete(request.clientId);
    if (state.closed) return;
    state.outgoing.push({ reply, requestId });
    if (!state.flushScheduled) {
      state.flushScheduled = true;
      // A microtask, not setImmediate: replies resolved together (one Ready's reads or applied
      // writes) reach this point in the same microtask pass, so they still go out as one message,
      // and a lone reply does not wait for the rest of the event-loop turn.
      queueMicrotask(() => flush(ws, state));
    }
  }
}

/** Sends every reply ready this turn as one message. */
function flush(ws: uWS.WebSocket<ConnectionState>, state: ConnectionState): void {
  state.flushScheduled = false;
  if (state.closed || state.outgoing.length === 0) return;
  let size = 0;
  for (const { reply } of state.outgoing) size += encodedFrameSize(reply);
  if (size > replyScratch.length) replyScratch = new Uint8Array(Math.max(size, 2 * replyScratch.length));
  const out = replyScratch.subarray(0, size);
  let offset = 0;
  for (const { reply, requestId } of state.outgoing) offset += encodeFrameInto(reply, requestId, out, offset);
  state.outgoing.length = 0;
  // Outside a uWS callback (replies resolve in a microtask), an uncorked send is left for uWS to
  // flush later; corked, it goes out now, in one syscall. uWS copies the message (or drops the
  // connection past its backpressure limit), so the scratch is free again when send returns.
  ws.cork(() => ws.send(out, true));
  if (replyScratch.length > replyScratchBytesKept) replyScratch = new Uint8Array(64 * 1024);
}

function reply(status: ClientReply['status'], code = '', value: Uint8Array | null = null, leaderHint: string | null = null): ClientReply {
  return { type: 'ClientReply', status, code, value, leaderHint };
}

function toCacheRequest(request: ClientRequest): CacheRequest {
  switch (request.op) {
    case 'set':
      return { op: 'set', key: request.key, value: request.value ?? new Uint8Array(0), ttlMs: request.ttlMs || undefined };
    case 'delete':
      return { op: 'delete', key: request.key };
    case 'cas':
      return { op: 'cas', key: request.key, expected: request.expected, value: request.value ?? new Uint8Array(0), ttlMs: request.ttlMs || undefined };
    case 'get':
      throw new Error('get is not a write');
  }
}

function writeReplyOf(request: ClientRequest, result: CacheResult): ClientReply {
  if (result.ok) return request.op === 'delete' ? reply(result.value === null ? 'notFound' : 'ok', '', null) : OK;
  return reply(result.code === 'CACHE_ERR_CAS_MISMATCH' ? 'conflict' : 'error', result.code ?? 'CACHE_ERR_UNKNOWN', result.value);
}

function readReplyOf(value: Uint8Array | undefined): ClientReply {
  return value === undefined ? reply('notFound', 'KV_ERR_NOT_FOUND') : reply('ok', '', value);
}

function errorReplyOf(options: WsProtocolOptions, error: unknown): ClientReply {
  if (error instanceof NotLeaderError) {
    const hint = error.leaderId === null ? null : options.leaderUrl?.(error.leaderId) ?? error.leaderId;
    return reply('notLeader', error.code, null, hint);
  }
  return reply('error', isRaftwireError(error) ? error.code : 'SERVER_ERR_INTERNAL');
}
