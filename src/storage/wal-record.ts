/**
 * The records of the write-ahead log (wal.ts): one record per durable write (`append`,
 * `truncateSuffix`, `compact`, `setHardState`, `setSnapshotMeta`, `save`). See docs/storage.md.
 *
 * ```
 * offset size field (little-endian)
 *  0     4    crc32c of bytes [4, 24 + bodyBytes)
 *  4     4    bodyBytes
 *  8     8    seq: sequence number, +1 per record over the whole log
 * 16     4    groupOffset: seq − the seq of the first record of the same write (group commit)
 * 20     1    format (1)
 * 21     1    op: 1 save, 2 truncateSuffix, 3 compact
 * 22     2    zero
 * 24     …    body; the next record starts at the next multiple of 8
 * save body:   flags u8 (1 snapshot meta, 2 hard state) | 3 zero | entryCount u32
 *              [u32 length + snapshot-meta record] [u32 length + hard-state record]
 *              entryCount × (u32 length + entry record)        (records as in record.ts)
 * truncateSuffix / compact body: index u64
 * ```
 *
 * `groupOffset` is what tells a torn tail from damage in the middle (wal.ts, recovery): records of
 * one group are written by one `write`, so only the last group can be torn.
 *
 * @module
 */
import type { Entry, HardState, SnapshotMeta } from '../core/types.js';
import { checksum as crc32c } from './checksum.js';
import { StorageCorruptionError, StorageInvalidWriteError } from './errors.js';
import { validateEntries, validateHardState, validateSnapshotMeta } from './log-store.js';
import {
  RECORD_HEADER_BYTES,
  decodeEntry,
  decodeHardState,
  decodeSnapshotMeta,
  encodeEntryInto,
  encodeHardState,
  encodeSnapshotMeta,
  entryRecordIndex,
  readU64,
  writeU64,
} from './record.js';

export const WAL_RECORD_HEADER_BYTES = 24;
export const WAL_RECORD_FORMAT = 1;
/** Largest record body the reader accepts (a bound on what a damaged length field can make it read). */
export const walRecordBodyBytesMax = 0x7fff_ffff;

const OP_SAVE = 1;
const OP_TRUNCATE = 2;
const OP_COMPACT = 3;
const FLAG_META = 1;
const FLAG_HARD_STATE = 2;

/** One durable write, as the log plans it (log-plan.ts) and the WAL stores it. */
export type WalOp =
  | { kind: 'save'; snapshotMeta: SnapshotMeta | null; entries: readonly Entry[]; hardState: HardState | null }
  | { kind: 'truncateSuffix'; index: number }
  | { kind: 'compact'; index: number };

/** A write checked and partly encoded, before its place (and sequence number) in the log is known. */
export interface PreparedOp {
  op: WalOp;
  /** Bytes of the record, padding included. */
  recordBytes: number;
  bodyBytes: number;
  metaRecord: Uint8Array | null;
  hardStateRecord: Uint8Array | null;
}

export function align8(n: number): number {
  return (n + 7) & ~7;
}

/**
 * Gateway check and size of one write. Throws StorageInvalidWriteError (from the validators or the
 * small-record encoders) without touching anything.
 */
export function prepareOp(op: WalOp): PreparedOp {
  let bodyBytes = 8;
  let metaRecord: Uint8Array | null = null;
  let hardStateRecord: Uint8Array | null = null;
  if (op.kind === 'save') {
    if (op.snapshotMeta !== null) {
      validateSnapshotMeta(op.snapshotMeta);
      metaRecord = encodeSnapshotMeta(op.snapshotMeta);
      bodyBytes += 4 + metaRecord.length;
    }
    if (op.hardState !== null) {
      validateHardState(op.hardState);
      hardStateRecord = encodeHardState(op.hardState);
      bodyBytes += 4 + hardStateRecord.length;
    }
    validateEntries(op.entries);
    for (let i = 0; i < op.entries.length; i++) bodyBytes += 4 + RECORD_HEADER_BYTES + op.entries[i]!.data.length;
  }
  if (bodyBytes > walRecordBodyBytesMax) {
    throw new StorageInvalidWriteError(`one write of ${bodyBytes} bytes is more than a WAL record holds (${walRecordBodyBytesMax}); split the append`);
  }
  return { op, recordBytes: align8(WAL_RECORD_HEADER_BYTES + bodyBytes), bodyBytes, metaRecord, hardStateRecord };
}

/**
 * Writes the record of `prepared` at `offset` of `bytes` (which must have `recordBytes` room) and
 * returns the op the log should apply: the same write, but with entries that are views into the
 * entry records just written (so the store never keeps the caller's buffers).
 */
export function writeRecord(bytes: Uint8Array, view: DataView, offset: number, prepared: PreparedOp, seq: number, groupOffset: number): WalOp {
  const { op, bodyBytes } = prepared;
  const body = offset + WAL_RECORD_HEADER_BYTES;
  view.setUint32(offset + 4, bodyBytes, true);
  writeU64(view, offset + 8, seq);
  view.setUint32(offset + 16, groupOffset, true);
  view.setUint8(offset + 20, WAL_RECORD_FORMAT);
  view.setUint16(offset + 22, 0, true);
  let owned: WalOp = op;
  if (op.kind === 'save') {
    view.setUint8(offset + 21, OP_SAVE);
    view.setUint32(body, (prepared.metaRecord ? FLAG_META : 0) | (prepared.hardStateRecord ? FLAG_HARD_STATE : 0), true);
    view.setUint32(body + 4, op.entries.length, true);
    let at = body + 8;
    for (const record of [prepared.metaRecord, prepared.hardStateRecord]) {
      if (record === null) continue;
      view.setUint32(at, record.length, true);
      bytes.set(record, at + 4);
      at += 4 + record.length;
    }
    const entries: Entry[] = new Array(op.entries.length);
    for (let i = 0; i < op.entries.length; i++) {
      const entry = op.entries[i]!;
      view.setUint32(at, RECORD_HEADER_BYTES + entry.data.length, true);
      const end = encodeEntryInto(bytes, view, at + 4, entry);
      entries[i] = { index: entry.index, term: entry.term, type: entry.type, data: new Uint8Array(bytes.buffer, bytes.byteOffset + at + 4 + RECORD_HEADER_BYTES, entry.data.length) };
      at = end;
    }
    owned = { kind: 'save', snapshotMeta: op.snapshotMeta, entries, hardState: op.hardState };
  } else {
    view.setUint8(offset + 21, op.kind === 'truncateSuffix' ? OP_TRUNCATE : OP_COMPACT);
    writeU64(view, body, op.index);
  }
  const end = body + bodyBytes;
  bytes.fill(0, end, offset + prepared.recordBytes);
  view.setUint32(offset, crc32c(bytes, 0, offset + 4, end), true);
  return owned;
}

export type ReadResult =
  | { ok: true; seq: number; groupFirst: number; next: number; bodyStart: number; bodyEnd: number; opCode: number }
  | { ok: false; reason: string };

/** Checks the record header and checksum at `offset`; does not decode the body. */
export function checkRecordAt(bytes: Uint8Array, view: DataView, offset: number): ReadResult {
  if (offset + WAL_RECORD_HEADER_BYTES > bytes.length) return { ok: false, reason: 'end of segment' };
  const bodyBytes = view.getUint32(offset + 4, true);
  const stored = view.getUint32(offset, true);
  if (stored === 0 && bodyBytes === 0) return { ok: false, reason: 'zero header' };
  const end = offset + WAL_RECORD_HEADER_BYTES + bodyBytes;
  if (bodyBytes > walRecordBodyBytesMax || end > bytes.length) return { ok: false, reason: `length ${bodyBytes} runs past the segment` };
  const opCode = view.getUint8(offset + 21);
  if (view.getUint8(offset + 20) !== WAL_RECORD_FORMAT || opCode < OP_SAVE || opCode > OP_COMPACT) return { ok: false, reason: 'bad format or op' };
  const seq = readU64(view, offset + 8);
  const groupOffset = view.getUint32(offset + 16, true);
  if (seq < 1 || groupOffset >= seq) return { ok: false, reason: 'sequence number out of range' };
  const actual = crc32c(bytes, 0, offset + 4, end);
  if (actual !== stored) return { ok: false, reason: `checksum mismatch (stored 0x${stored.toString(16)}, computed 0x${actual.toString(16)})` };
  return { ok: true, seq, groupFirst: seq - groupOffset, next: align8(end), bodyStart: offset + WAL_RECORD_HEADER_BYTES, bodyEnd: end, opCode };
}

/**
 * Decodes the body of a record that passed {@link checkRecordAt}. Entries are views into `bytes`.
 * A body that does not decode despite its checksum is corruption (a bug or a misdirected write).
 */
export function decodeOp(bytes: Uint8Array, view: DataView, record: Extract<ReadResult, { ok: true }>, file: string, offset: number): WalOp {
  const fail = (detail: string): never => {
    throw new StorageCorruptionError('wal', null, `record seq ${record.seq}: ${detail}`, file, offset);
  };
  const { bodyStart, bodyEnd } = record;
  if (record.opCode !== OP_SAVE) {
    if (bodyEnd - bodyStart !== 8) fail('index body is not 8 bytes');
    const index = readU64(view, bodyStart);
    if (index < 0) fail('index out of range');
    return { kind: record.opCode === OP_TRUNCATE ? 'truncateSuffix' : 'compact', index };
  }
  const flags = view.getUint32(bodyStart, true);
  const count = view.getUint32(bodyStart + 4, true);
  let at = bodyStart + 8;
  const take = (): Uint8Array => {
    if (at + 4 > bodyEnd) fail('body ends inside a length field');
    const length = view.getUint32(at, true);
    if (at + 4 + length > bodyEnd) fail('a part runs past the body');
    const part = bytes.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return part;
  };
  try {
    const snapshotMeta = flags & FLAG_META ? decodeSnapshotMeta(take()) : null;
    const hardState = flags & FLAG_HARD_STATE ? decodeHardState(take()) : null;
    const entries: Entry[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const part = take();
      entries[i] = decodeEntry(part, entryRecordIndex(part));
    }
    if (at !== bodyEnd) fail('trailing bytes in the body');
    return { kind: 'save', snapshotMeta, entries, hardState };
  } catch (error) {
    if (error instanceof StorageCorruptionError && error.record !== 'wal') fail(error.detail);
    throw error;
  }
}
