/**
 * The on-disk record format of the log (see docs/storage.md). Every record starts with the
 * CRC32C of everything after the checksum field, so a flipped bit anywhere is caught on read.
 *
 * ```
 * offset size field
 *  0     4    crc32c (LE) of bytes [4, end)
 *  4     1    format version (1)
 *  5     1    kind: 1 entry, 2 hard state, 3 log bounds, 4 snapshot meta
 *  6     2    kind-specific (entry: type 0 normal / 1 confChange; hard state: 1 if vote set)
 *  8     8    u64 LE: entry index | hard state term | prevIndex        | lastIncludedIndex
 * 16     8    u64 LE: entry term  | hard state commit | prevTerm       | lastIncludedTerm
 * 24     …    entry data          | vote (UTF-8)      | lastIndex (u64) | config (JSON)
 * ```
 *
 * Kind 5 (WAL checkpoint) holds, at offset 8, the sequence number of the last write-ahead-log
 * record applied to LMDB (wal.ts); its fields at 16 are zero.
 *
 * The entry's own index is inside its checksummed bytes, so a record found under the wrong key
 * (a misdirected write) is corruption too, not a valid entry.
 *
 * @module
 */
import { checksum as crc32c } from './checksum.js';
import type { ClusterConfig, Entry, EntryType, HardState, SnapshotMeta } from '../core/types.js';
import { NODE_ID_BYTES_MAX } from '../core/types.js';
import { StorageCorruptionError, StorageInvalidWriteError } from './errors.js';
import { snapshotMetaBytesMax } from './limits.js';

export const RECORD_FORMAT = 1;
export const RECORD_HEADER_BYTES = 24;

const KIND_ENTRY = 1;
const KIND_HARD_STATE = 2;
const KIND_LOG_BOUNDS = 3;
const KIND_SNAPSHOT_META = 4;
const KIND_WAL_CHECKPOINT = 5;

const U32 = 0x1_0000_0000;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Where the log begins and ends: the last compacted entry (`prevIndex`, `prevTerm`) and the last entry. */
export interface LogBounds {
  prevIndex: number;
  prevTerm: number;
  lastIndex: number;
}

export function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value % U32, true);
  view.setUint32(offset + 4, Math.floor(value / U32), true);
}

export function readU64(view: DataView, offset: number): number {
  const lo = view.getUint32(offset, true);
  const hi = view.getUint32(offset + 4, true);
  // Above 2^53−1 cannot be a valid index or term: only corruption produces it.
  if (hi > 0x1f_ffff) return -1;
  return hi * U32 + lo;
}

function header(bytes: Uint8Array, kind: number, kindField: number): DataView {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint8(4, RECORD_FORMAT);
  view.setUint8(5, kind);
  view.setUint16(6, kindField, true);
  return view;
}

function seal(bytes: Uint8Array, view: DataView): Uint8Array {
  view.setUint32(0, crc32c(bytes, 0, 4, bytes.length), true);
  return bytes;
}

/** Checks checksum, format and kind; returns a view on the record or throws corruption. */
function open(bytes: Uint8Array, kind: number, what: 'entry' | 'hardState' | 'logBounds' | 'snapshotMeta' | 'walCheckpoint', index: number | null): DataView {
  if (bytes.length < RECORD_HEADER_BYTES) {
    throw new StorageCorruptionError(what, index, `record is ${bytes.length} bytes, shorter than its ${RECORD_HEADER_BYTES}-byte header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stored = view.getUint32(0, true);
  const actual = crc32c(bytes, 0, 4, bytes.length);
  if (stored !== actual) {
    throw new StorageCorruptionError(what, index, `checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)})`);
  }
  if (view.getUint8(4) !== RECORD_FORMAT) throw new StorageCorruptionError(what, index, `unknown record format ${view.getUint8(4)}`);
  if (view.getUint8(5) !== kind) throw new StorageCorruptionError(what, index, `record kind ${view.getUint8(5)}, expected ${kind}`);
  return view;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** Size of the record {@link encodeEntry} produces. */
export function entryRecordBytes(entry: Entry): number {
  return RECORD_HEADER_BYTES + entry.data.length;
}

/** Encodes one entry into a fresh record (the caller's `data` is copied, never retained). */
export function encodeEntry(entry: Entry): Uint8Array {
  const bytes = Buffer.allocUnsafe(RECORD_HEADER_BYTES + entry.data.length);
  const view = header(bytes, KIND_ENTRY, entry.type === 'normal' ? 0 : 1);
  writeU64(view, 8, entry.index);
  writeU64(view, 16, entry.term);
  bytes.set(entry.data, RECORD_HEADER_BYTES);
  return seal(bytes, view);
}

/**
 * Encodes a batch of entries into one allocation (one buffer, one DataView), returning a view per
 * record: on the append path this halves the encoding cost of small entries compared with
 * {@link encodeEntry} per entry. The views share memory; nobody writes to them afterwards.
 */
export function encodeEntries(entries: readonly Entry[]): Uint8Array[] {
  let total = 0;
  for (let i = 0; i < entries.length; i++) total += RECORD_HEADER_BYTES + entries[i]!.data.length;
  const bytes = Buffer.allocUnsafeSlow(total);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = new Array(entries.length);
  let offset = 0;
  for (let i = 0; i < entries.length; i++) {
    const end = encodeEntryInto(bytes, view, offset, entries[i]!);
    records[i] = bytes.subarray(offset, end);
    offset = end;
  }
  return records;
}

/**
 * Writes the record of `entry` into `bytes` at `offset` (`view` spans all of `bytes`); returns the
 * offset after it. The write-ahead log uses this to put entry records straight into its buffer.
 */
export function encodeEntryInto(bytes: Uint8Array, view: DataView, offset: number, entry: Entry): number {
  const end = offset + RECORD_HEADER_BYTES + entry.data.length;
  view.setUint8(offset + 4, RECORD_FORMAT);
  view.setUint8(offset + 5, KIND_ENTRY);
  view.setUint16(offset + 6, entry.type === 'normal' ? 0 : 1, true);
  writeU64(view, offset + 8, entry.index);
  writeU64(view, offset + 16, entry.term);
  bytes.set(entry.data, offset + RECORD_HEADER_BYTES);
  view.setUint32(offset, crc32c(bytes, 0, offset + 4, end), true);
  return end;
}

/** The index an entry record claims to hold (unverified: {@link decodeEntry} checks it). */
export function entryRecordIndex(bytes: Uint8Array): number {
  if (bytes.length < RECORD_HEADER_BYTES) return -1;
  return readU64(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 8);
}

/**
 * The entry record an owned entry's `data` is a view into: the stores keep entries as views into
 * their records (header right before the data), so the record can be written to LMDB as is.
 */
export function entryRecordOf(entry: Entry): Uint8Array {
  const data = entry.data;
  return new Uint8Array(data.buffer, data.byteOffset - RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + data.length);
}

export function encodeWalCheckpoint(seq: number): Uint8Array {
  const bytes = Buffer.alloc(RECORD_HEADER_BYTES);
  const view = header(bytes, KIND_WAL_CHECKPOINT, 0);
  writeU64(view, 8, seq);
  writeU64(view, 16, 0);
  return seal(bytes, view);
}

export function decodeWalCheckpoint(bytes: Uint8Array): number {
  const view = open(bytes, KIND_WAL_CHECKPOINT, 'walCheckpoint', null);
  const seq = readU64(view, 8);
  if (bytes.length !== RECORD_HEADER_BYTES || seq < 0) throw new StorageCorruptionError('walCheckpoint', null, 'field out of range');
  return seq;
}

/**
 * Decodes and verifies the record stored under `index`. The returned entry's `data` is a view into
 * `bytes` (no copy); the caller must own `bytes`.
 */
export function decodeEntry(bytes: Uint8Array, index: number): Entry {
  const view = open(bytes, KIND_ENTRY, 'entry', index);
  const typeTag = view.getUint16(6, true);
  if (typeTag > 1) throw new StorageCorruptionError('entry', index, `unknown entry type ${typeTag}`);
  const storedIndex = readU64(view, 8);
  if (storedIndex !== index) throw new StorageCorruptionError('entry', index, `record holds index ${storedIndex}`);
  const term = readU64(view, 16);
  if (term < 0) throw new StorageCorruptionError('entry', index, 'term out of range');
  const type: EntryType = typeTag === 0 ? 'normal' : 'confChange';
  // A plain Uint8Array view (not a Buffer), so callers see one type whatever the store.
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset + RECORD_HEADER_BYTES, bytes.length - RECORD_HEADER_BYTES);
  return { index, term, type, data };
}

/** Encodes the hard state. Throws {@link StorageInvalidWriteError} on a vote longer than NODE_ID_BYTES_MAX. */
export function encodeHardState(hardState: HardState): Uint8Array {
  const vote = hardState.vote === null ? null : textEncoder.encode(hardState.vote);
  if (vote !== null && (vote.length === 0 || vote.length > NODE_ID_BYTES_MAX)) {
    throw new StorageInvalidWriteError(`hard state vote must be 1..${NODE_ID_BYTES_MAX} UTF-8 bytes, got ${vote.length}`);
  }
  const bytes = Buffer.alloc(RECORD_HEADER_BYTES + (vote?.length ?? 0));
  const view = header(bytes, KIND_HARD_STATE, vote === null ? 0 : 1);
  writeU64(view, 8, hardState.term);
  writeU64(view, 16, hardState.commit);
  if (vote !== null) bytes.set(vote, RECORD_HEADER_BYTES);
  return seal(bytes, view);
}

export function decodeHardState(bytes: Uint8Array): HardState {
  const view = open(bytes, KIND_HARD_STATE, 'hardState', null);
  const hasVote = view.getUint16(6, true);
  const term = readU64(view, 8);
  const commit = readU64(view, 16);
  if (term < 0 || commit < 0 || hasVote > 1) throw new StorageCorruptionError('hardState', null, 'field out of range');
  let vote: string | null = null;
  if (hasVote === 1) {
    try {
      vote = textDecoder.decode(bytes.subarray(RECORD_HEADER_BYTES));
    } catch {
      throw new StorageCorruptionError('hardState', null, 'vote is not valid UTF-8');
    }
  } else if (bytes.length !== RECORD_HEADER_BYTES) {
    throw new StorageCorruptionError('hardState', null, 'trailing bytes after a record without a vote');
  }
  return { term, vote, commit };
}

export function encodeLogBounds(bounds: LogBounds): Uint8Array {
  const bytes = Buffer.alloc(RECORD_HEADER_BYTES + 8);
  const view = header(bytes, KIND_LOG_BOUNDS, 0);
  writeU64(view, 8, bounds.prevIndex);
  writeU64(view, 16, bounds.prevTerm);
  writeU64(view, 24, bounds.lastIndex);
  return seal(bytes, view);
}

export function decodeLogBounds(bytes: Uint8Array): LogBounds {
  const view = open(bytes, KIND_LOG_BOUNDS, 'logBounds', null);
  if (bytes.length !== RECORD_HEADER_BYTES + 8) throw new StorageCorruptionError('logBounds', null, `record is ${bytes.length} bytes`);
  const bounds = { prevIndex: readU64(view, 8), prevTerm: readU64(view, 16), lastIndex: readU64(view, 24) };
  if (bounds.prevIndex < 0 || bounds.prevTerm < 0 || bounds.lastIndex < bounds.prevIndex) {
    throw new StorageCorruptionError('logBounds', null, `inconsistent bounds ${JSON.stringify(bounds)}`);
  }
  return bounds;
}

/** Snapshot metadata as bytes (also the metadata block of a snapshot file). */
export function encodeSnapshotMeta(meta: SnapshotMeta): Uint8Array {
  const config = textEncoder.encode(JSON.stringify({ voters: meta.config.voters, learners: meta.config.learners }));
  if (config.length > snapshotMetaBytesMax) {
    throw new StorageInvalidWriteError(`snapshot configuration is ${config.length} bytes, more than snapshotMetaBytesMax ${snapshotMetaBytesMax}`);
  }
  const bytes = Buffer.alloc(RECORD_HEADER_BYTES + config.length);
  const view = header(bytes, KIND_SNAPSHOT_META, 0);
  writeU64(view, 8, meta.lastIncludedIndex);
  writeU64(view, 16, meta.lastIncludedTerm);
  bytes.set(config, RECORD_HEADER_BYTES);
  return seal(bytes, view);
}

export function decodeSnapshotMeta(bytes: Uint8Array, what: 'snapshotMeta' | 'snapshot' = 'snapshotMeta'): SnapshotMeta {
  const view = open(bytes, KIND_SNAPSHOT_META, 'snapshotMeta', null);
  const lastIncludedIndex = readU64(view, 8);
  const lastIncludedTerm = readU64(view, 16);
  let config: ClusterConfig;
  try {
    const parsed = JSON.parse(textDecoder.decode(bytes.subarray(RECORD_HEADER_BYTES))) as unknown;
    config = checkConfig(parsed);
  } catch (cause) {
    throw new StorageCorruptionError(what, null, `configuration does not decode: ${(cause as Error).message}`);
  }
  if (lastIncludedIndex < 0 || lastIncludedTerm < 0) throw new StorageCorruptionError(what, null, 'index or term out of range');
  return { lastIncludedIndex, lastIncludedTerm, config };
}

function checkConfig(value: unknown): ClusterConfig {
  const v = value as { voters?: unknown; learners?: unknown };
  const isIds = (x: unknown): x is string[] => Array.isArray(x) && x.every((id) => typeof id === 'string');
  if (typeof v !== 'object' || v === null || !isIds(v.voters) || !isIds(v.learners)) {
    throw new Error('expected {voters: string[], learners: string[]}');
  }
  return { voters: [...v.voters], learners: [...v.learners] };
}
