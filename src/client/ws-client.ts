/**
 * `RaftwireWsClient`: the binary WebSocket protocol (`/v1/ws`, docs/server.md) with many requests
 * in flight on one connection. Requests made in the same event-loop turn go out as one message.
 * A `notLeader` answer moves the client to the leader it names and retries there. A connection
 * that drops (the node stopped or died) is replaced by one to the next endpoint that accepts, and
 * every request not answered yet is sent again there, writes with their client id and sequence,
 * so each still applies once. The next endpoints are those given, then the members each node
 * connected to names (`discoverMembers`, `knownEndpoints`).
 *
 * @example
 * ```ts
 * const client = await RaftwireWsClient.connect(['http://127.0.0.1:8001', 'http://127.0.0.1:8002']);
 * await Promise.all(keys.map((k) => client.set(k, bytes('v'))));   // pipelined
 * const value = await client.get('k1');
 * client.close();
 * ```
 */
import WebSocket from 'ws';
import { type ClientReply, type ClientRequest, decodeFrame, encodedFrameSize, encodeFrameInto, isRetryableReply } from '../codec/index.js';
import { RaftwireClientError } from './http-client.js';
import { MemberDiscovery } from './members.js';

export interface RaftwireWsClientOptions {
  authToken?: string;
  consistency?: 'linearizable' | 'lease' | 'stale';
  clientId?: string;
  /** Per-request timeout, ms. Default 5000. */
  timeoutMs?: number;
  /** How often a request may follow a `notLeader` answer to another node. Default 3. */
  leaderHopsMax?: number;
  /**
   * How long to keep trying to reconnect after a connection drops, going round the endpoints
   * with backoff, before the requests waiting for it fail. Default `timeoutMs`.
   */
  reconnectMs?: number;
  /**
   * How often a request not served (`isRetryableReply`: a `notLeader` it cannot follow, leadership
   * moving, the node stopping) is sent again, on a new connection, after 25 ms, doubling up to
   * 1 s; and how often one that got no answer within `timeoutMs` is sent again, to the next
   * endpoint. Default 8 (as `RaftwireClient`).
   */
  maxRetries?: number;
  /**
   * Learn the other members' client URLs from each node connected to (`GET /v1/cluster/members`)
   * and fail over to them too, so one endpoint is enough to start with. Default true.
   */
  discoverMembers?: boolean;
}

interface Pending {
  request: ClientRequest;
  resolve(reply: ClientReply): void;
  reject(error: Error): void;
  /** performance.now() past which the request fails with CLIENT_ERR_TIMEOUT. */
  deadlineMs: number;
  hops: number;
  /** Times sent again after it was not served or got no answer (see `maxRetries`). */
  retries: number;
}

export class RaftwireWsClient {
  private socket!: WebSocket;
  private nextRequestId = 1;
  private sequence = 0;
  /** Requests sent and not answered, oldest first (one timeout for all, so deadline order too). */
  private readonly pending = new Map<number, Pending>();
  /** One timer sweeps `pending` for timeouts, instead of a timer per request; runs while any is pending. */
  private sweepTimer: NodeJS.Timeout | undefined;
  private queue: { request: ClientRequest; requestId: number }[] = [];
  private flushScheduled = false;
  /** While moving to the leader: requests to send there, in sequence order, once connected. */
  private moving: Promise<void> | null = null;
  private replay: Pending[] = [];
  /** Set by `close()`: a connection closed on purpose is not replaced. */
  private closed = false;
  private readonly discovery: MemberDiscovery;
  readonly clientId: string;

  private constructor(
    private endpoint: string,
    /** Every node to fail over to, the first one included; discovered members are appended. */
    private readonly endpoints: string[],
    private readonly options: RaftwireWsClientOptions,
  ) {
    this.clientId = options.clientId ?? `ws-${Math.random().toString(36).slice(2, 12)}`;
    this.discovery = new MemberDiscovery(endpoints, options);
  }

  /** Connects to the first of `endpoints` that accepts; the others are where it fails over to. */
  static async connect(endpoints: string | readonly string[], options: RaftwireWsClientOptions = {}): Promise<RaftwireWsClient> {
    const list = [...new Set((typeof endpoints === 'string' ? [endpoints] : endpoints).map((endpoint) => endpoint.replace(/\/$/, '')))];
    if (list.length === 0) throw new RaftwireClientError('CLIENT_ERR_NO_ENDPOINTS', 'no endpoint to connect to', 0, false);
    const client = new RaftwireWsClient(list[0]!, list, options);
    let failure: unknown;
    for (const endpoint of list) {
      client.endpoint = endpoint;
      try {
        await client.open();
        client.discover();
        return client;
      } catch (error) {
        failure = error;
      }
    }
    throw failure;
  }

  private open(): Promise<void> {
    const url = `${this.endpoint.replace(/^http/, 'ws')}/v1/ws?consistency=${this.options.consistency ?? 'linearizable'}`;
    // A bounded handshake: a host that drops packets would otherwise hold a reconnect for the OS's
    // connect timeout (minutes), not `reconnectMs`.
    const socket = new WebSocket(url, { handshakeTimeout: this.options.timeoutMs ?? 5000, headers: this.options.authToken ? { authorization: `Bearer ${this.options.authToken}` } : {} });
    socket.binaryType = 'nodebuffer';
    this.socket = socket;
    socket.on('message', (data: Buffer) => {
      if (this.socket === socket) this.onMessage(data);
    });
    let opened = false;
    socket.once('open', () => (opened = true));
    socket.on('close', () => {
      // A connection that never opened is the failed attempt `open()` reports; not a drop.
      if (this.socket !== socket || this.closed || !opened) return;
      // Dropped under us: reconnect (elsewhere if need be) and send again what is unanswered.
      this.moving ??= this.reconnect();
    });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', (error) => reject(new RaftwireClientError('CLIENT_ERR_UNREACHABLE', `${url}: ${error.message}`, 0, true)));
    });
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.call({ op: 'get', key, value: null, expected: null, ttlMs: 0 }).then((r) => (r.status === 'notFound' ? undefined : r.value ?? new Uint8Array(0)));
  }

  async set(key: string, value: Uint8Array, ttlMs = 0): Promise<void> {
    await this.call({ op: 'set', key, value, expected: null, ttlMs });
  }

  /** True if the key existed. */
  delete(key: string): Promise<boolean> {
    return this.call({ op: 'delete', key, value: null, expected: null, ttlMs: 0 }).then((r) => r.status === 'ok');
  }

  /** True if the value was `expected` (null: absent) and is now `value`. */
  cas(key: string, expected: Uint8Array | null, value: Uint8Array, ttlMs = 0): Promise<boolean> {
    return this.call({ op: 'cas', key, value, expected, ttlMs }).then((r) => r.status === 'ok');
  }

  close(): void {
    this.closed = true;
    this.socket.close();
    for (const [id, p] of this.pending) this.settle(id, p, new RaftwireClientError('CLIENT_ERR_CLOSED', 'the client was closed', 0, false));
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  private call(fields: Omit<ClientRequest, 'type' | 'clientId' | 'sequence'>): Promise<ClientReply> {
    const isWrite = fields.op !== 'get';
    const request: ClientRequest = { type: 'ClientRequest', op: fields.op, key: fields.key, value: fields.value, expected: fields.expected, ttlMs: fields.ttlMs, clientId: isWrite ? this.clientId : '', sequence: isWrite ? ++this.sequence : 0 };
    // One promise per request, settled straight from the reply (no second `.then` layer: on a
    // single connection every microtask is latency).
    return new Promise<ClientReply>((resolve, reject) => {
      const settle = (reply: ClientReply) => {
        if (reply.status === 'ok' || reply.status === 'notFound' || reply.status === 'conflict') resolve(reply);
        else reject(new RaftwireClientError(reply.code || 'CLIENT_ERR_FAILED', `${fields.op} ${fields.key}: ${reply.status} ${reply.code}`, 0, reply.status === 'notLeader'));
      };
      this.enqueue({ request, resolve: settle, reject, hops: 0, retries: 0, deadlineMs: 0 });
    });
  }

  private enqueue(p: Pending): void {
    if (this.closed) {
      p.reject(new RaftwireClientError('CLIENT_ERR_CLOSED', 'the client was closed', 0, false));
      return;
    }
    // A request after a reconnect that gave up: try again rather than wait out its timeout.
    if (this.moving === null && (this.socket.readyState === WebSocket.CLOSED || this.socket.readyState === WebSocket.CLOSING)) this.moving = this.reconnect();
    if (this.moving !== null) {
      this.replay.push(p); // sent after the move, in order
      return;
    }
    const requestId = this.nextRequestId;
    this.nextRequestId = this.nextRequestId >= 0xffffffff ? 1 : this.nextRequestId + 1; // u32 on the wire, 0 unused
    p.deadlineMs = performance.now() + (this.options.timeoutMs ?? 5000);
    this.pending.set(requestId, p);
    if (this.sweepTimer === undefined) this.sweepTimer = setInterval(() => this.sweep(), Math.max(1, Math.min(1000, Math.floor((this.options.timeoutMs ?? 5000) / 10))));
    else if (this.pending.size === 1) this.sweepTimer.ref();
    this.queue.push({ request: p.request, requestId });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /**
   * Fails requests past their deadline, or, while a request has retries left, takes its silence
   * for a node that cannot serve (cut off from the others, stuck) and moves everything unanswered
   * to another node, as `RaftwireClient` does over HTTP; writes keep their sequence, so a write
   * the silent node did apply is answered from the session there, not applied again. Stops
   * itself once nothing is pending.
   */
  private sweep(): void {
    const now = performance.now();
    for (const [requestId, p] of this.pending) {
      if (p.deadlineMs > now) break;
      if (this.moving === null && p.retries < (this.options.maxRetries ?? 8)) {
        this.pending.delete(requestId);
        this.replay.push({ ...p, retries: p.retries + 1 });
        this.moving = this.reconnect(0, true); // takes the rest of `pending` along
        break;
      }
      this.settle(requestId, p, new RaftwireClientError('CLIENT_ERR_TIMEOUT', `no answer within ${this.options.timeoutMs ?? 5000} ms`, 0, true));
    }
    this.stopSweepIfIdle();
  }

  private stopSweepIfIdle(): void {
    if (this.pending.size === 0 && this.sweepTimer !== undefined) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  /** Coalesces every request made this turn into one message. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.queue.length === 0 || this.socket.readyState !== WebSocket.OPEN) return;
    let size = 0;
    for (const { request } of this.queue) size += encodedFrameSize(request);
    const out = new Uint8Array(size);
    let offset = 0;
    for (const { request, requestId } of this.queue) offset += encodeFrameInto(request, requestId, out, offset);
    this.queue = [];
    this.socket.send(out);
  }

  private onMessage(data: Buffer): void {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    for (let offset = 0; offset < bytes.length; ) {
      const result = decodeFrame(bytes, offset);
      if (result.status !== 'ok' || result.message.type !== 'ClientReply') {
        this.socket.terminate();
        return;
      }
      offset += result.consumed;
      const p = this.pending.get(result.requestId);
      if (p === undefined) continue;
      const reply = result.message;
      if (reply.status === 'notLeader' && reply.leaderHint?.startsWith('http') && p.hops < (this.options.leaderHopsMax ?? 3)) {
        this.pending.delete(result.requestId);
        this.replay.push({ ...p, hops: p.hops + 1 });
        this.moving ??= this.moveTo(reply.leaderHint);
        continue;
      }
      // No leader named (an election), hints that went round in circles, leadership moving, the
      // node stopping: sent again on a new connection after a backoff, with everything else
      // unanswered and in sequence order; the server kept this write open on the old one.
      if (isRetryableReply(reply) && p.retries < (this.options.maxRetries ?? 8)) {
        this.pending.delete(result.requestId);
        this.replay.push({ ...p, hops: 0, retries: p.retries + 1 });
        const goingAway = reply.code === 'RAFT_ERR_NODE_STOPPED' || reply.code === 'RAFT_ERR_NODE_FATAL';
        this.moving ??= this.reconnect(Math.min(1000, 25 * 2 ** p.retries), goingAway);
        continue;
      }
      this.settle(result.requestId, p, reply);
    }
  }

  /**
   * Reconnects to the leader and replays there every request not answered yet, in sequence order
   * (same client id and sequence, so each write still applies once). The server infers what this
   * client has seen answered from the order of its writes on a connection, so order matters. A
   * leader that cannot be reached (the hint was stale: it just died) sends the client round the
   * other endpoints, as a dropped connection does.
   */
  private moveTo(endpoint: string): Promise<void> {
    return this.reconnect(0, false, endpoint);
  }

  /**
   * After a dropped connection, or a retryable refusal (after `delayMs`): a new connection, to
   * `first` if given (a leader named by a `notLeader`), then the current endpoint (unless
   * `skipCurrent`: it is going away or does not answer), then the others in turn,
   * round after round with backoff, for `reconnectMs`. Then every request not answered is sent
   * again on the new connection, in sequence order (as in `moveTo`), or fails if none came. The
   * old connection is closed: the server forgets what it held open for it.
   */
  private async reconnect(delayMs = 0, skipCurrent = false, first?: string): Promise<void> {
    const old = this.socket;
    for (const p of this.pending.values()) this.replay.push(p);
    this.pending.clear();
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const deadline = performance.now() + (this.options.reconnectMs ?? this.options.timeoutMs ?? 5000);
    const current = this.endpoints.indexOf(this.endpoint);
    const start = current < 0 ? 0 : (current + (skipCurrent && this.endpoints.length > 1 ? 1 : 0)) % this.endpoints.length;
    const order = [...new Set([...(first === undefined ? [] : [first]), ...this.endpoints.slice(start), ...this.endpoints.slice(0, start)])];
    let failure: Error | null = new RaftwireClientError('CLIENT_ERR_CONNECTION_LOST', `connection to ${this.endpoint} closed`, 0, true);
    let backoffMs = 25;
    for (let connected = false; !connected && !this.closed && performance.now() < deadline; ) {
      for (const endpoint of order) {
        this.endpoint = endpoint;
        try {
          await this.open();
          this.discover();
          connected = true;
          failure = null;
          break;
        } catch (error) {
          failure = error as Error;
        }
      }
      if (!connected) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(backoffMs, Math.max(0, deadline - performance.now()))));
        backoffMs = Math.min(1000, backoffMs * 2);
      }
    }
    if (old !== this.socket) old.close();
    if (this.closed) failure = new RaftwireClientError('CLIENT_ERR_CLOSED', 'the client was closed', 0, false);
    this.moving = null;
    const requests = this.replay.splice(0).sort((a, b) => a.request.sequence - b.request.sequence);
    for (const p of requests) {
      if (failure) p.reject(failure);
      else this.enqueue(p);
    }
  }

  /** The endpoints this client fails over to: those it was given, then the members discovered. */
  get knownEndpoints(): readonly string[] {
    return [...this.endpoints];
  }

  /** Adds the members the connected node knows to the endpoints (in the background; see `discoverMembers`). */
  private discover(): void {
    if (!this.closed) this.discovery.start(this.endpoint);
  }

  private settle(requestId: number, p: Pending, outcome: ClientReply | Error): void {
    if (!this.pending.delete(requestId)) return;
    // An idle sweep timer must not keep the process alive; it stops itself at its next run.
    if (this.pending.size === 0) this.sweepTimer?.unref();
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }
}
