/**
 * One complete cache node: the durable log (LMDB) and snapshots under `dataDir`, the peer
 * transport (uWebSockets.js by default, HTTP/JSON for compatibility), the Raft node, the cache
 * state machine and the client HTTP server. `raftwire start` and `raftwire cluster` run this.
 *
 * @example
 * ```ts
 * const node = await startCacheNode({
 *   id: 'n1', dataDir: './data/n1', clientPort: 8001,
 *   peers: { n1: { raft: '127.0.0.1:7001', client: 'http://127.0.0.1:8001' }, n2: {…}, n3: {…} },
 * });
 * // … later
 * await node.stop();
 * ```
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CacheStateMachine, type CacheResult } from '../cache/index.js';
import type { RaftConfig } from '../core/config.js';
import { InvalidConfigError } from '../core/errors.js';
import { DiskSnapshotPersistence, RaftNode } from '../node/index.js';
import { RateLimiter } from '../resilience/index.js';
import { LmdbLogStore, SnapshotStore } from '../storage/index.js';
import { HttpNetwork, type NetworkInterface, UwsNetwork } from '../transport/index.js';
import { HttpServer, type HttpServerOptions } from './http-server.js';
import { KvService, LEADER_WAIT_MS_DEFAULT } from './kv-service.js';

export interface PeerEndpoints {
  /** Where the node's Raft transport listens, `host:port`. */
  raft: string;
  /** Where its client API listens, a URL such as `http://127.0.0.1:8001`. */
  client: string;
}

export interface CacheNodeOptions {
  id: string;
  /**
   * The members this node knows at start, this node included: the voters of a new cluster, or,
   * with `join`, the members of the running cluster it is about to be added to.
   */
  peers: Record<string, PeerEndpoints>;
  /**
   * This node is new to a running cluster: it starts with no vote and waits until the leader adds
   * it (`POST /v1/cluster/members`, `raftwire member add`). Ignored once its log holds a configuration.
   */
  join?: boolean;
  /** Called once this node has applied its own removal from the cluster. */
  onRemoved?: () => void;
  /** Called when the node's disk is full and it sits out (see `RaftNode`'s `storageFullRetryMs`). */
  onStorageFull?: (error: Error) => void;
  dataDir: string;
  /** `uws` (default): binary frames over WebSocket; `http`: JSON over HTTP. */
  transport?: 'uws' | 'http';
  /** Shared secret peers must prove at connect (uws transport). */
  clusterSecret?: string;
  /** Bearer token clients must send to `/v1/*`. */
  authToken?: string;
  corsOrigin?: string;
  /** Client requests per second before 429s; unlimited when not set. */
  requestsPerSecond?: number;
  /** Largest client request body, bytes (see {@link HttpServerOptions}). */
  bodyBytesMax?: number;
  /** Open WebSocket client connections before new ones are refused (see {@link HttpServerOptions}). Default 10,000. */
  webSocketConnectionsMax?: number;
  /** Client requests served at once before new ones get 503 (see {@link HttpServerOptions}). Default 10,000. */
  inflightRequestsMax?: number;
  /** A client request not answered in this time gets 504 (see {@link HttpServerOptions}). Default 10 s. */
  requestTimeoutMs?: number;
  raft?: Omit<RaftConfig, 'id' | 'random'>;
  /** See `RaftNodeOptions.snapshotLogRatio` (default 0.5). */
  snapshotLogRatio?: number;
  /** During an election, how long a write or non-stale read waits for a leader before 503 (default 1,000 ms; see `KvService`). */
  leaderWaitMs?: number;
  /** Called if the node stops on a fatal error. */
  onFatal?: (error: Error) => void;
}

export interface CacheNodeHandle {
  id: string;
  node: RaftNode<CacheResult>;
  cache: CacheStateMachine;
  server: HttpServer;
  /** Drains: hands leadership away if it can, stops serving, stops Raft, closes the log. */
  stop(): Promise<void>;
}

/** How long a removed node waits for its in-flight answers before reporting its removal. */
const REMOVAL_DRAIN_MS_MAX = 2_000;
/** How long a stopping node lets the requests in flight finish before it stops Raft. */
const SHUTDOWN_DRAIN_MS_MAX = 2_000;

/** Resolves once `server` has no request in flight, or after `msMax`. */
async function drained(server: HttpServer | undefined, msMax: number): Promise<void> {
  const deadline = Date.now() + msMax;
  while (server !== undefined && server.inflightRequests > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

function hostPort(id: string, address: string): { host: string; port: number } {
  const url = new URL(/^[a-z]+:\/\//i.test(address) ? address : `http://${address}`);
  const port = Number(url.port);
  if (!Number.isInteger(port) || port <= 0) throw new InvalidConfigError(`node ${id}: address ${address} needs a port`);
  return { host: url.hostname, port };
}

export async function startCacheNode(options: CacheNodeOptions): Promise<CacheNodeHandle> {
  const self = options.peers[options.id];
  if (self === undefined) throw new InvalidConfigError(`node ${options.id} is not among the peers (${Object.keys(options.peers).join(', ')})`);
  if (options.join && Object.keys(options.peers).length < 2) {
    throw new InvalidConfigError(`node ${options.id} joins a running cluster: peers must list at least one of its members besides ${options.id}`);
  }
  const raftAddress = hostPort(options.id, self.raft);
  const clientAddress = hostPort(options.id, self.client);
  await mkdir(options.dataDir, { recursive: true });
  const logPath = join(options.dataDir, 'log');
  let logStore = await LmdbLogStore.open(logPath);
  const snapshotStore = await SnapshotStore.open(join(options.dataDir, 'snapshots'));
  const nodeAddresses = Object.fromEntries(Object.entries(options.peers).map(([id, p]) => [id, p.raft]));
  const network: NetworkInterface =
    options.transport === 'http'
      ? new HttpNetwork(options.id, { port: raftAddress.port, host: raftAddress.host, nodeAddresses })
      : new UwsNetwork(options.id, { port: raftAddress.port, host: raftAddress.host, nodeAddresses, clusterSecret: options.clusterSecret });
  const cache = new CacheStateMachine();
  let server: HttpServer | undefined;
  const node = new RaftNode<CacheResult>({
    id: options.id,
    voters: Object.keys(options.peers),
    join: options.join,
    members: options.peers,
    // Let answers in flight out first: the request that removed this node is one of them.
    onStorageFull: options.onStorageFull,
    reopenLogStore: async () => {
      await logStore.close().catch(() => undefined); // it may refuse to flush what it could not write
      logStore = await LmdbLogStore.open(logPath);
      return logStore;
    },
    onRemoved: () => void drained(server, REMOVAL_DRAIN_MS_MAX).then(() => options.onRemoved?.()),
    logStore,
    snapshots: new DiskSnapshotPersistence(snapshotStore),
    network,
    stateMachine: cache,
    raft: options.raft,
    ...(options.snapshotLogRatio !== undefined ? { snapshotLogRatio: options.snapshotLogRatio } : {}),
    onFatal: options.onFatal,
  });
  await node.start();
  server = new HttpServer({
    kv: new KvService(node, cache, Date.now, options.leaderWaitMs ?? LEADER_WAIT_MS_DEFAULT),
    host: clientAddress.host,
    port: clientAddress.port,
    leaderUrl: (id) => (node.getMemberEndpoints(id)?.client ?? options.peers[id]?.client)?.replace(/\/$/, ''),
    authToken: options.authToken,
    corsOrigin: options.corsOrigin,
    bodyBytesMax: options.bodyBytesMax,
    webSocketConnectionsMax: options.webSocketConnectionsMax,
    inflightRequestsMax: options.inflightRequestsMax,
    requestTimeoutMs: options.requestTimeoutMs,
    rateLimiter: options.requestsPerSecond ? new RateLimiter({ requestsPerSecond: options.requestsPerSecond, burstSize: options.requestsPerSecond }) : undefined,
  });
  await server.listen();
  let stopped = false;
  return {
    id: options.id,
    node,
    cache,
    server,
    async stop() {
      if (stopped) return;
      stopped = true;
      // New requests are refused (503, connection closed) while those in flight finish here,
      // on a node that still runs Raft: a write it accepted is answered, not failed.
      server.stopAccepting();
      await drained(server, SHUTDOWN_DRAIN_MS_MAX);
      if (node.isLeader()) {
        const other = node.getState().config.voters.find((id) => id !== options.id);
        // Best effort: a transfer lets the cluster skip an election timeout. Wait until leadership
        // has moved (bounded by one election timeout), not a fixed guess.
        if (other !== undefined) {
          try {
            node.transferLeadership(other);
            const deadline = Date.now() + (options.raft?.electionTimeoutMaxMs ?? 300);
            while (node.isLeader() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
          } catch {
            // not fatal: the others elect a leader after their timeout
          }
        }
      }
      await node.stop();
      // Last: idle keep-alive and WebSocket clients; a stopped node answers no one.
      server.close();
      await logStore.close();
    },
  };
}
