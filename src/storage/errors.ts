/**
 * Storage errors. Each has a stable `code`; callers match on the code, never the message.
 *
 * @example
 * ```ts
 * try { await store.append(entries) } catch (e) {
 *   if (isRaftwireError(e) && e.code === 'STORAGE_ERR_FULL') shedLoad();
 * }
 * ```
 *
 * @module
 */
import { RaftwireError } from '../core/errors.js';

/** Which persisted record a corruption was found in. */
export type StorageRecordKind = 'entry' | 'hardState' | 'logBounds' | 'snapshotMeta' | 'snapshot' | 'wal' | 'walCheckpoint';

/** What an operator should do about a corrupted log: the one safe way back. */
export const CORRUPTION_ADVICE =
  'The node must not start on this log. Restore it from a peer: stop the node, remove its data ' +
  'directory and let it rejoin the cluster, which sends it a snapshot and the log. This is safe ' +
  'only while a quorum of the other nodes still holds the log; if several nodes report corruption, ' +
  'stop and restore from a backup instead.';

/**
 * A stored record failed its checksum or its structure check. Never skipped silently: a node that
 * sees this at open refuses to start. `index` is the log index of a corrupted entry (null for the
 * other records).
 */
export class StorageCorruptionError extends RaftwireError {
  readonly record: StorageRecordKind;
  readonly index: number | null;
  readonly path: string | null;
  /** Byte offset of the damaged record in `path` (WAL segments), or null. */
  readonly offset: number | null;
  /** The finding alone (without the advice), e.g. "checksum mismatch (…)". */
  readonly detail: string;

  constructor(record: StorageRecordKind, index: number | null, detail: string, path: string | null = null, offset: number | null = null) {
    const where = record === 'entry' ? `log entry at index ${index}` : `${record} record${offset !== null ? ` at offset ${offset}` : ''}`;
    super('STORAGE_ERR_CORRUPTION', `storage corruption in ${where}${path ? ` of ${path}` : ''}: ${detail}. ${CORRUPTION_ADVICE}`);
    this.record = record;
    this.index = index;
    this.path = path;
    this.offset = offset;
    this.detail = detail;
  }

  /** The same finding, naming the file or directory it was found in. */
  withPath(path: string): StorageCorruptionError {
    return new StorageCorruptionError(this.record, this.index, this.detail, path, this.offset);
  }
}

/**
 * The store reached its configured size limit (`mapSizeMax`) or the disk is full. Nothing already
 * written is damaged; reads keep working, and writes succeed again once space is freed (compact
 * the log after a snapshot, or reopen with a higher limit).
 */
export class StorageFullError extends RaftwireError {
  readonly usedBytes: number;
  readonly limitBytes: number;

  constructor(usedBytes: number, limitBytes: number, detail: string, options?: { cause?: unknown }) {
    super('STORAGE_ERR_FULL', `storage full: ${detail} (used ~${usedBytes} of ${limitBytes} bytes). Compact the log after a snapshot or raise mapSizeMax.`, options);
    this.usedBytes = usedBytes;
    this.limitBytes = limitBytes;
  }
}

/** A read asked for entries at or below the compaction point (etcd's ErrCompacted). */
export class LogCompactedError extends RaftwireError {
  readonly index: number;
  readonly firstIndex: number;
  constructor(index: number, firstIndex: number) {
    super('STORAGE_ERR_COMPACTED', `log index ${index} is compacted; the log starts at ${firstIndex}`);
    this.index = index;
    this.firstIndex = firstIndex;
  }
}

/** A read asked for entries past the last index (etcd's ErrUnavailable). */
export class LogUnavailableError extends RaftwireError {
  readonly index: number;
  readonly lastIndex: number;
  constructor(index: number, lastIndex: number) {
    super('STORAGE_ERR_UNAVAILABLE', `log index ${index} is past the last index ${lastIndex}`);
    this.index = index;
    this.lastIndex = lastIndex;
  }
}

/** A write was malformed (gap in indices, bad term, oversized entry…); the message says which. */
export class StorageInvalidWriteError extends RaftwireError {
  constructor(message: string) {
    super('STORAGE_ERR_INVALID_WRITE', message);
  }
}

/** The store is closed (or closing); open it again to use it. */
export class StorageClosedError extends RaftwireError {
  constructor(what = 'log store') {
    super('STORAGE_ERR_CLOSED', `${what} is closed`);
  }
}

/**
 * An I/O error from the disk or LMDB that is neither corruption nor a full disk. The write it
 * belonged to (and every write queued behind it) failed; nothing was half applied.
 */
export class StorageIoError extends RaftwireError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORAGE_ERR_IO', message, options);
  }
}

/**
 * Another live process (or another store in this process) holds the log directory's lock
 * (`raftwire.lock`). Two writers on one log would corrupt it; stop the other one first. A lock left
 * by a dead process (kill -9, power cut) does not raise this: it is detected as stale and taken over.
 */
export class StorageLockedError extends RaftwireError {
  readonly path: string;
  /** Pid of the holder, when the lock file names one. */
  readonly pid: number | null;
  constructor(path: string, pid: number | null) {
    super('STORAGE_ERR_LOCKED', `log directory ${path} is locked by ${pid === null ? 'another store' : `process ${pid}`}${pid === process.pid ? ' (this process: another store is open on it)' : ''}; two writers would corrupt the log`);
    this.path = path;
    this.pid = pid;
  }
}
