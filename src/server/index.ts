export { startCacheNode, type CacheNodeHandle, type CacheNodeOptions, type PeerEndpoints } from './cache-node.js';
export { HttpServer, type HttpServerOptions, type ClusterView } from './http-server.js';
export { KvService, CONSISTENCIES, type Consistency, type GetCallback } from './kv-service.js';
export { ServerMetrics } from './metrics.js';
export { HttpError } from './errors.js';
