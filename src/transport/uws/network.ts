/**
 * `UwsNetwork`: the fast transport. uWebSockets.js serves; `ws` dials ({@link PeerDialer}).
 * Between two nodes there is one WebSocket, used in both directions: the node whose id sorts
 * lower dials (and redials with backoff and jitter while running), the other answers and sends on
 * the accepted connection.
 * The higher id cannot dial, so while it has no connection to a peer (the peer is down, or has
 * not reached it yet) its requests to that peer fail at once with the transient
 * "Target node X not available" (`TRANSPORT_ERR_TARGET_UNAVAILABLE`) instead of waiting for
 * their timeout; Raft's next heartbeat or election, or a `ReliableNetwork` retry, tries again.
 * Every WebSocket message is one or more codec frames; a frame's `requestId` pairs an answer with
 * its request, so any number of requests share the connection (see {@link PeerChannel}).
 *
 * Answers are the core response types; a TimeoutNow is acknowledged, and a handler's failure
 * reported, with a `ClientReply` frame (`status: 'ok'` or `'error'` with the remote code and
 * message).
 *
 * Receive path: frames are decoded in place. uWS's message buffer dies when its callback returns,
 * so frames whose decoded views outlive it (AppendEntries entries, InstallSnapshot data) are copied
 * out first, one copy per frame; everything else is decoded straight from uWS's memory. Buffers
 * from `ws` are already ours and are decoded without a copy. The copies are plain buffers, not
 * pool slots: handlers may keep entry views for as long as they like (a log store does), so no one
 * could know when to hand a slot back.
 *
 * @example
 * ```ts
 * const net = new UwsNetwork('n1', { port: 4001, nodeAddresses: { n2: '10.0.0.2:4002' }, clusterSecret: process.env.RAFT_SECRET });
 * net.registerHandlers(handlers);
 * await net.start();
 * await net.sendAppendEntries('n2', { term, leaderId: 'n1', prevLogIndex, prevLogTerm, entries, leaderCommit });
 * ```
 * @module
 */
import { randomInt } from 'node:crypto';
import type * as uWS from 'uWebSockets.js';
import { BufferPool } from '../../codec/buffer-pool.js';
import type { ClientReply, WireMessage } from '../../codec/index.js';
import { NODE_ID_BYTES_MAX, type NodeId } from '../../core/types.js';
import { resolveAddress, resolveAddresses, type PeerAddress, type ResolvedAddress } from '../addresses.js';
import { dispatchRequestFast, errorCode, errorMessage } from '../dispatch.js';
import { ConnectionLostError, NetworkStoppedError, NoAddressError, RemoteHandlerError, TargetUnavailableError, TransportError } from '../errors.js';
import {
  toAppendEntries,
  toInstallSnapshot,
  toRequestVote,
  toTimeoutNow,
  type AppendEntriesParams,
  type AppendEntriesRequest,
  type AppendEntriesResponse,
  type InstallSnapshotParams,
  type InstallSnapshotResponse,
  type NetworkInterface,
  type PeerAddressBook,
  type RaftRpcHandlers,
  type RequestVoteParams,
  type RequestVoteRequest,
  type RequestVoteResponse,
  type RpcRequest,
  type RpcResponse,
  type TimeoutNowParams,
} from '../types.js';
import { PeerDialer } from './dialer.js';
import { forEachFrame } from './frames.js';
import { headerAuth, headerFrom, headerNonce, headerTo, verifyAuth } from './auth.js';
import { resolveUwsOptions, type ResolvedUwsOptions, type UwsNetworkOptions } from './options.js';
import { PeerChannel, type PeerSocket, type Pending } from './peer-channel.js';
import { UwsServerSocket, WsClientSocket, type UwsUserData } from './sockets.js';

import {
  ackReply,
  answerTypeOf,
  closeGoingAway,
  closeProtocolError,
  errorCodeCharsMax,
  errorMessageCharsMax,
  loadUws,
  raftWsPath,
  stopCloseWaitMs,
  type UwsModule,
} from './protocol.js';

export { raftWsPath } from './protocol.js';

/**
 * True when `req` already is a full core AppendEntries for `target` (what RaftNode sends), which is
 * then encoded as it is instead of copied field by field. Safe: the frame is encoded before the
 * send returns, and the object is not kept.
 */
function isFullAppendEntries(target: NodeId, req: AppendEntriesParams): req is AppendEntriesRequest {
  const full = req as Partial<AppendEntriesRequest>;
  if (full.type !== 'AppendEntries' || full.to !== target || full.from === undefined || full.context === undefined) return false;
  const entries = req.entries;
  for (let i = 0; i < entries.length; i++) if (entries[i]!.type === undefined) return false;
  return true;
}

/**
 * Request ids run in [1, requestIdMax] and wrap: below 2^30 they are small integers to V8 (no heap
 * number per id, cheaper map keys); the wire field is u32, so the bound is ours, not the format's.
 */
const requestIdMax = 0x3fff_ffff;

/** The uWebSockets.js transport; see the module comment. */
export class UwsNetwork implements NetworkInterface, PeerAddressBook {
  readonly nodeId: NodeId;
  private readonly options: ResolvedUwsOptions;
  private readonly addresses: Map<NodeId, ResolvedAddress>;
  private readonly channels = new Map<NodeId, PeerChannel>();
  private readonly serverSockets = new Set<UwsServerSocket>();
  private readonly pool = new BufferPool();
  private handlers: RaftRpcHandlers | undefined;
  private listenSocket: uWS.us_listen_socket | undefined;
  private uws: UwsModule | undefined;
  private listenPort: number;
  private started = false;
  private epoch = 0;
  private nextRequestId = randomInt(1, requestIdMax);
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly dialer: PeerDialer;

  constructor(nodeId: NodeId, options: UwsNetworkOptions) {
    this.nodeId = nodeId;
    this.options = resolveUwsOptions(options);
    this.addresses = resolveAddresses(options.nodeAddresses);
    this.listenPort = this.options.port;
    this.dialer = new PeerDialer({
      nodeId,
      options: this.options,
      isStarted: () => this.started,
      nextEpoch: () => ++this.epoch,
      address: (peerId) => this.addresses.get(peerId),
      receive: (channel, socket, bytes) => this.receive(channel, socket, bytes, true),
      lost: (peerId, socket, reason) => this.lost(peerId, socket, reason),
    });
  }

  /** The port listened on (the real one when constructed with port 0), once started. */
  get port(): number {
    return this.listenPort;
  }

  registerHandlers(handlers: RaftRpcHandlers): void {
    this.handlers = handlers;
  }

  /**
   * Adds or changes a peer's address (membership change); throws `InvalidConfigError` for one that
   * does not parse. For a peer this node dials (see the module comment), a running network dials
   * the new address at once; a changed address first drops the connection dialed to the old one
   * (its requests in flight fail with the transient `TRANSPORT_ERR_CONNECTION_LOST`). A connection
   * the peer dialed to us is kept: the address is not what it runs on.
   */
  setNodeAddress(nodeId: NodeId, address: PeerAddress): void {
    const resolved = resolveAddress(nodeId, address);
    const previous = this.addresses.get(nodeId);
    if (previous !== undefined && previous.host === resolved.host && previous.port === resolved.port) return;
    this.addresses.set(nodeId, resolved);
    if (!this.started || !this.dialsTo(nodeId)) return;
    if (previous !== undefined) this.dropDialed(nodeId, 'peer address changed');
    this.dialer.dial(this.channel(nodeId));
  }

  /**
   * Forgets a peer (it left the cluster): its requests, queued or in flight, fail at once with the
   * transient `TRANSPORT_ERR_CONNECTION_LOST`; its connection is closed and not redialed; later
   * requests fail with {@link NoAddressError}. If the peer still dials us it is served as any
   * authenticated peer is, but this node sends it no more requests.
   */
  removeNodeAddress(nodeId: NodeId): void {
    if (!this.addresses.delete(nodeId)) return;
    this.dialer.forget(nodeId);
    const channel = this.channels.get(nodeId);
    if (channel === undefined) return;
    this.channels.delete(nodeId);
    const socket = channel.socket;
    channel.socket = undefined;
    channel.failAll(() => new ConnectionLostError(nodeId, 'address removed'));
    socket?.close(closeGoingAway, 'removed');
  }

  async start(): Promise<void> {
    if (this.started) return;
    const uws = await loadUws();
    this.uws = uws;
    const { tls } = this.options;
    const app = tls
      ? uws.SSLApp({ key_file_name: tls.keyFile, cert_file_name: tls.certFile, ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}) })
      : uws.App();
    app.ws<UwsUserData>(raftWsPath, {
      compression: uws.DISABLED,
      maxPayloadLength: this.options.payloadBytesMax,
      idleTimeout: this.options.idleTimeoutSeconds,
      // Our own queue holds back at backpressureBytesMax; uWS drops only past this, which we never reach.
      maxBackpressure: this.options.backpressureBytesMax + 2 * this.options.payloadBytesMax,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => this.accepted(ws),
      message: (ws, message) => this.receivedOnServer(ws, message),
      drain: (ws) => {
        const socket = ws.getUserData().socket;
        if (socket !== undefined) this.channels.get(ws.getUserData().peerId)?.flush();
      },
      close: (ws) => this.closedOnServer(ws),
    });
    app.any('/*', (res) => {
      res.writeStatus('404 Not Found').end();
    });
    const listenSocket = await new Promise<uWS.us_listen_socket | false>((resolve) => app.listen(this.options.host, this.options.port, resolve));
    if (listenSocket === false) {
      throw new TransportError('TRANSPORT_ERR_ADDRESS_IN_USE', `cannot listen on ${this.options.host}:${this.options.port} (in use, or not a local address)`, false);
    }
    this.listenSocket = listenSocket;
    this.listenPort = uws.us_socket_local_port(listenSocket as unknown as uWS.us_socket);
    this.started = true;
    const resolutionMs = Math.min(100, Math.max(5, Math.floor(this.options.timeoutMs / 10)));
    this.sweepTimer = setInterval(() => this.sweep(), resolutionMs);
    this.sweepTimer.unref();
    for (const peerId of this.addresses.keys()) if (this.dialsTo(peerId)) this.dialer.dial(this.channel(peerId));
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    clearInterval(this.sweepTimer);
    if (this.listenSocket !== undefined) this.uws!.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    this.dialer.forgetAll();
    const stopped = (): NetworkStoppedError => new NetworkStoppedError(this.nodeId);
    const closing: Promise<void>[] = [];
    for (const channel of this.channels.values()) {
      channel.failAll(stopped);
      const socket = channel.socket;
      channel.socket = undefined;
      if (socket instanceof WsClientSocket) closing.push(socket.closeGracefully(closeGoingAway, 'stopping', stopCloseWaitMs));
    }
    // A close frame (not a reset) tells each peer at once that this node is gone, so the peer
    // fails its requests on this connection now and does not send new ones on it.
    for (const socket of [...this.serverSockets]) socket.close(closeGoingAway, 'stopping');
    this.serverSockets.clear();
    this.channels.clear();
    await Promise.all(closing);
    await new Promise((resolve) => setImmediate(resolve));
  }

  sendRequestVote(target: NodeId, req: RequestVoteParams): Promise<RequestVoteResponse> {
    const full = req as Partial<RequestVoteRequest>;
    // Already a full core message for `target` (what RaftNode sends): encode it as it is.
    const message = full.type === 'RequestVote' && full.to === target && full.from !== undefined && full.preVote !== undefined && full.leadershipTransfer !== undefined
      ? (req as RequestVoteRequest)
      : toRequestVote(target, req);
    return this.call(target, message) as Promise<RequestVoteResponse>;
  }

  sendAppendEntries(target: NodeId, req: AppendEntriesParams): Promise<AppendEntriesResponse> {
    return this.call(target, isFullAppendEntries(target, req) ? req : toAppendEntries(target, req)) as Promise<AppendEntriesResponse>;
  }

  sendInstallSnapshot(target: NodeId, req: InstallSnapshotParams): Promise<InstallSnapshotResponse> {
    return this.call(target, toInstallSnapshot(target, req)) as Promise<InstallSnapshotResponse>;
  }

  async sendTimeoutNow(target: NodeId, req: TimeoutNowParams): Promise<void> {
    await this.call(target, toTimeoutNow(target, req));
  }

  /** Whether a connection to `peerId` is open (either side may have dialed it). */
  isConnected(peerId: NodeId): boolean {
    return this.channels.get(peerId)?.socket !== undefined;
  }

  /** Batches (WebSocket messages) and frames sent to `peerId` over this network's life (for metrics and tests). */
  sendStats(peerId: NodeId): { batchesSent: number; framesSent: number } {
    const stats = this.channels.get(peerId)?.stats;
    return { batchesSent: stats?.batchesSent ?? 0, framesSent: stats?.framesSent ?? 0 };
  }

  /** Messages waiting to go to `peerId` (for metrics and tests). */
  queuedMessages(peerId: NodeId): number {
    return this.channels.get(peerId)?.queuedMessages ?? 0;
  }

  private call(target: NodeId, req: RpcRequest): Promise<WireMessage> {
    if (!this.started) return Promise.reject(new NetworkStoppedError(this.nodeId));
    // Requests go only to peers with an address (one that dials us without one is only answered).
    if (!this.addresses.has(target)) return Promise.reject(new NoAddressError(target));
    const channel = this.channel(target);
    // A peer that dials us and is not connected is down (or has not reached us yet): fail now, and
    // transiently, rather than hold the request for its whole timeout.
    if (channel.socket === undefined && !this.dialsTo(target)) return Promise.reject(new TargetUnavailableError(target, true));
    const requestId = this.nextRequestId;
    this.nextRequestId = requestId >= requestIdMax ? 1 : requestId + 1;
    const answer = new Promise<WireMessage>((resolve, reject) => {
      const pending: Pending = { answerType: answerTypeOf[req.type], deadline: performance.now() + this.options.timeoutMs, sentEpoch: 0, resolve, reject };
      channel.request(req, requestId, pending);
    });
    // After queueing, so that a dial that fails at once fails this request too.
    if (channel.socket === undefined && this.dialsTo(target)) this.dialer.dial(channel);
    return answer;
  }

  private channel(peerId: NodeId): PeerChannel {
    let channel = this.channels.get(peerId);
    if (channel === undefined) {
      channel = new PeerChannel(peerId, this.options, this.pool);
      this.channels.set(peerId, channel);
    }
    return channel;
  }

  /** Closes the connection this node dialed to `peerId` (or is dialing), if any; redials are cancelled. */
  private dropDialed(peerId: NodeId, reason: string): void {
    this.dialer.forget(peerId);
    const channel = this.channels.get(peerId);
    const socket = channel?.socket;
    if (channel === undefined || !(socket instanceof WsClientSocket)) return;
    channel.socket = undefined;
    channel.failInflight(socket.epoch, () => new ConnectionLostError(peerId, reason));
    socket.destroy();
  }

  /** One WebSocket per pair: the lower id dials. */
  private dialsTo(peerId: NodeId): boolean {
    return this.nodeId < peerId && this.addresses.has(peerId);
  }

  private sweep(): void {
    const now = performance.now();
    for (const channel of this.channels.values()) channel.sweep(now, this.options.timeoutMs);
  }

  // ---- server side (uWS) ----

  private upgrade(res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t): void {
    // The request object dies with this callback: read every header now.
    const from = req.getHeader(headerFrom);
    const to = req.getHeader(headerTo);
    const nonce = req.getHeader(headerNonce);
    const auth = req.getHeader(headerAuth);
    const key = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    if (from.length === 0 || Buffer.byteLength(from) > NODE_ID_BYTES_MAX || from === this.nodeId) {
      res.writeStatus('400 Bad Request').end('missing or invalid x-raftwire-from');
      return;
    }
    if (to !== this.nodeId) {
      res.writeStatus('421 Misdirected Request').end(`this is node ${this.nodeId}`);
      return;
    }
    const secret = this.options.clusterSecret;
    if (secret !== undefined && !verifyAuth(secret, from, to, nonce, auth)) {
      res.writeStatus('401 Unauthorized').end('cluster secret proof missing or wrong');
      return;
    }
    res.upgrade<UwsUserData>({ peerId: from, socket: undefined }, key, protocol, extensions, context);
  }

  private accepted(ws: uWS.WebSocket<UwsUserData>): void {
    const data = ws.getUserData();
    const socket = new UwsServerSocket(++this.epoch, ws);
    data.socket = socket;
    if (!this.started) {
      socket.destroy();
      return;
    }
    this.serverSockets.add(socket);
    const channel = this.channel(data.peerId);
    const previous = channel.socket;
    channel.socket = socket;
    // A peer that reconnects replaces its old connection; what was sent on the old one is lost.
    if (previous !== undefined && previous !== socket) {
      channel.failInflight(previous.epoch, () => new ConnectionLostError(data.peerId, 'replaced by a new connection'));
      if (previous instanceof UwsServerSocket) previous.close(closeGoingAway, 'replaced');
      else if (previous instanceof WsClientSocket) previous.close(closeGoingAway, 'replaced');
    }
    channel.scheduleFlush();
  }

  private receivedOnServer(ws: uWS.WebSocket<UwsUserData>, message: ArrayBuffer): void {
    const data = ws.getUserData();
    const socket = data.socket;
    if (socket === undefined || socket.closed) return;
    const channel = this.channels.get(data.peerId);
    if (channel === undefined) return;
    this.receive(channel, socket, new Uint8Array(message), false);
  }

  private closedOnServer(ws: uWS.WebSocket<UwsUserData>): void {
    const data = ws.getUserData();
    const socket = data.socket;
    if (socket === undefined) return;
    socket.closed = true;
    this.serverSockets.delete(socket);
    this.lost(data.peerId, socket, 'peer closed the connection');
  }

  /** A connection ended: what was sent on it fails at once, with a transient error. */
  private lost(peerId: NodeId, socket: PeerSocket, reason: string): void {
    const channel = this.channels.get(peerId);
    if (channel === undefined) return;
    if (channel.socket === socket) channel.socket = undefined;
    channel.failInflight(socket.epoch, () => new ConnectionLostError(peerId, reason));
    // Peers we have no address for exist only while connected: forget them, so connections from
    // ever-new ids cannot grow the channel map without bound.
    if (!this.addresses.has(peerId) && channel.socket === undefined && channel.pending.size === 0 && channel.queuedMessages === 0) {
      this.channels.delete(peerId);
    }
  }

  // ---- both sides ----

  /** Handles every frame of one WebSocket message; a bad frame drops the peer's connection. */
  private receive(channel: PeerChannel, socket: PeerSocket, bytes: Uint8Array, owned: boolean): void {
    const failure = forEachFrame(bytes, owned, (message, requestId) => this.handleFrame(channel, socket, message, requestId));
    if (failure !== undefined) this.rejectPeer(channel, socket, `bad frame from ${channel.peerId}: ${failure}`);
  }

  private handleFrame(channel: PeerChannel, socket: PeerSocket, message: WireMessage, requestId: number): void {
    switch (message.type) {
      case 'RequestVote':
      case 'AppendEntries':
      case 'InstallSnapshot':
      case 'TimeoutNow':
        this.serve(channel, socket.epoch, message, requestId);
        return;
      case 'RequestVoteResponse':
      case 'AppendEntriesResponse':
      case 'InstallSnapshotResponse':
        channel.settle(requestId, undefined, message);
        return;
      case 'ClientReply':
        if (message.status === 'ok') channel.settle(requestId, undefined, message);
        else channel.settle(requestId, new RemoteHandlerError(channel.peerId, message.value === null ? message.code : Buffer.from(message.value).toString('utf8'), message.code || undefined));
        return;
      default:
        this.rejectPeer(channel, socket, `unexpected ${message.type} frame from ${channel.peerId}`);
    }
  }

  private serve(channel: PeerChannel, epoch: number, request: RpcRequest, requestId: number): void {
    let result: RpcResponse | Promise<RpcResponse>;
    try {
      result = dispatchRequestFast(this.nodeId, this.handlers, request);
    } catch (error) {
      this.answerError(channel, epoch, requestId, error);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (response) => this.answer(channel, epoch, requestId, response),
        (error: unknown) => this.answerError(channel, epoch, requestId, error),
      );
    } else {
      this.answer(channel, epoch, requestId, result);
    }
  }

  /** Answers only on the connection the request came on: a new connection has new request ids. */
  private answer(channel: PeerChannel, epoch: number, requestId: number, response: RpcResponse): void {
    if (channel.socket?.epoch === epoch) channel.respond(response ?? ackReply, requestId);
  }

  private answerError(channel: PeerChannel, epoch: number, requestId: number, error: unknown): void {
    if (channel.socket?.epoch !== epoch) return;
    // Bounded, so that an error with a huge message still fits a frame and reaches the caller.
    const code = (errorCode(error) ?? '').slice(0, errorCodeCharsMax);
    const reply: ClientReply = { type: 'ClientReply', status: 'error', code, value: Buffer.from(errorMessage(error).slice(0, errorMessageCharsMax)), leaderHint: null };
    channel.respond(reply, requestId);
  }

  /** A peer broke the protocol: drop its connection (what it had in flight fails); others are untouched. */
  private rejectPeer(channel: PeerChannel, socket: PeerSocket, reason: string): void {
    this.lost(channel.peerId, socket, reason);
    socket.close(closeProtocolError, 'protocol error');
  }
}
