/**
 * One group commit of `LmdbLogStore`: the writes queued while the previous WAL write was in flight,
 * checked against the size limit, planned in order on a `LogPlan`, and encoded back to back into
 * the one buffer that the next WAL `write` makes durable.
 *
 * @module
 */
import { Slab } from '../util/slab.js';
import { LogPlan, type LogState } from './log-plan.js';
import { applyOp } from './lmdb-checkpoint.js';
import type { PreparedOp, WalOp } from './wal-record.js';
import { prepareOp, writeRecord } from './wal-record.js';

/**
 * Group buffers: the WAL writes one, and its entry records stay in use as views (the tail's reads,
 * the next checkpoint's puts) until a checkpoint moves them to LMDB, in log order; so they are
 * carved from a slab (src/util/slab.ts) instead of an allocation of their own each, which cost
 * about 7 µs per group here. Groups over 256 KiB get their own memory.
 */
const groupSlab = new Slab(1024 * 1024);

/** One write waiting for its group. */
export interface WriteRequest {
  op: WalOp;
  /** Upper bound of the bytes the write adds to LMDB (its entry records and their B-tree cost). */
  addedBytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** What one WAL write carries. */
export interface EncodedGroup {
  /** The records, in `bytes[0, length)`. */
  bytes: Uint8Array;
  length: number;
  /** The writes accepted, in order, and the plan after them (on top of the state planned from). */
  accepted: WriteRequest[];
  plan: LogPlan;
  firstSeq: number;
  lastSeq: number;
  /** Sum of the accepted writes' `addedBytes`. */
  addedBytes: number;
}

/**
 * Gateway checks and the size limit, per write: `admit(request, addedBytesSoFar)` throws to refuse
 * one (a `StorageFullError`); a refused write is rejected here alone and the rest go on.
 */
export function prepareGroup(group: readonly WriteRequest[], admit: (request: WriteRequest, addedBytesBefore: number) => void): Array<{ request: WriteRequest; prepared: PreparedOp }> {
  const out: Array<{ request: WriteRequest; prepared: PreparedOp }> = [];
  let addedBytes = 0;
  for (const request of group) {
    try {
      admit(request, addedBytes);
      out.push({ request, prepared: prepareOp(request.op) });
      addedBytes += request.addedBytes;
    } catch (error) {
      request.reject(error);
    }
  }
  return out;
}

/**
 * Encodes the prepared writes from seq `firstSeq` on, planning each on top of `state`. A write the
 * plan refuses (a gap, a compacted index) is rejected here and its record overwritten by the next
 * one. Returns null when none is left.
 */
export function encodeGroup(
  prepared: ReadonlyArray<{ request: WriteRequest; prepared: PreparedOp }>,
  state: LogState,
  storedTerm: (index: number) => number,
  firstSeq: number,
): EncodedGroup | null {
  let total = 0;
  for (const p of prepared) total += p.prepared.recordBytes;
  const bytes = groupSlab.alloc(total);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const plan = new LogPlan(state, storedTerm);
  const accepted: WriteRequest[] = [];
  let offset = 0;
  let addedBytes = 0;
  for (const { request, prepared: p } of prepared) {
    const seq = firstSeq + accepted.length;
    const owned = writeRecord(bytes, view, offset, p, seq, seq - firstSeq);
    try {
      // LogPlan checks a whole update before changing anything, so a refused write leaves the
      // plan as the writes before it left it.
      applyOp(plan, owned);
    } catch (error) {
      request.reject(error);
      continue;
    }
    accepted.push(request);
    offset += p.recordBytes;
    addedBytes += request.addedBytes;
  }
  if (accepted.length === 0) return null;
  return { bytes, length: offset, accepted, plan, firstSeq, lastSeq: firstSeq + accepted.length - 1, addedBytes };
}
