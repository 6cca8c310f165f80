export { CacheStateMachine, type CacheResult } from './state-machine.js';
export { encodeCacheCommand, decodeCacheCommand, type CacheRequest, type CacheSession, type CacheCommand, type DecodedCacheCommand } from './command.js';
export { CacheError } from './errors.js';
export { type CacheLimits, DEFAULT_CACHE_LIMITS } from './limits.js';
