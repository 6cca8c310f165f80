/**
 * raftwire: a Raft consensus node for Node.js. The package root re-exports what most users need;
 * each layer is also importable on its own (`raftwire/core`, `raftwire/codec`, `raftwire/storage`,
 * `raftwire/transport`, `raftwire/resilience`, `raftwire/cache`, `raftwire/node`, `raftwire/server`,
 * `raftwire/client`).
 *
 * @example
 * ```ts
 * import { startCacheNode, RaftwireClient } from 'raftwire';
 * ```
 * @module
 */
export { RaftwireError, isRaftwireError, NotLeaderError, ProposalDroppedError, InvalidConfigError } from './core/errors.js';
export type * from './core/types.js';
export { RaftNode, type ProposalCallback, type RaftNodeOptions, type StateMachine, MemorySnapshotPersistence, DiskSnapshotPersistence } from './node/index.js';
export { CacheStateMachine, encodeCacheCommand, type CacheRequest, type CacheResult } from './cache/index.js';
export { startCacheNode, HttpServer, KvService, type CacheNodeOptions, type CacheNodeHandle } from './server/index.js';
export { RaftwireClient, RaftwireClientError, RaftwireWsClient } from './client/index.js';
export { MemoryLogStore, LmdbLogStore, SnapshotStore } from './storage/index.js';
export { InMemoryNetwork, InMemoryHub, HttpNetwork, UwsNetwork, ReliableNetwork, type NetworkInterface } from './transport/index.js';
export { RetryExecutor, RateLimiter, CircuitBreaker, ConnectionPool } from './resilience/index.js';
