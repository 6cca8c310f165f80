// Write failures from lmdb-js become typed storage errors (the full-disk path cannot be provoked
// on this machine's file system, so the translation is checked on its own).
import { describe, expect, it } from 'vitest';
import { StorageFullError, StorageInvalidWriteError, StorageIoError } from '../../src/storage/index.js';
import { mapWriteError } from '../../src/storage/lmdb-errors.js';

function commitFailure(inner: unknown): Error {
  const error = new Error('Commit failed (see commitError for details)') as Error & { commitError: Promise<unknown> };
  error.commitError = Promise.reject(inner);
  error.commitError.catch(() => {});
  return error;
}

describe('mapWriteError', () => {
  it('maps ENOSPC and MDB_MAP_FULL behind a failed commit to StorageFullError', async () => {
    for (const code of [28, -30792]) {
      const mapped = await mapWriteError(commitFailure(Object.assign(new Error('no space'), { code })), 100, 200);
      expect(mapped).toBeInstanceOf(StorageFullError);
      expect((mapped as StorageFullError).limitBytes).toBe(200);
    }
    expect(await mapWriteError(Object.assign(new Error('x'), { code: 'ENOSPC' }), 1, 2)).toBeInstanceOf(StorageFullError);
  });

  it('maps other failures to StorageIoError with the cause, and passes our own errors through', async () => {
    const io = await mapWriteError(commitFailure(Object.assign(new Error('Input/output error'), { code: 5 })), 1, 2);
    expect(io).toBeInstanceOf(StorageIoError);
    expect((io as StorageIoError).code).toBe('STORAGE_ERR_IO');
    const ours = new StorageInvalidWriteError('bad');
    expect(await mapWriteError(ours, 1, 2)).toBe(ours);
  });
});
