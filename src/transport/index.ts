/**
 * Transports: how Raft nodes reach each other. One {@link NetworkInterface}, four implementations:
 * `InMemoryNetwork` (simulation and tests), `ReliableNetwork` (timeouts and retries around any
 * other), `HttpNetwork` (HTTP/JSON, the compatibility path) and `UwsNetwork` (uWebSockets.js,
 * binary frames, batching: the fast path).
 * @module
 */
export * from './errors.js';
export * from './types.js';
export { dispatchRequest, NoHandlerError } from './dispatch.js';
export { InMemoryHub, InMemoryNetwork, type InMemoryChaos, type InMemoryHubOptions, type InMemoryNetworkOptions } from './in-memory.js';
export { HttpNetwork, httpBodyBytesMaxDefault, type HttpNetworkOptions } from './http.js';
export { resolveAddress, resolveAddresses, type NodeAddresses, type PeerAddress, type ResolvedAddress } from './addresses.js';
export { ReliableNetwork, attemptTimeoutMs, type ReliableNetworkOptions } from './reliable.js';
export { UwsNetwork, raftWsPath } from './uws/network.js';
export type { UwsNetworkOptions, UwsTlsOptions } from './uws/options.js';
