/**
 * The resilience layer: retry with backoff, rate limiting, circuit breaking and connection
 * pooling. It imports nothing from other layers but `util`, so transports, the client, the
 * cluster services and the server all share one implementation. See `docs/resilience.md`.
 */
export {
  ResilienceError,
  InvalidResilienceConfigError,
  OperationAbortedError,
  CircuitOpenError,
  RateLimitExceededError,
  PoolError,
  PoolAcquireTimeoutError,
  PoolQueueFullError,
  PoolClosedError,
  PoolCreateError,
  PoolDoubleReleaseError,
  PoolForeignConnectionError,
  ResilienceAssertionError,
} from './errors.js';
export {
  RetryExecutor,
  computeRetryDelay,
  computeRetryDelays,
  computeBaseRetryDelay,
  isRetryableError,
  resolveRetryConfig,
  retriesMax,
  RETRY_STRATEGIES,
  type RetryConfig,
  type RetryResult,
  type RetryExecuteOptions,
  type RetryStrategy,
  type RetryDelayConfig,
  type RetryableErrorMatcher,
  type RetryPredicate,
  type ErrorClass,
} from './retry.js';
export { waitFor } from './wait.js';
export {
  RateLimiter,
  RATE_LIMITER_ALGORITHMS,
  slidingWindowPermitsMax,
  rateLimiterWaitersMax,
  type RateLimiterConfig,
  type RateLimiterAlgorithm,
} from './rate-limiter.js';
export {
  CircuitBreaker,
  circuitThresholdMax,
  type CircuitBreakerConfig,
  type CircuitBreakerStats,
  type CircuitState,
} from './circuit-breaker.js';
export {
  ConnectionPool,
  poolConnectionsMax,
  poolWaitingRequestsMax,
  type PoolConfig,
  type PoolFactory,
  type PoolStats,
} from './pool.js';
