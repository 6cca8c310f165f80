/**
 * The write-ahead log in front of LMDB (see docs/storage.md, "Write-ahead log").
 *
 * Files in the log directory:
 * - `wal-<first seq, 16 hex>.log`: a segment. Records (wal-record.ts) from offset 0, sequence
 *   numbers consecutive within and across segments. The name is made durable (directory fsync)
 *   before the first record in it is acknowledged.
 * - `spare-<n>.wal`: a segment file ready for reuse, zero-filled when new, or a recycled segment
 *   whose records LMDB already holds. Reusing files of a fixed, already allocated size lets a
 *   record's sync flush data only (`O_DSYNC` write: no size or block-allocation metadata).
 * - `spare-<n>.tmp`: a spare being zero-filled; removed at open.
 *
 * Writes: one `write` per group of records, on a descriptor opened with `O_DSYNC` (durability
 * 'sync'), so one libuv threadpool hop makes a group durable. One write in flight at a time.
 *
 * Recovery ({@link WriteAheadLog.recover}): segments in order; a record is taken when its header and
 * checksum are good and its seq is the next one expected. Where that stops in the LAST segment,
 * the rest of the segment is searched for a valid record of a LATER group (its first seq above the
 * one expected): finding one means an acknowledged record in the middle is damaged, and recovery
 * refuses (StorageCorruptionError naming file and offset). Otherwise the stop is a torn tail (a
 * write the process died in, never acknowledged), or the end. In an earlier segment, the next
 * segment must start with exactly the seq expected, or records are missing (corruption).
 *
 * @module
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { assert } from '../core/errors.js';
import { StorageCorruptionError, StorageFullError, StorageIoError } from './errors.js';
import type { WalOp } from './wal-record.js';
import { WAL_RECORD_HEADER_BYTES, checkRecordAt, decodeOp } from './wal-record.js';

/** Default size of a WAL segment file, in bytes. */
export const walSegmentBytesDefault = 16 * 1024 * 1024;
/** Spare segment files kept for reuse. */
const sparesMax = 2;
const zeroChunkBytes = 1024 * 1024;
const SEGMENT_RE = /^wal-([0-9a-f]{16})\.log$/;
const SPARE_RE = /^spare-(\d+)\.wal$/;

/** The file operations the WAL's write path uses; replaceable in tests to inject failures. @internal */
export interface WalIo {
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number, callback: (error: NodeJS.ErrnoException | null, written: number) => void): void;
}

const nodeIo: WalIo = { write: (fd, buffer, offset, length, position, callback) => fs.write(fd, buffer, offset, length, position, callback) };

export interface WalOptions {
  segmentBytes: number;
  /** true: O_DSYNC writes (durable on return); false: UNSAFE, no sync. */
  sync: boolean;
  io?: WalIo;
}

interface Segment {
  firstSeq: number;
  /** Last seq stored in it (firstSeq − 1 while empty). */
  lastSeq: number;
  name: string;
}

/** A record found by recovery, in log order. */
export interface RecoveredRecord {
  seq: number;
  op: WalOp;
  file: string;
  offset: number;
}

export function segmentName(firstSeq: number): string {
  return `wal-${firstSeq.toString(16).padStart(16, '0')}.log`;
}

/** Maps a failed file operation to the typed error its callers get. */
export function walWriteError(error: unknown, what: string): Error {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new StorageFullError(0, 0, `the disk is full (${what}: ${code})`, { cause: error });
  return new StorageIoError(`write-ahead log ${what} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

export class WriteAheadLog {
  readonly dir: string;
  private readonly options: Required<WalOptions>;
  /** Live segments, oldest first; the last one is written to. */
  private segments: Segment[] = [];
  private spares: Array<{ name: string; bytes: number }> = [];
  private spareCounter = 0;
  private preallocating: Promise<void> | null = null;
  private fd: number | null = null;
  private fdBytes = 0;
  private writeOffset = 0;
  /** Seq the next record gets. */
  nextSeq: number;
  /** A write or roll failed: the file's state past the last good record is unknown. */
  private failure: Error | null = null;

  private constructor(dir: string, options: WalOptions, nextSeq: number) {
    this.dir = dir;
    this.options = { io: nodeIo, ...options };
    this.nextSeq = nextSeq;
  }

  /**
   * Reads every segment of `dir` and returns the records after `checkpointSeq` (what LMDB does not
   * hold yet), in order, with a log ready to append after them. The first write after open starts
   * a new segment, so no write ever lands behind a torn tail.
   */
  static recover(dir: string, checkpointSeq: number, options: WalOptions): { wal: WriteAheadLog; records: RecoveredRecord[] } {
    const names = fs.readdirSync(dir);
    const segments: Segment[] = [];
    const wal = new WriteAheadLog(dir, options, checkpointSeq + 1);
    for (const name of names) {
      const segment = SEGMENT_RE.exec(name);
      if (segment !== null) segments.push({ firstSeq: parseInt(segment[1]!, 16), lastSeq: 0, name });
      const spare = SPARE_RE.exec(name);
      if (spare !== null) {
        wal.spares.push({ name, bytes: fs.statSync(join(dir, name)).size });
        wal.spareCounter = Math.max(wal.spareCounter, Number(spare[1]) + 1);
      }
      if (name.startsWith('spare-') && name.endsWith('.tmp')) fs.rmSync(join(dir, name), { force: true });
    }
    segments.sort((a, b) => a.firstSeq - b.firstSeq);
    const records: RecoveredRecord[] = [];
    let expected = segments.length > 0 ? segments[0]!.firstSeq : checkpointSeq + 1;
    if (expected > checkpointSeq + 1) {
      throw new StorageCorruptionError('wal', null, `records ${checkpointSeq + 1}..${expected - 1} are missing: LMDB holds up to ${checkpointSeq}, the oldest segment starts at ${expected}`, join(dir, segments[0]!.name), 0);
    }
    for (let k = 0; k < segments.length; k++) {
      const segment = segments[k]!;
      const file = join(dir, segment.name);
      if (segment.firstSeq !== expected) {
        throw new StorageCorruptionError('wal', null, `segment starts at seq ${segment.firstSeq}, expected ${expected}: records are missing or damaged at the end of the segment before`, file, 0);
      }
      const bytes = fs.readFileSync(file);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      let offset = 0;
      for (;;) {
        const record = checkRecordAt(bytes, view, offset);
        if (!record.ok || record.seq !== expected) break;
        if (record.seq > checkpointSeq) records.push({ seq: record.seq, op: decodeOp(bytes, view, record, file, offset), file, offset });
        expected++;
        offset = record.next;
      }
      segment.lastSeq = expected - 1;
      if (k === segments.length - 1) checkTail(bytes, view, offset, expected, file);
    }
    // A segment started but never written to (killed between the roll and its first write) is a
    // spare again; the next roll makes a segment of the same name.
    const last = segments[segments.length - 1];
    if (last !== undefined && last.lastSeq < last.firstSeq) {
      segments.pop();
      const name = `spare-${wal.spareCounter++}.wal`;
      fs.renameSync(join(dir, last.name), join(dir, name));
      wal.spares.push({ name, bytes: fs.statSync(join(dir, name)).size });
    }
    wal.segments = segments;
    wal.nextSeq = Math.max(expected, checkpointSeq + 1);
    return { wal, records };
  }

  /** Segment files in use, oldest first (for tests and docs). */
  segmentNames(): string[] {
    return this.segments.map((s) => s.name);
  }

  /**
   * Appends `length` bytes of `buffer` holding the records `[firstSeq, lastSeq]` and resolves when
   * they are durable. Rejects with StorageFullError / StorageIoError; after a failed write or
   * sync every later append fails too (the file past the last good record is unknown, and a sync
   * that failed once cannot be trusted to report the lost pages again).
   */
  async append(buffer: Uint8Array, length: number, firstSeq: number, lastSeq: number): Promise<void> {
    if (this.failure !== null) throw this.failure;
    assert(firstSeq === this.nextSeq && lastSeq >= firstSeq, () => `WAL append of ${firstSeq}..${lastSeq}, expected ${this.nextSeq}`);
    if (this.fd === null || this.writeOffset + length > this.fdBytes) await this.roll(firstSeq, length);
    try {
      let done = 0;
      while (done < length) {
        done += await this.writeAt(buffer, done, length - done, this.writeOffset + done);
      }
    } catch (error) {
      this.failure = walWriteError(error, 'write');
      throw this.failure;
    }
    this.writeOffset += length;
    this.nextSeq = lastSeq + 1;
    this.segments[this.segments.length - 1]!.lastSeq = lastSeq;
  }

  /**
   * Releases the segments whose records are all ≤ `checkpointSeq` (LMDB durably holds them), except
   * the one being written: up to {@link sparesMax} become spares, the rest are deleted.
   */
  release(checkpointSeq: number): void {
    while (this.segments.length > (this.fd === null ? 0 : 1) && this.segments[0]!.lastSeq <= checkpointSeq) {
      const segment = this.segments.shift()!;
      const from = join(this.dir, segment.name);
      if (this.spares.length < sparesMax) {
        const name = `spare-${this.spareCounter++}.wal`;
        fs.renameSync(from, join(this.dir, name));
        this.spares.push({ name, bytes: fs.statSync(join(this.dir, name)).size });
      } else {
        fs.rmSync(from, { force: true });
      }
    }
  }

  async close(): Promise<void> {
    if (this.preallocating !== null) await this.preallocating.catch(() => {});
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private writeAt(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.options.io.write(this.fd!, buffer, offset, length, position, (error, written) => {
        if (error !== null) reject(error);
        else if (written <= 0) reject(new Error(`write returned ${written}`));
        else resolve(written);
      });
    });
  }

  /** Starts segment `wal-<firstSeq>` from a spare (made now if none is ready), durably named. */
  private async roll(firstSeq: number, length: number): Promise<void> {
    try {
      if (this.preallocating !== null) await this.preallocating;
      let index = this.spares.findIndex((s) => s.bytes >= length);
      if (index === -1) {
        await this.preallocate(Math.max(this.options.segmentBytes, length));
        index = this.spares.findIndex((s) => s.bytes >= length);
      }
      const spare = this.spares.splice(index, 1)[0]!;
      const name = segmentName(firstSeq);
      if (this.fd !== null) fs.closeSync(this.fd);
      this.fd = null;
      await fs.promises.rename(join(this.dir, spare.name), join(this.dir, name));
      // The name must be durable before a record in the file is acknowledged: recovery finds
      // records by segment name.
      if (this.options.sync) await fsyncDir(this.dir);
      const flags = fs.constants.O_RDWR | (this.options.sync ? fs.constants.O_DSYNC : 0);
      // A plain descriptor, not a FileHandle (which Node would close on garbage collection).
      this.fd = await openFd(join(this.dir, name), flags);
      this.fdBytes = spare.bytes;
      this.writeOffset = 0;
      this.segments.push({ firstSeq, lastSeq: firstSeq - 1, name });
    } catch (error) {
      // Nothing was written: a full disk while making a spare leaves the log as it was.
      // A full disk while making a spare changed nothing (the next write tries again); any other
      // failure leaves the files in a state we do not know, so the log stops taking writes.
      const typed = walWriteError(error, 'segment roll');
      if (!(typed instanceof StorageFullError)) this.failure = typed;
      throw typed;
    }
    // Have the next spare ready before this segment fills up.
    if (this.spares.length === 0 && this.preallocating === null) {
      this.preallocating = this.preallocate(this.options.segmentBytes).catch(() => {}).finally(() => (this.preallocating = null));
    }
  }

  /** Makes a zero-filled spare of `bytes` (written, synced, then renamed into place). */
  private async preallocate(bytes: number): Promise<void> {
    const name = `spare-${this.spareCounter++}`;
    const tmp = join(this.dir, `${name}.tmp`);
    const handle = await fs.promises.open(tmp, 'w');
    try {
      const zeros = Buffer.alloc(Math.min(zeroChunkBytes, bytes));
      for (let at = 0; at < bytes; at += zeros.length) await handle.write(zeros, 0, Math.min(zeros.length, bytes - at), at);
      if (this.options.sync) await handle.sync();
    } catch (error) {
      await handle.close();
      fs.rmSync(tmp, { force: true });
      throw error;
    }
    await handle.close();
    await fs.promises.rename(tmp, join(this.dir, `${name}.wal`));
    this.spares.push({ name: `${name}.wal`, bytes });
  }
}

/**
 * Where the last segment's records stop at `offset` with `expected` the next seq: a valid record
 * further on whose group started after `expected` was written (and synced) after the record at
 * `offset` was acknowledged, so the damage at `offset` is in the middle of the log.
 */
function checkTail(bytes: Uint8Array, view: DataView, offset: number, expected: number, file: string): void {
  // From `offset` itself: a valid record there with a later seq means records before it are lost.
  for (let at = offset; at + WAL_RECORD_HEADER_BYTES <= bytes.length; at += 8) {
    // Cheap filters first: most of a segment's tail is zeros or older records.
    if (view.getUint32(at + 12, true) > 0x1f_ffff) continue;
    const seq = view.getUint32(at + 8, true) + view.getUint32(at + 12, true) * 0x1_0000_0000;
    if (seq <= expected) continue;
    const record = checkRecordAt(bytes, view, at);
    if (record.ok && record.groupFirst > expected) {
      const reason = checkRecordAt(bytes, view, offset);
      throw new StorageCorruptionError(
        'wal',
        null,
        `record seq ${expected} is damaged (${reason.ok ? `seq ${reason.seq} found instead` : reason.reason}) but later writes follow it (seq ${record.seq} at offset ${at}); an acknowledged write was lost`,
        file,
        offset,
      );
    }
  }
}

function openFd(path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => fs.open(path, flags, (error, fd) => (error === null ? resolve(fd) : reject(error))));
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
