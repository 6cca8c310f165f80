/**
 * Bounds on everything a client chooses. Checked when a command is built (so a bad request fails
 * before it is proposed) and again when a command is decoded from the log (so a log written by a
 * buggy or hostile proposer cannot make a replica allocate without bound).
 */
export interface CacheLimits {
  /** Longest key, in UTF-8 bytes. */
  keyBytesMax: number;
  /** Largest value, in bytes. */
  valueBytesMax: number;
  /** Longest client id, in UTF-8 bytes. */
  clientIdBytesMax: number;
  /** Client sessions remembered for exactly-once writes; the least recently used is forgotten. */
  sessionsMax: number;
  /** Longest TTL a client may ask for (ms). */
  ttlMsMax: number;
  /** Unacknowledged write results kept per client (its pipelining depth). */
  sessionResultsMax: number;
}

export const DEFAULT_CACHE_LIMITS: CacheLimits = Object.freeze({
  keyBytesMax: 1024,
  valueBytesMax: 1024 * 1024,
  clientIdBytesMax: 128,
  sessionsMax: 100_000,
  ttlMsMax: 365 * 24 * 3600 * 1000,
  sessionResultsMax: 4096,
});
