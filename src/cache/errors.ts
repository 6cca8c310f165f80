import { RaftwireError } from '../core/errors.js';

/**
 * A cache request that cannot be carried out as asked: too large, malformed, or (for
 * compare-and-set) the current value was not the expected one. The `code` says which.
 *
 * Codes: `CACHE_ERR_KEY_TOO_LARGE`, `CACHE_ERR_VALUE_TOO_LARGE`, `CACHE_ERR_KEY_EMPTY`,
 * `CACHE_ERR_BAD_TTL`, `CACHE_ERR_NOT_A_NUMBER`, `CACHE_ERR_MALFORMED_COMMAND`,
 * `CACHE_ERR_MALFORMED_SNAPSHOT`, `CACHE_ERR_CLIENT_ID_TOO_LARGE`.
 */
export class CacheError extends RaftwireError {}
