/**
 * `SnapshotStore`: snapshots as files in one directory, written in chunks, installed atomically
 * (write to a `.partial` file, fsync it, rename it into place, fsync the directory), the last K
 * kept, read back in chunks for InstallSnapshot.
 *
 * File layout (docs/storage.md): `[data][metadata record][trailer 32 bytes]`. The metadata record
 * is record.ts's snapshot-meta record (own CRC32C); the trailer holds a magic, the data length,
 * the CRC32C of the whole data, the metadata length and its own CRC32C. A file without a valid
 * trailer was never committed, or is damaged: it is reported, never used.
 *
 * @example
 * ```ts
 * const snapshots = await SnapshotStore.open('/var/lib/raftwire/node1/snapshots', { keep: 2 });
 * const writer = await snapshots.createWriter(meta);
 * await writer.write(chunk1); await writer.write(chunk2);
 * const info = await writer.commit();
 * const reader = await snapshots.openReader(info.id);   // checks the data's CRC32C
 * const first = await reader.read(0, 1 << 20);
 * await reader.close();
 * ```
 *
 * @module
 */
import { constants as fsConstants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { checksum as crc32c } from './checksum.js';
import { assert } from '../core/errors.js';
import type { SnapshotMeta } from '../core/types.js';
import { StorageClosedError, StorageCorruptionError, StorageInvalidWriteError } from './errors.js';
import { snapshotBytesMax, snapshotChunkBytesMax, snapshotMetaBytesMax, snapshotsKeptDefault } from './limits.js';
import { validateSnapshotMeta } from './log-store.js';
import { RECORD_HEADER_BYTES, decodeSnapshotMeta, encodeSnapshotMeta } from './record.js';

const TRAILER_BYTES = 32;
const TRAILER_MAGIC = 0x4e535752; // "RWSN" little-endian
const TRAILER_FORMAT = 1;
const SUFFIX = '.snap';
const PARTIAL_SUFFIX = '.partial';
const ID_PATTERN = /^[0-9a-f]{14}-[0-9a-f]{14}$/;
/** Bytes a writer writes and checksums per step. */
const WRITE_PIECE_BYTES = 1 << 20;
/** Chunk size used to checksum a whole snapshot on open. */
const verifyChunkBytes = 1024 * 1024;

/** A committed snapshot: its id (file name stem), metadata, data size and data checksum. */
export interface SnapshotInfo {
  id: string;
  meta: SnapshotMeta;
  dataBytes: number;
  dataCrc: number;
}

export interface SnapshotStoreOptions {
  /** How many committed snapshots to keep (the newest by index, then term); at least 1. */
  keep?: number;
}

/** The id of the snapshot with this metadata: ordered by index, then term, as text. */
export function snapshotId(meta: SnapshotMeta): string {
  return `${meta.lastIncludedIndex.toString(16).padStart(14, '0')}-${meta.lastIncludedTerm.toString(16).padStart(14, '0')}`;
}

export class SnapshotStore {
  readonly dir: string;
  private readonly keep: number;
  private partialSeq = 0;

  private constructor(dir: string, keep: number) {
    this.dir = dir;
    this.keep = keep;
  }

  /** Opens (creating if needed) the directory and removes partial files a crash left behind. */
  static async open(dir: string, options: SnapshotStoreOptions = {}): Promise<SnapshotStore> {
    const keep = options.keep ?? snapshotsKeptDefault;
    assert(Number.isSafeInteger(keep) && keep >= 1, () => `keep must be an integer ≥ 1, got ${keep}`);
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(dir)) {
      if (name.endsWith(PARTIAL_SUFFIX)) await unlink(join(dir, name));
    }
    return new SnapshotStore(dir, keep);
  }

  /** Starts writing a snapshot; nothing is visible until `commit()`. */
  async createWriter(meta: SnapshotMeta): Promise<SnapshotWriter> {
    validateSnapshotMeta(meta);
    const metaRecord = encodeSnapshotMeta(meta);
    const id = snapshotId(meta);
    const partial = join(this.dir, `${id}.${process.pid}.${this.partialSeq++}${PARTIAL_SUFFIX}`);
    const file = await open(partial, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, 0o644);
    return new SnapshotWriter(this, id, meta, metaRecord, partial, file);
  }

  /** Committed snapshots, newest first. Throws `StorageCorruptionError` on a damaged trailer. */
  async list(): Promise<SnapshotInfo[]> {
    const ids = (await readdir(this.dir))
      .filter((name) => name.endsWith(SUFFIX) && ID_PATTERN.test(name.slice(0, -SUFFIX.length)))
      .map((name) => name.slice(0, -SUFFIX.length))
      .sort()
      .reverse();
    const infos: SnapshotInfo[] = [];
    for (const id of ids) {
      const file = await open(this.pathOf(id), 'r');
      try {
        infos.push(await readInfo(file, id, this.pathOf(id)));
      } finally {
        await file.close();
      }
    }
    return infos;
  }

  /** The newest committed snapshot, or null when there is none. */
  async latest(): Promise<SnapshotInfo | null> {
    return (await this.list())[0] ?? null;
  }

  /**
   * Opens a committed snapshot for chunked reads. Reads the whole data once to check its CRC32C,
   * so a damaged snapshot is refused here (`StorageCorruptionError`) rather than sent to a peer.
   */
  async openReader(id: string): Promise<SnapshotReader> {
    if (!ID_PATTERN.test(id)) throw new StorageInvalidWriteError(`not a snapshot id: ${JSON.stringify(id)}`);
    const path = this.pathOf(id);
    const file = await open(path, 'r');
    try {
      const info = await readInfo(file, id, path);
      const buffer = Buffer.allocUnsafe(Math.min(verifyChunkBytes, Math.max(1, info.dataBytes)));
      let crc = 0;
      for (let offset = 0; offset < info.dataBytes; ) {
        const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, info.dataBytes - offset), offset);
        if (bytesRead === 0) throw new StorageCorruptionError('snapshot', null, `data ends at ${offset} of ${info.dataBytes} bytes`, path);
        crc = crc32c(buffer, crc, 0, bytesRead);
        offset += bytesRead;
      }
      if (crc !== info.dataCrc) throw new StorageCorruptionError('snapshot', null, `data checksum mismatch (stored ${info.dataCrc}, computed ${crc})`, path);
      return new SnapshotReader(info, file);
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  /** Reads a whole snapshot (for installing it locally). */
  async readAll(id: string): Promise<{ meta: SnapshotMeta; data: Uint8Array }> {
    const reader = await this.openReader(id);
    try {
      const data = new Uint8Array(reader.info.dataBytes);
      for (let offset = 0; offset < data.length; ) {
        const chunk = await reader.read(offset, snapshotChunkBytesMax);
        data.set(chunk, offset);
        offset += chunk.length;
      }
      return { meta: reader.info.meta, data };
    } finally {
      await reader.close();
    }
  }

  /** @internal Called by a writer after its rename: drops all but the newest `keep` snapshots. */
  async installed(): Promise<void> {
    const ids = (await readdir(this.dir))
      .filter((name) => name.endsWith(SUFFIX) && ID_PATTERN.test(name.slice(0, -SUFFIX.length)))
      .sort()
      .reverse();
    for (const name of ids.slice(this.keep)) await unlink(join(this.dir, name));
    if (ids.length > this.keep) await syncDir(this.dir);
  }

  /** @internal */
  pathOf(id: string): string {
    return join(this.dir, `${id}${SUFFIX}`);
  }
}

/** Writes one snapshot. Call `write` for each chunk in order, then `commit` or `abort`. */
export class SnapshotWriter {
  private dataBytes = 0;
  private dataCrc = 0;
  private done = false;

  /** @internal */
  constructor(
    private readonly store: SnapshotStore,
    readonly id: string,
    readonly meta: SnapshotMeta,
    private readonly metaRecord: Uint8Array,
    private readonly partialPath: string,
    private readonly file: FileHandle,
  ) {}

  /** Bytes written so far (the offset the next chunk goes to). */
  get bytesWritten(): number {
    return this.dataBytes;
  }

  /** Appends a chunk. The chunk is written before the promise resolves; the caller may reuse it then. */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.done) throw new StorageClosedError(`snapshot writer ${this.id}`);
    if (this.dataBytes + chunk.length > snapshotBytesMax) {
      throw new StorageInvalidWriteError(`snapshot would exceed snapshotBytesMax ${snapshotBytesMax} bytes`);
    }
    // A piece at a time, each written then checksummed: a 24 MB chunk checksummed in one call
    // held the event loop for tens of milliseconds (docs/cache.md).
    for (let at = 0; at < chunk.length; ) {
      const piece = chunk.subarray(at, at + WRITE_PIECE_BYTES);
      let offset = 0;
      while (offset < piece.length) {
        const { bytesWritten } = await this.file.write(piece, offset, piece.length - offset, this.dataBytes + offset);
        offset += bytesWritten;
      }
      this.dataCrc = crc32c(piece, this.dataCrc);
      this.dataBytes += piece.length;
      at += piece.length;
    }
  }

  /** Seals the file, makes it durable and renames it into place; then prunes old snapshots. */
  async commit(): Promise<SnapshotInfo> {
    if (this.done) throw new StorageClosedError(`snapshot writer ${this.id}`);
    this.done = true;
    try {
      const trailer = encodeTrailer(this.dataBytes, this.dataCrc, this.metaRecord.length);
      const tail = Buffer.concat([this.metaRecord, trailer]);
      await this.file.write(tail, 0, tail.length, this.dataBytes);
      await this.file.sync();
      await this.file.close();
      await rename(this.partialPath, this.store.pathOf(this.id));
      await syncDir(this.store.dir);
    } catch (error) {
      await this.file.close().catch(() => {});
      await unlink(this.partialPath).catch(() => {});
      throw error;
    }
    await this.store.installed();
    return { id: this.id, meta: this.meta, dataBytes: this.dataBytes, dataCrc: this.dataCrc };
  }

  /** Drops the partial file. Safe to call after a failed write. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.file.close().catch(() => {});
    await unlink(this.partialPath).catch(() => {});
  }
}

/** Reads a committed snapshot in chunks (for InstallSnapshot). */
export class SnapshotReader {
  private closed = false;

  /** @internal */
  constructor(readonly info: SnapshotInfo, private readonly file: FileHandle) {}

  /** Up to `length` bytes (capped at snapshotChunkBytesMax) from `offset`; empty at the end. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.closed) throw new StorageClosedError(`snapshot reader ${this.info.id}`);
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new StorageInvalidWriteError(`bad snapshot read range offset=${offset} length=${length}`);
    }
    const count = Math.min(length, snapshotChunkBytesMax, Math.max(0, this.info.dataBytes - offset));
    const buffer = Buffer.allocUnsafe(count);
    let filled = 0;
    while (filled < count) {
      const { bytesRead } = await this.file.read(buffer, filled, count - filled, offset + filled);
      if (bytesRead === 0) throw new StorageCorruptionError('snapshot', null, `file shorter than its trailer says (${this.info.dataBytes} bytes)`);
      filled += bytesRead;
    }
    return buffer;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.file.close();
  }
}

function encodeTrailer(dataBytes: number, dataCrc: number, metaBytes: number): Buffer {
  const trailer = Buffer.alloc(TRAILER_BYTES);
  trailer.writeUInt32LE(TRAILER_MAGIC, 0);
  trailer.writeUInt8(TRAILER_FORMAT, 4);
  trailer.writeUInt32LE(dataBytes % 0x1_0000_0000, 8);
  trailer.writeUInt32LE(Math.floor(dataBytes / 0x1_0000_0000), 12);
  trailer.writeUInt32LE(dataCrc, 16);
  trailer.writeUInt32LE(metaBytes, 20);
  trailer.writeUInt32LE(crc32c(trailer, 0, 0, 28), 28);
  return trailer;
}

async function readInfo(file: FileHandle, id: string, path: string): Promise<SnapshotInfo> {
  const corrupt = (detail: string): StorageCorruptionError => new StorageCorruptionError('snapshot', null, detail, path);
  const { size } = await file.stat();
  if (size < TRAILER_BYTES + RECORD_HEADER_BYTES) throw corrupt(`file is ${size} bytes, too short for a snapshot`);
  const trailer = Buffer.alloc(TRAILER_BYTES);
  await file.read(trailer, 0, TRAILER_BYTES, size - TRAILER_BYTES);
  if (trailer.readUInt32LE(28) !== crc32c(trailer, 0, 0, 28)) throw corrupt('trailer checksum mismatch');
  if (trailer.readUInt32LE(0) !== TRAILER_MAGIC || trailer.readUInt8(4) !== TRAILER_FORMAT) throw corrupt('not a raftwire snapshot (bad magic or format)');
  const dataBytes = trailer.readUInt32LE(8) + trailer.readUInt32LE(12) * 0x1_0000_0000;
  const dataCrc = trailer.readUInt32LE(16);
  const metaBytes = trailer.readUInt32LE(20);
  if (metaBytes > snapshotMetaBytesMax + RECORD_HEADER_BYTES || dataBytes + metaBytes + TRAILER_BYTES !== size) {
    throw corrupt(`lengths in the trailer (data ${dataBytes}, meta ${metaBytes}) do not add up to the file size ${size}`);
  }
  const metaRecord = Buffer.alloc(metaBytes);
  await file.read(metaRecord, 0, metaBytes, dataBytes);
  let meta: SnapshotMeta;
  try {
    meta = decodeSnapshotMeta(metaRecord, 'snapshot');
  } catch (error) {
    throw error instanceof StorageCorruptionError ? error.withPath(path) : error;
  }
  if (snapshotId(meta) !== id) throw corrupt(`metadata says ${snapshotId(meta)}, file name says ${id}`);
  return { id, meta, dataBytes, dataCrc };
}

/** fsync a directory so a rename or unlink in it survives a crash. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
