/**
 * Translating lmdb-js write failures into storage errors: no space (`ENOSPC`, `MDB_MAP_FULL`)
 * becomes `StorageFullError`, anything else `StorageIoError`; our own errors pass through.
 *
 * @module
 */
import { isRaftwireError } from '../core/errors.js';
import { StorageFullError, StorageIoError } from './errors.js';

/** LMDB's own error numbers we translate (lmdb.h, errno.h). */
const MDB_MAP_FULL = -30792;
const ENOSPC = 28;

/** How long to wait for lmdb-js to reveal the LMDB error behind a failed commit, in ms. */
const commitErrorWaitMs = 1000;

/**
 * lmdb-js rejects a failed batch with a generic "Commit failed" error whose `commitError` promise
 * rejects with the LMDB error (`code` = LMDB or errno number); a synchronous failure carries the
 * code itself.
 */
export async function mapWriteError(error: unknown, usedBytes: number, limitBytes: number): Promise<unknown> {
  if (isRaftwireError(error)) return error;
  let cause: unknown = error;
  const commitError = (error as { commitError?: Promise<unknown> } | null)?.commitError;
  if (commitError !== undefined) {
    // lmdb-js rejects the batch with a generic error and the LMDB error on `commitError`.
    cause = await Promise.race([
      commitError.then(() => error, (inner: unknown) => inner),
      new Promise((resolve) => setTimeout(() => resolve(error), commitErrorWaitMs).unref()),
    ]);
  }
  const code = (cause as { code?: unknown } | null)?.code;
  if (code === MDB_MAP_FULL || code === ENOSPC || code === -ENOSPC || code === 'ENOSPC') {
    return new StorageFullError(usedBytes, limitBytes, 'LMDB or the disk reported no space left', { cause });
  }
  return new StorageIoError(`LMDB write failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
}
