/**
 * `HttpNetwork`: Raft RPCs as `POST /raft/request-vote`, `/raft/append-entries`,
 * `/raft/install-snapshot` (and `/raft/timeout-now`) with JSON bodies and base64 payloads, over a
 * keep-alive connection pool. It is the compatibility path (same routes and bodies as the original
 * network layer) and the baseline `UwsNetwork` is measured against.
 *
 * @example
 * ```ts
 * const net = new HttpNetwork('n1', { port: 3001, nodeAddresses: { n2: 'http://127.0.0.1:3002' }, timeout: 5000 });
 * net.registerHandlers(handlers);
 * await net.start();
 * const res = await net.sendAppendEntries('n2', { term, leaderId: 'n1', prevLogIndex, prevLogTerm, entries, leaderCommit });
 * ```
 * @module
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidConfigError } from '../core/errors.js';
import type { NodeId } from '../core/types.js';
import { resolveAddress, resolveAddresses, type NodeAddresses, type PeerAddress, type ResolvedAddress } from './addresses.js';
import { dispatchRequest, errorCode, errorMessage } from './dispatch.js';
import {
  ConnectionLostError,
  NetworkStoppedError,
  NetworkTimeoutError,
  NoAddressError,
  ProtocolError,
  RemoteHandlerError,
  TransportError,
  isTransportError,
} from './errors.js';
import { decodeJsonRequest, encodeJsonRequest, httpPaths, requestTypeOfPath } from './http-json.js';
import {
  toAppendEntries,
  toInstallSnapshot,
  toRequestVote,
  toTimeoutNow,
  type AppendEntriesParams,
  type AppendEntriesResponse,
  type InstallSnapshotParams,
  type InstallSnapshotResponse,
  type NetworkInterface,
  type PeerAddressBook,
  type RaftRpcHandlers,
  type RequestVoteParams,
  type RequestVoteResponse,
  type RpcRequest,
  type RpcResponse,
  type TimeoutNowParams,
} from './types.js';

/** Default bound on a request or response body: a 4 MiB snapshot chunk is ~5.6 MB as base64. */
export const httpBodyBytesMaxDefault = 16 * 1024 * 1024;

export interface HttpNetworkOptions {
  /** Port to listen on; 0 picks a free one (see {@link HttpNetwork.port} after start). */
  port: number;
  /** Interface to listen on. Default `'127.0.0.1'`. */
  host?: string;
  /** Where the peers listen: `{ n2: 'http://10.0.0.2:3002' }`, `'host:port'` or `{ host, port }`. */
  nodeAddresses?: NodeAddresses;
  /** Per-request timeout, ms. Default 5000. */
  timeout?: number;
  /** Largest body accepted or sent, bytes. Default {@link httpBodyBytesMaxDefault}. */
  bodyBytesMax?: number;
  /** Sockets per peer in the keep-alive pool. Default 50. */
  maxSockets?: number;
  /** Idle sockets kept per peer. Default 10. */
  maxFreeSockets?: number;
}

interface Outgoing {
  target: NodeId;
  request: http.ClientRequest;
  reject(error: unknown): void;
}

/** The HTTP/JSON transport; see the module comment. */
export class HttpNetwork implements NetworkInterface, PeerAddressBook {
  readonly nodeId: NodeId;
  private readonly host: string;
  private listenPort: number;
  private readonly addresses: Map<NodeId, ResolvedAddress>;
  private readonly timeoutMs: number;
  private readonly bodyBytesMax: number;
  private readonly agent: http.Agent;
  private handlers: RaftRpcHandlers | undefined;
  private server: http.Server | undefined;
  private started = false;
  private readonly outgoing = new Set<Outgoing>();

  constructor(nodeId: NodeId, options: HttpNetworkOptions) {
    this.nodeId = nodeId;
    this.host = options.host ?? '127.0.0.1';
    this.listenPort = options.port;
    this.addresses = resolveAddresses(options.nodeAddresses);
    this.timeoutMs = options.timeout ?? 5000;
    this.bodyBytesMax = options.bodyBytesMax ?? httpBodyBytesMaxDefault;
    if (!(this.timeoutMs > 0)) throw new InvalidConfigError(`timeout must be > 0 ms (got ${this.timeoutMs})`);
    if (!Number.isInteger(this.bodyBytesMax) || this.bodyBytesMax < 1024) throw new InvalidConfigError(`bodyBytesMax must be an integer >= 1024 (got ${this.bodyBytesMax})`);
    this.agent = new http.Agent({ keepAlive: true, noDelay: true, maxSockets: options.maxSockets ?? 50, maxFreeSockets: options.maxFreeSockets ?? 10 });
  }

  /** The port listened on (the real one when constructed with port 0), once started. */
  get port(): number {
    return this.listenPort;
  }

  /**
   * Adds or changes a peer's address (membership change). Requests already sent to the old address
   * go on; later ones go to the new one. Throws `InvalidConfigError` for an address that does not parse.
   */
  setNodeAddress(nodeId: NodeId, address: PeerAddress): void {
    this.addresses.set(nodeId, resolveAddress(nodeId, address));
  }

  /**
   * Forgets a peer (it left the cluster): its requests in flight fail at once with a transient
   * `TRANSPORT_ERR_CONNECTION_LOST`, later ones with {@link NoAddressError}.
   */
  removeNodeAddress(nodeId: NodeId): void {
    this.addresses.delete(nodeId);
    for (const out of [...this.outgoing]) {
      if (out.target !== nodeId) continue;
      out.reject(new ConnectionLostError(nodeId, 'address removed'));
      out.request.destroy();
    }
  }

  registerHandlers(handlers: RaftRpcHandlers): void {
    this.handlers = handlers;
  }

  async start(): Promise<void> {
    if (this.started) return;
    const server = http.createServer({ keepAlive: true, noDelay: true }, (req, res) => this.serve(req, res));
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.listenPort = (server.address() as AddressInfo).port;
    this.server = server;
    this.started = true;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const out of [...this.outgoing]) {
      out.reject(new NetworkStoppedError(this.nodeId));
      out.request.destroy();
    }
    this.outgoing.clear();
    this.agent.destroy();
    const server = this.server!;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Requests being served are cut: their callers see a lost connection at once, not a timeout.
    server.closeAllConnections();
    await closed;
  }

  sendRequestVote(target: NodeId, req: RequestVoteParams): Promise<RequestVoteResponse> {
    return this.call(target, toRequestVote(target, req)) as Promise<RequestVoteResponse>;
  }

  sendAppendEntries(target: NodeId, req: AppendEntriesParams): Promise<AppendEntriesResponse> {
    return this.call(target, toAppendEntries(target, req)) as Promise<AppendEntriesResponse>;
  }

  sendInstallSnapshot(target: NodeId, req: InstallSnapshotParams): Promise<InstallSnapshotResponse> {
    return this.call(target, toInstallSnapshot(target, req)) as Promise<InstallSnapshotResponse>;
  }

  async sendTimeoutNow(target: NodeId, req: TimeoutNowParams): Promise<void> {
    await this.call(target, toTimeoutNow(target, req));
  }

  private call(target: NodeId, req: RpcRequest): Promise<RpcResponse> {
    if (!this.started) return Promise.reject(new NetworkStoppedError(this.nodeId));
    const address = this.addresses.get(target);
    if (address === undefined) return Promise.reject(new NoAddressError(target));
    const body = encodeJsonRequest(req);
    if (body.length > this.bodyBytesMax) {
      return Promise.reject(new ProtocolError(`request to node ${target} is ${body.length} bytes, over bodyBytesMax = ${this.bodyBytesMax}`));
    }
    return new Promise<RpcResponse>((resolve, reject) => {
      let settled = false;
      const out: Outgoing = { target, request: undefined as unknown as http.ClientRequest, reject: (e) => finish(e) };
      const finish = (error: unknown, value?: RpcResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.outgoing.delete(out);
        if (error !== undefined) reject(error);
        else resolve(value);
      };
      const request = http.request({
        host: address.host,
        port: address.port,
        method: 'POST',
        path: httpPaths[req.type],
        agent: this.agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      out.request = request;
      this.outgoing.add(out);
      const timer = setTimeout(() => {
        finish(new NetworkTimeoutError(target, this.timeoutMs));
        request.destroy();
      }, this.timeoutMs);
      request.on('error', (error) => finish(new ConnectionLostError(target, error.message, { cause: error })));
      request.on('response', (res) => {
        readBody(res, this.bodyBytesMax).then(
          (text) => {
            try {
              finish(undefined, parseAnswer(target, res.statusCode ?? 0, text));
            } catch (error) {
              finish(error);
            }
          },
          (error: unknown) => finish(isTransportError(error) ? error : new ConnectionLostError(target, errorMessage(error))),
        );
      });
      request.end(body);
    });
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const type = req.method === 'POST' ? requestTypeOfPath(req.url ?? '') : undefined;
    if (type === undefined) {
      sendJson(res, 404, { code: 'TRANSPORT_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url}` });
      req.resume();
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.bodyBytesMax) {
      sendJson(res, 413, { code: 'TRANSPORT_ERR_BODY_TOO_LARGE', message: `body of ${declared} bytes is over bodyBytesMax = ${this.bodyBytesMax}` }, true);
      req.resume();
      return;
    }
    readBody(req, this.bodyBytesMax).then(
      (text) => {
        let request: RpcRequest;
        try {
          request = decodeJsonRequest(type, text);
        } catch (error) {
          sendJson(res, 400, { code: errorCode(error) ?? 'TRANSPORT_ERR_PROTOCOL', message: errorMessage(error) });
          return;
        }
        dispatchRequest(this.nodeId, this.handlers, request).then(
          (response) => sendJson(res, 200, response ?? { ok: true }),
          (error: unknown) => sendJson(res, 500, { code: 'TRANSPORT_ERR_HANDLER', remoteCode: errorCode(error), message: errorMessage(error) }),
        );
      },
      (error: unknown) => {
        // The body broke the bound while streaming, or the peer went away: answer if we still can
        // and close this connection; the server keeps serving the others.
        if (!res.headersSent && !res.destroyed) sendJson(res, 413, { code: errorCode(error) ?? 'TRANSPORT_ERR_PROTOCOL', message: errorMessage(error) }, true);
      },
    );
  }
}

function sendJson(res: http.ServerResponse, status: number, value: unknown, close = false): void {
  if (res.destroyed) return;
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(close ? { connection: 'close' } : {}) });
  res.end(text);
}

/** Reads a whole body, failing (and destroying the stream) past `bytesMax`. */
function readBody(stream: http.IncomingMessage, bytesMax: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    stream.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > bytesMax) {
        reject(new TransportError('TRANSPORT_ERR_BODY_TOO_LARGE', `body over bodyBytesMax = ${bytesMax}`, false));
        stream.removeAllListeners('data');
        stream.resume();
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, length).toString('utf8')));
    stream.on('error', reject);
    stream.on('aborted', () => reject(new Error('body aborted')));
  });
}

/** Turns a peer's HTTP answer into a response or the matching error. */
function parseAnswer(target: NodeId, status: number, text: string): RpcResponse {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ProtocolError(`node ${target} answered ${status} with a body that is not JSON`);
  }
  if (status === 200) return body.ok === true ? undefined : (body as unknown as RpcResponse);
  const message = typeof body.message === 'string' ? body.message : `HTTP ${status}`;
  if (status === 500 && body.code === 'TRANSPORT_ERR_HANDLER') {
    return throwing(new RemoteHandlerError(target, message, typeof body.remoteCode === 'string' ? body.remoteCode : undefined));
  }
  return throwing(new ProtocolError(`node ${target} refused the request (${status}): ${message}`));
}

function throwing(error: Error): never {
  throw error;
}
