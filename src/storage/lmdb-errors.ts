/**
 * Translating lmdb-js write failures into storage errors: no space (`ENOSPC`, `MDB_MAP_FULL`)
 * becomes `StorageFullError`, anything else `StorageIoError`; our own errors pass through.
 *
 * @module
 */
import { statfsSync } from 'node:fs';
import { isRaftwireError } from '../core/errors.js';
import { StorageFullError, StorageIoError } from './errors.js';

/** LMDB's own error numbers we translate (lmdb.h, errno.h). */
const MDB_MAP_FULL = -30792;
const ENOSPC = 28;
const EIO = 5;

/**
 * Below this much free space, an `EIO` from LMDB is taken for a full disk: LMDB reports a short
 * page write as `EIO`, and a write cut short by a full filesystem is exactly that (seen on a full
 * tmpfs). With more room than this, `EIO` is a real I/O error.
 */
const EIO_FULL_FREE_BYTES_MAX = 64 * 1024 * 1024;

/** Free bytes on the filesystem holding `path`, or undefined if it cannot be asked. */
function freeBytes(path: string): number | undefined {
  try {
    const fs = statfsSync(path);
    return fs.bavail * fs.bsize;
  } catch {
    return undefined;
  }
}

/** How long to wait for lmdb-js to reveal the LMDB error behind a failed commit, in ms. */
const commitErrorWaitMs = 1000;

/**
 * lmdb-js rejects a failed batch with a generic "Commit failed" error whose `commitError` promise
 * rejects with the LMDB error (`code` = LMDB or errno number); a synchronous failure carries the
 * code itself.
 */
export async function mapWriteError(error: unknown, usedBytes: number, limitBytes: number, path?: string): Promise<unknown> {
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
  const free = code === EIO && path !== undefined ? freeBytes(path) : undefined;
  if (free !== undefined && free < EIO_FULL_FREE_BYTES_MAX) {
    return new StorageFullError(usedBytes, limitBytes, `LMDB write failed (EIO) with ${free} bytes free on the disk`, { cause });
  }
  return new StorageIoError(`LMDB write failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
}
