/**
 * The client-facing HTTP API on uWebSockets.js: the cache under `/v1/kv/:key`, the cluster view,
 * health and Prometheus metrics. Errors are JSON `{ code, message }` with a stable `code`.
 *
 * A follower answers writes and non-stale reads with `307 Temporary Redirect` to the same path on
 * the leader (clients and `curl -L` follow it; a redirect keeps the method and body), or `503` with
 * `Retry-After` while no leader is known. Redirecting rather than forwarding keeps a follower from
 * becoming a proxy whose queue fills when the leader is slow; docs/server.md says more.
 *
 * Robustness: bodies past `bodyBytesMax` are refused with 413 as soon as they exceed it; requests
 * past `inflightRequestsMax` get 503; each request has `requestTimeoutMs`; a client that goes away
 * mid-request only loses its own request (uWS `onAborted`); a rate limiter answers 429 with
 * `Retry-After`; an optional bearer token guards `/v1/*`; CORS headers are added for an allowed
 * origin.
 *
 * @example
 * ```ts
 * const server = new HttpServer({ kv, host: '127.0.0.1', port: 8001, leaderUrl: (id) => urls[id] });
 * await server.listen();
 * // curl -X PUT --data hello http://127.0.0.1:8001/v1/kv/greeting
 * ```
 */
import uWS from 'uWebSockets.js';
import type { CacheRequest, CacheResult } from '../cache/index.js';
import { NotLeaderError, isRaftwireError } from '../core/errors.js';
import type { ProgressStatus } from '../core/index.js';
import type { NodeId } from '../core/types.js';
import type { RateLimiter } from '../resilience/index.js';
import { HttpError } from './errors.js';
import { CONSISTENCIES, type Consistency, type KvService, statusOf, statusOfResult } from './kv-service.js';
import { type CountCell, ServerMetrics } from './metrics.js';
import { type RaftNode, validateEndpoints } from '../node/index.js';
import { attachWsProtocol, type WsProtocolHandle } from './ws-protocol.js';
import { type ExchangeHost, HttpExchange, type Reply } from './http-exchange.js';
import { Slab } from '../util/slab.js';

export interface HttpServerOptions {
  kv: KvService;
  host?: string;
  /** 0 picks a free port; read it from `port` after `listen()`. */
  port?: number;
  /** The client URL of a node (e.g. `http://127.0.0.1:8002`), for redirects to the leader. */
  leaderUrl?: (nodeId: string) => string | undefined;
  /** When set, `/v1/*` requires `Authorization: Bearer <token>`. */
  authToken?: string;
  /** When set, CORS headers allow this origin (`*` for any). */
  corsOrigin?: string;
  rateLimiter?: RateLimiter;
  /** Largest request body (bytes). Default 1 MiB + 4 KiB (the largest value plus room for JSON). */
  bodyBytesMax?: number;
  /** Requests waiting for their answer (a read round, a commit, a body) before new ones get 503. Default 10,000. */
  inflightRequestsMax?: number;
  /** Open WebSocket client connections before new upgrades get 503. Default 10,000. */
  webSocketConnectionsMax?: number;
  /** A request not answered in this time gets 504. Default 10 s. */
  requestTimeoutMs?: number;
  metrics?: ServerMetrics;
}

const EMPTY_BODY = new Uint8Array(0);
/**
 * Request bodies are copied here (uWS's chunks are valid only during the callback): a body lives
 * until its request is answered, and requests are answered in about the order they came
 * (src/util/slab.ts). Bodies over 64 KiB get memory of their own.
 */
const bodySlab = new Slab(256 * 1024);

/**
 * A route's work: returns its reply, or a promise of it, or returns nothing and settles the
 * exchange itself later (the write routes do: no promise per write). Throwing at once is answered
 * like a rejection. A reply returned at once goes out before the route callback returns.
 */
type Handler = (exchange: HttpExchange, body: Uint8Array) => Reply | Promise<Reply> | void;

const json = (status: number, value: unknown, headers?: Record<string, string>): Reply => ({ status, body: JSON.stringify(value), contentType: 'application/json', headers });
/** A successful set or cas: the same reply every time (replies are never mutated). */
const OK_REPLY: Reply = Object.freeze({ status: 200, body: '{"ok":true}', contentType: 'application/json' });
const errorReply = (status: number, code: string, message: string, headers?: Record<string, string>): Reply => json(status, { code, message }, headers);

export class HttpServer {
  private readonly app: uWS.TemplatedApp;
  private listenSocket: uWS.us_listen_socket | null = null;
  /**
   * Requests waiting for their answer (tracked exchanges), oldest first: all share one timeout, so
   * this is deadline order too. One sweep timer for all of them instead of a timer per request.
   */
  private readonly waiting = new Set<HttpExchange>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly sweepIntervalMs: number;
  /** Histogram label children by route, so a request does not hash label objects. */
  private readonly requestSecondsByRoute = new Map<string, { observe(value: number): void }>();
  /** Request counts by route, then by status (no key string built per request). */
  private readonly requestsByRouteStatus = new Map<string, Map<number, CountCell>>();
  private readonly proposalsByResult = new Map<string, CountCell>();
  readonly metrics: ServerMetrics;
  private readonly bodyBytesMax: number;
  private readonly inflightRequestsMax: number;
  private readonly requestTimeoutMs: number;
  /** Set by `stopAccepting()`: every new request is refused. */
  private closing = false;
  private readonly wsProtocol: WsProtocolHandle;
  private readonly exchangeHost: ExchangeHost;
  /** The port it listens on (after `listen()`). */
  port = 0;

  /** Requests being served now, HTTP and WebSocket (e.g. to let answers out before a shutdown). */
  get inflightRequests(): number {
    return this.waiting.size + this.wsProtocol.inflightRequests();
  }

  constructor(private readonly options: HttpServerOptions) {
    this.bodyBytesMax = options.bodyBytesMax ?? 1024 * 1024 + 4096;
    this.inflightRequestsMax = options.inflightRequestsMax ?? 10_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.sweepIntervalMs = Math.max(1, Math.min(1000, Math.floor(this.requestTimeoutMs / 10)));
    this.metrics = options.metrics ?? new ServerMetrics(options.kv.node, { nodeId: options.kv.node.id });
    this.metrics.inflightSource = () => this.waiting.size;
    this.app = uWS.App();
    this.wsProtocol = attachWsProtocol(this.app, { kv: options.kv, leaderUrl: options.leaderUrl, authToken: options.authToken, payloadBytesMax: this.bodyBytesMax, connectionsMax: options.webSocketConnectionsMax, closing: () => this.closing });
    this.metrics.webSocketConnectionsSource = () => this.wsProtocol.connections();
    this.exchangeHost = {
      corsOrigin: options.corsOrigin,
      authRequired: options.authToken !== undefined,
      track: (exchange) => this.track(exchange),
      untrack: (exchange) => this.waiting.delete(exchange),
      countRequest: (route, status, seconds) => this.countRequest(route, status, seconds),
      errorToReply: (error, exchange) => this.errorToReply(error, exchange),
    };
    this.routes();
  }

  async listen(): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.app.listen(host, this.options.port ?? 0, (socket) => {
        if (!socket) return reject(new HttpError(500, 'SERVER_ERR_LISTEN', `cannot listen on ${host}:${this.options.port ?? 0}`));
        this.listenSocket = socket;
        this.port = uWS.us_socket_local_port(socket);
        resolve();
      });
    });
  }

  /**
   * The first step of a shutdown: accepts no more connections, and answers a request that
   * arrives on an open one with 503 `HTTP_ERR_SHUTTING_DOWN` and closes that connection (a
   * client then tries another node); over the WebSocket protocol, with the retryable
   * `RAFT_ERR_NODE_STOPPED`. Requests already in flight go on (see `inflightRequests`).
   */
  stopAccepting(): void {
    this.closing = true;
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
  }

  /**
   * Stops accepting connections and closes the open ones, keep-alive and WebSocket clients
   * included: a stopped node must not go on answering on connections opened before (closing the
   * listen socket alone leaves those served, by a node that no longer runs Raft).
   */
  close(): void {
    this.stopAccepting();
    // App.close() (uWS ≥ 20.30) closes every socket of the app; the bundled typings lack it.
    (this.app as unknown as { close(): void }).close();
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /** Answers 504 to every request past its deadline; runs while requests are in flight. */
  private sweep(): void {
    const now = performance.now();
    for (const request of this.waiting) {
      if (request.deadlineMs > now) break;
      request.finish(errorReply(504, 'HTTP_ERR_TIMEOUT', `no answer within ${this.requestTimeoutMs} ms`)); // removes it from the map
    }
    if (this.waiting.size === 0 && this.sweepTimer !== undefined) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  private countProposal(result: string): void {
    let cell = this.proposalsByResult.get(result);
    if (cell === undefined) this.proposalsByResult.set(result, (cell = this.metrics.proposalCounts.cell({ result })));
    cell.count++;
  }

  private countRequest(route: string, status: number, seconds: number): void {
    let histogram = this.requestSecondsByRoute.get(route);
    if (histogram === undefined) this.requestSecondsByRoute.set(route, (histogram = this.metrics.requestSeconds.labels(route)));
    histogram.observe(seconds);
    let byStatus = this.requestsByRouteStatus.get(route);
    if (byStatus === undefined) this.requestsByRouteStatus.set(route, (byStatus = new Map()));
    let cell = byStatus.get(status);
    if (cell === undefined) byStatus.set(status, (cell = this.metrics.requestCounts.cell({ route, status: String(status) })));
    cell.count++;
  }

  private routes(): void {
    const kv = this.options.kv;
    this.app.get('/health', (res, req) => this.serve(res, req, 'health', false, () => json(200, { status: 'ok', node: kv.node.id })));
    this.app.get('/health/ready', (res, req) =>
      this.serve(res, req, 'ready', false, () => {
        const leader = kv.node.getLeader();
        const { running, storageFull } = kv.node.getState();
        const ready = running && !storageFull && leader !== null;
        return json(ready ? 200 : 503, { ready, leader, running, storageFull });
      }),
    );
    this.app.get('/metrics', (res, req) =>
      this.serve(res, req, 'metrics', false, async () => ({ status: 200, body: await this.metrics.registry.metrics(), contentType: this.metrics.registry.contentType })),
    );
    this.app.get('/v1/cluster', (res, req) => this.serve(res, req, 'cluster', false, () => json(200, clusterView(kv))));
    this.app.get('/v1/cluster/members', (res, req) => this.serve(res, req, 'members', false, () => json(200, membersView(kv))));
    this.app.post('/v1/cluster/members', (res, req) => this.serve(res, req, 'members.add', true, (x, body) => this.addMember(x, body)));
    this.app.del('/v1/cluster/members/:id', (res, req) => this.serve(res, req, 'members.remove', false, (x) => this.removeMember(x)));
    this.app.get('/v1/kv/:key', (res, req) => this.serve(res, req, 'kv.get', false, (x) => this.get(x)));
    this.app.put('/v1/kv/:key', (res, req) =>
      this.serve(res, req, 'kv.put', true, (x, body) => {
        const ttlMs = this.number(x.query('ttl'), 'ttl');
        this.write(x, { op: 'set', key: this.key(x), value: body, ttlMs });
      }),
    );
    this.app.del('/v1/kv/:key', (res, req) => this.serve(res, req, 'kv.delete', false, (x) => this.write(x, { op: 'delete', key: this.key(x) })));
    this.app.post('/v1/kv/:key/cas', (res, req) =>
      this.serve(res, req, 'kv.cas', true, (x, body) => {
        const input = this.jsonBody(body) as { expected?: unknown; value?: unknown; ttlMs?: unknown; encoding?: unknown };
        const decode = (value: unknown, field: string): Uint8Array => {
          if (typeof value !== 'string') throw new HttpError(400, 'HTTP_ERR_BAD_REQUEST', `${field} must be a string`);
          return input.encoding === 'base64' ? Buffer.from(value, 'base64') : Buffer.from(value, 'utf8');
        };
        const expected = input.expected === null || input.expected === undefined ? null : decode(input.expected, 'expected');
        const ttlMs = input.ttlMs === undefined ? undefined : this.number(String(input.ttlMs), 'ttlMs');
        this.write(x, { op: 'cas', key: this.key(x), expected, value: decode(input.value, 'value'), ttlMs });
      }),
    );
    this.app.post('/v1/kv/:key/increment', (res, req) =>
      this.serve(res, req, 'kv.increment', true, (x, body) => {
        const input = this.jsonBody(body) as { delta?: unknown; ttlMs?: unknown };
        const delta = input.delta === undefined ? 1 : input.delta;
        if (typeof delta !== 'number' || !Number.isSafeInteger(delta)) throw new HttpError(400, 'HTTP_ERR_BAD_REQUEST', 'delta must be a safe integer');
        const ttlMs = input.ttlMs === undefined ? undefined : this.number(String(input.ttlMs), 'ttlMs');
        this.write(x, { op: 'increment', key: this.key(x), delta, ttlMs });
      }),
    );
    this.app.options('/*', (res, req) => this.serve(res, req, 'options', false, () => ({ status: 204, body: '' })));
    this.app.any('/*', (res, req) =>
      this.serve(res, req, 'unknown', false, (x) => errorReply(404, 'HTTP_ERR_NOT_FOUND', `no route for ${x.method.toUpperCase()} ${x.url}`)),
    );
  }

  /**
   * `GET /v1/kv/:key`: the read path of KvService with a callback (no promise per read). A stale
   * read is answered before this returns; one that waits for a read round is tracked.
   */
  private get(x: HttpExchange): void {
    const consistency = (x.query('consistency') ?? 'linearizable') as Consistency;
    if (!CONSISTENCIES.includes(consistency)) {
      throw new HttpError(400, 'HTTP_ERR_BAD_REQUEST', `consistency must be one of ${CONSISTENCIES.join(', ')}`);
    }
    const key = this.key(x);
    this.options.kv.getThen(key, consistency, (error, value) => {
      if (error !== null) x.settle(error);
      else if (value === undefined) x.finish(errorReply(404, 'KV_ERR_NOT_FOUND', `no key ${JSON.stringify(key)}`));
      else x.finish({ status: 200, body: value, contentType: 'application/octet-stream' });
    });
  }

  /**
   * Proposes a write and settles the exchange with its reply. Every write passes here, so it takes
   * the callback path down to the proposal (`KvService.writeThen`: no promise, no async frame per
   * request); a bad header throws at once, which `serve` answers like any error.
   */
  private write(x: HttpExchange, request: CacheRequest): void {
    const sequence = x.sequence === '' ? 0 : Number(x.sequence);
    if (!Number.isSafeInteger(sequence) || sequence < 0) throw new HttpError(400, 'HTTP_ERR_BAD_REQUEST', 'X-Raftwire-Sequence must be a non-negative integer');
    const ackedThrough = x.ackedThrough === '' ? undefined : Number(x.ackedThrough);
    if (ackedThrough !== undefined && (!Number.isSafeInteger(ackedThrough) || ackedThrough < 0 || ackedThrough >= sequence)) {
      throw new HttpError(400, 'HTTP_ERR_BAD_REQUEST', 'X-Raftwire-Acked-Through must be an integer below X-Raftwire-Sequence');
    }
    const session = x.clientId === '' ? undefined : { clientId: x.clientId, sequence, ackedThrough };
    this.options.kv.writeThen(request, session, (error, result) => (error === null ? x.finish(this.writeReply(request, result!)) : x.settle(error)));
  }

  private writeReply(request: CacheRequest, result: CacheResult): Reply {
    this.countProposal(result.ok ? 'ok' : result.code ?? 'error');
    if (result.ok && (request.op === 'set' || request.op === 'cas')) return OK_REPLY; // the common case, built once
    const value = result.value === null ? null : Buffer.from(result.value).toString('utf8');
    if (!result.ok) return json(statusOfResult(result), { code: result.code, message: `${request.op} refused: ${result.code}`, value });
    if (request.op === 'delete') return json(200, { ok: true, deleted: result.value !== null });
    if (request.op === 'increment') return json(200, { ok: true, value: Number(value) });
    return OK_REPLY;
  }

  /** `POST /v1/cluster/members {"id", "raft", "client"?}`: learner, catch up, voter (see RaftNode.addNode). */
  private async addMember(x: HttpExchange, body: Uint8Array): Promise<Reply> {
    const input = this.jsonBody(body) as { id?: unknown; raft?: unknown; client?: unknown };
    if (typeof input.id !== 'string' || input.id.length === 0) throw new HttpError(400, 'HTTP_ERR_BAD_REQUEST', 'id must be a non-empty string');
    const endpoints = validateEndpoints(input.id, { raft: input.raft, client: input.client });
    const timeoutMs = this.number(x.query('timeoutMs'), 'timeoutMs');
    const config = await this.options.kv.node.addNode(input.id, endpoints, { timeoutMs });
    return json(200, { ok: true, config });
  }

  /** `DELETE /v1/cluster/members/:id`. */
  private async removeMember(x: HttpExchange): Promise<Reply> {
    const id = this.key(x);
    const timeoutMs = this.number(x.query('timeoutMs'), 'timeoutMs');
    const config = await this.options.kv.node.removeNode(id, { timeoutMs });
    return json(200, { ok: true, config });
  }

  private key(x: HttpExchange): string {
    const param = x.param;
    if (param.indexOf('%') === -1) return param; // nothing to decode (the usual key)
    try {
      return decodeURIComponent(param);
    } catch {
      throw new HttpError(400, 'HTTP_ERR_BAD_REQUEST', 'the key is not valid percent-encoding');
    }
  }

  private number(text: string | null, field: string): number | undefined {
    if (text === null || text === '') return undefined;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 0) throw new HttpError(400, 'HTTP_ERR_BAD_REQUEST', `${field} must be a non-negative integer (ms)`);
    return value;
  }

  private jsonBody(body: Uint8Array): unknown {
    try {
      const value: unknown = JSON.parse(Buffer.from(body).toString('utf8'));
      if (typeof value !== 'object' || value === null) throw new Error('not an object');
      return value;
    } catch {
      throw new HttpError(400, 'HTTP_ERR_BAD_REQUEST', 'the body must be a JSON object');
    }
  }

  /**
   * Runs one request: checks, body, handler, reply, metrics. `req` is only valid during this call,
   * so the exchange copies what is needed from it first. A reply ready before this returns goes out
   * at once; otherwise the exchange is tracked (see HttpExchange).
   */
  private serve(res: uWS.HttpResponse, req: uWS.HttpRequest, route: string, readBody: boolean, handler: Handler): void {
    const x = new HttpExchange(this.exchangeHost, res, req, route);
    const refusal = this.admit(x);
    if (refusal) {
      if (readBody) res.onData(() => undefined); // drain, then answer
      return x.finish(refusal);
    }
    if (!readBody) return this.run(x, EMPTY_BODY, handler);
    x.track(); // the body arrives in later callbacks
    this.readBody(res, (body) => (body === null ? x.finish(errorReply(413, 'HTTP_ERR_BODY_TOO_LARGE', `the body is over ${this.bodyBytesMax} bytes (bodyBytesMax)`)) : this.run(x, body, handler)));
  }

  private run(x: HttpExchange, body: Uint8Array, handler: Handler): void {
    let reply: Reply | Promise<Reply> | void;
    try {
      reply = handler(x, body);
    } catch (error) {
      return x.settle(error);
    }
    if (reply === undefined) {
      x.track(); // the handler settles it later (a no-op if it already did)
      return;
    }
    if (reply instanceof Promise) {
      x.track();
      reply.then((r) => x.finish(r), (error: unknown) => x.settle(error));
      return;
    }
    x.finish(reply);
  }

  private track(x: HttpExchange): void {
    x.deadlineMs = x.started + this.requestTimeoutMs;
    this.waiting.add(x);
    this.sweepTimer ??= setInterval(() => this.sweep(), this.sweepIntervalMs);
  }

  private admit(x: HttpExchange): Reply | undefined {
    if (this.closing) return { ...errorReply(503, 'HTTP_ERR_SHUTTING_DOWN', 'this node is shutting down; try another', { 'retry-after': '0' }), closeConnection: true };
    if (this.waiting.size > this.inflightRequestsMax) {
      return errorReply(503, 'HTTP_ERR_OVERLOADED', `over ${this.inflightRequestsMax} requests in flight`, { 'retry-after': '1' });
    }
    // CORS preflights carry no credentials by design; they only learn which headers are allowed.
    const guarded = x.route !== 'options' && x.url.startsWith('/v1/');
    if (guarded && this.options.authToken !== undefined && x.authorization !== `Bearer ${this.options.authToken}`) {
      return errorReply(401, 'HTTP_ERR_UNAUTHORIZED', 'a valid Authorization: Bearer token is required', { 'www-authenticate': 'Bearer' });
    }
    const limiter = this.options.rateLimiter;
    if (guarded && limiter && !limiter.tryAcquire()) {
      this.metrics.rateLimited.inc();
      return errorReply(429, 'HTTP_ERR_RATE_LIMITED', 'too many requests', { 'retry-after': String(Math.max(1, limiter.getRetryAfterSeconds())) });
    }
    return undefined;
  }

  /** Collects the body, copying uWS's chunks (valid only during the callback); null once over the limit. */
  private readBody(res: uWS.HttpResponse, done: (body: Uint8Array | null) => void): void {
    const chunks: Uint8Array[] = [];
    let length = 0;
    let over = false;
    res.onData((chunk, isLast) => {
      if (!over) {
        length += chunk.byteLength;
        if (length > this.bodyBytesMax) {
          over = true;
          done(null);
        } else chunks.push(bodySlab.copy(new Uint8Array(chunk)));
      }
      if (isLast && !over) done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
    });
  }

  private errorToReply(error: unknown, x: HttpExchange): Reply {
    if (error instanceof HttpError) return errorReply(error.status, error.code, error.message, error.headers);
    if (error instanceof NotLeaderError) {
      const url = error.leaderId === null ? undefined : this.options.leaderUrl?.(error.leaderId);
      if (url !== undefined) {
        const query = x.rawQuery;
        return json(307, { code: error.code, message: error.message, leaderId: error.leaderId }, { location: `${url}${x.url}${query ? `?${query}` : ''}` });
      }
      return json(503, { code: error.code, message: error.message, leaderId: error.leaderId }, { 'retry-after': '1' });
    }
    const status = statusOf(error);
    if (isRaftwireError(error)) return errorReply(status, error.code, error.message, status === 503 ? { 'retry-after': '1' } : undefined);
    return errorReply(500, 'SERVER_ERR_INTERNAL', 'internal error');
  }
}

function membersView(kv: KvService): unknown {
  return { leaderId: kv.node.getLeader(), members: kv.node.getMembers() };
}

/** The body of `GET /v1/cluster`: the node's state, its followers' progress as an object, the members. */
export type ClusterView = Omit<ReturnType<RaftNode<unknown>['getState']>, 'progress'> & {
  progress: Record<NodeId, ProgressStatus> | null;
  members: ReturnType<RaftNode<unknown>['getMembers']>;
};

function clusterView(kv: KvService): ClusterView {
  const state = kv.node.getState();
  const progress = state.progress === null ? null : Object.fromEntries(state.progress);
  return { ...state, progress, leaderId: kv.node.getLeader(), members: kv.node.getMembers() };
}
