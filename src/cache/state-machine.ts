/**
 * The replicated key-value cache: the state machine every replica applies the Raft log to.
 *
 * Deterministic by construction: applying the same entries in the same order gives the same state
 * and the same results on every replica. It reads no clock: time comes from the leader's stamp in
 * each command (see command.ts), and expired keys are purged when the log's time passes them.
 * Retried writes are applied once: each client's last sequence number and result are remembered
 * (a bounded, least-recently-used table of sessions that is part of the snapshot).
 *
 * @example
 * ```ts
 * const cache = new CacheStateMachine();
 * const data = encodeCacheCommand({ op: 'set', key: 'k', value: bytes('v') }, { nowMs: 0, clientId: 'c', sequence: 1 });
 * cache.apply(1, data);           // { ok: true, code: null, value: null }
 * cache.get('k', 0);              // bytes('v')
 * const image = cache.snapshot(); // restore elsewhere with new CacheStateMachine().restore(image)
 * ```
 */
import { crc32c } from '../codec/crc32c.js';
import { ByteReader, ByteWriter } from './bytes.js';
import { type DecodedCacheCommand, decodeCacheCommand } from './command.js';
import { CacheError } from './errors.js';
import { createExpiryHeap } from './expiry-heap.js';
import { type CacheLimits, DEFAULT_CACHE_LIMITS } from './limits.js';
import { ChunkedWriter } from './chunked-writer.js';
import { SnapshotMap } from './snapshot-map.js';
import { ValueArena } from './value-arena.js';
import { sameBytes } from '../util/bytes.js';

/** The outcome of one command. `code` is null on success. */
export interface CacheResult {
  ok: boolean;
  /** Why it did not succeed: `CACHE_ERR_CAS_MISMATCH`, `CACHE_ERR_NOT_A_NUMBER`, `CACHE_ERR_STALE_SEQUENCE`, `CACHE_ERR_MALFORMED_COMMAND`. */
  code: string | null;
  /**
   * set: null. delete: the value removed, or null if the key was absent. cas: on mismatch the
   * current value (null if absent). increment: the new value (decimal text).
   */
  value: Uint8Array | null;
}

interface Item {
  value: Uint8Array;
  /** 0 = never expires. */
  expiresAtMs: number;
}

/**
 * What the map holds per key: the bare value when the key has no TTL, else an {@link Item}. One
 * heap object fewer for most keys, which a major GC of a large cache walks one cache miss at a
 * time: with 200,000 keys after random overwrites a forced full GC took 142-159 ms against
 * 186-246 ms with an item object per key (docs/cache.md).
 */
type Stored = Uint8Array | Item;

function valueOf(stored: Stored): Uint8Array {
  return stored instanceof Uint8Array ? stored : stored.value;
}

function expiryOf(stored: Stored): number {
  return stored instanceof Uint8Array ? 0 : stored.expiresAtMs;
}

function storedOf(value: Uint8Array, expiresAtMs: number): Stored {
  return expiresAtMs === 0 ? value : { value, expiresAtMs };
}

/**
 * One client's exactly-once state: results of its writes above `ackedThrough`, by sequence.
 * Invariant: every key of `results` is > `ackedThrough`.
 */
interface Session {
  ackedThrough: number;
  results: Map<number, CacheResult>;
}

const SNAPSHOT_MAGIC = 0x31435752; // "RWC1" little-endian
const SNAPSHOT_VERSION = 2;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();
/** Keys serialized per step of a captured snapshot: about a millisecond of work here. */
const SNAPSHOT_SLICE_ITEMS = 2048;
/** Keys decoded per step of a restore: about 5 ms here (200,000 keys took ~300 ms in one task). */
const RESTORE_SLICE_ITEMS = 4096;
/** Bytes checksummed per step of a restore. */
const RESTORE_CHECKSUM_BYTES = 1024 * 1024;
const OK_EMPTY: CacheResult = Object.freeze({ ok: true, code: null, value: null });
/** Live values moved into the arena's new generation per write while it compacts (value-arena.ts). */
const RELOCATE_PER_WRITE = 8;

function fail(code: string, value: Uint8Array | null = null): CacheResult {
  return { ok: false, code, value };
}

export class CacheStateMachine {
  private items = new SnapshotMap<Stored>();
  /** Where values are copied (value-arena.ts), and the walk moving them to a new generation. */
  private arena: ValueArena;
  private relocation: Iterator<[string, Stored]> | undefined;
  private sessions = new Map<string, Session>();
  private expiry = createExpiryHeap();
  /** The log's time: the largest leader stamp applied so far. */
  private timeMs = 0;
  private appliedIndexValue = 0;

  constructor(
    private readonly limits: CacheLimits = DEFAULT_CACHE_LIMITS,
    /** @internal Tests: the arena's dead-bytes floor, small so that compaction happens. */
    private readonly arenaDeadBytesFloor?: number,
  ) {
    this.arena = new ValueArena(arenaDeadBytesFloor);
  }

  /** Index of the last entry applied (or restored from a snapshot). */
  get appliedIndex(): number {
    return this.appliedIndexValue;
  }

  /** Number of keys held, expired ones not yet purged included. */
  get size(): number {
    return this.items.size;
  }

  /**
   * Applies the entry at `index`. An empty entry (a new leader's no-op) changes nothing. A
   * malformed command is answered with an error result, never a throw: one bad entry must not stop
   * every replica.
   */
  apply(index: number, data: Uint8Array): CacheResult {
    if (index <= this.appliedIndexValue) {
      throw new CacheError('CACHE_ERR_APPLY_ORDER', `entry ${index} applied after ${this.appliedIndexValue}: entries must be applied once, in order`);
    }
    this.appliedIndexValue = index;
    if (data.length === 0) return OK_EMPTY;
    let command: DecodedCacheCommand;
    try {
      command = decodeCacheCommand(data, this.limits);
    } catch (error) {
      if (error instanceof CacheError) return fail(error.code);
      throw error;
    }
    if (command.nowMs > this.timeMs) this.timeMs = command.nowMs;
    this.purgeExpired();
    if (command.clientId === '' || command.sequence === 0) return this.execute(command);

    let session = this.sessions.get(command.clientId);
    if (session === undefined) session = { ackedThrough: 0, results: new Map() };
    else this.sessions.delete(command.clientId); // re-inserted below, as most recently used
    this.sessions.set(command.clientId, session);
    if (this.sessions.size > this.limits.sessionsMax) this.sessions.delete(this.sessions.keys().next().value as string);

    if (command.ackedThrough > session.ackedThrough) {
      session.ackedThrough = command.ackedThrough;
      for (const sequence of session.results.keys()) if (sequence <= command.ackedThrough) session.results.delete(sequence);
    }
    if (command.sequence <= session.ackedThrough) return fail('CACHE_ERR_STALE_SEQUENCE');
    const earlier = session.results.get(command.sequence);
    if (earlier !== undefined) return earlier; // a retry: same answer, applied once
    const result = this.execute(command);
    session.results.set(command.sequence, result);
    if (session.results.size > this.limits.sessionResultsMax) {
      // Forgetting a result must not let its retry apply again: raise the floor past it instead.
      const oldest = Math.min(...session.results.keys());
      session.results.delete(oldest);
      session.ackedThrough = Math.max(session.ackedThrough, oldest);
    }
    return result;
  }

  /**
   * The value of `key` as of `nowMs` on the caller's clock, or undefined. Reads never change
   * state; a key past its expiry is invisible even before the log purges it.
   */
  get(key: string, nowMs: number): Uint8Array | undefined {
    const stored = this.items.get(key);
    if (stored === undefined) return undefined;
    const expiresAtMs = expiryOf(stored);
    if (expiresAtMs !== 0 && expiresAtMs <= nowMs) return undefined;
    return valueOf(stored);
  }

  /** Remaining time to live of `key` in ms as of `nowMs`, 0 for no expiry, undefined if absent. */
  ttlMs(key: string, nowMs: number): number | undefined {
    const stored = this.items.get(key);
    if (stored === undefined) return undefined;
    const expiresAtMs = expiryOf(stored);
    if (expiresAtMs !== 0 && expiresAtMs <= nowMs) return undefined;
    return expiresAtMs === 0 ? 0 : expiresAtMs - nowMs;
  }

  private execute(command: DecodedCacheCommand): CacheResult {
    switch (command.op) {
      case 'tick':
        return OK_EMPTY;
      case 'set':
        this.store(command.key, command.value, command.expiresAtMs);
        return OK_EMPTY;
      case 'delete': {
        const stored = this.items.get(command.key);
        if (stored !== undefined) this.arena.release(valueOf(stored));
        this.items.delete(command.key);
        return { ok: true, code: null, value: stored === undefined ? null : valueOf(stored) };
      }
      case 'cas': {
        const stored = this.items.get(command.key);
        const current = stored === undefined ? undefined : valueOf(stored);
        const matches = command.expected === null ? current === undefined : current !== undefined && sameBytes(current, command.expected);
        if (!matches) return fail('CACHE_ERR_CAS_MISMATCH', current ?? null);
        this.store(command.key, command.value, command.expiresAtMs);
        return OK_EMPTY;
      }
      case 'increment': {
        const current = this.items.get(command.key);
        let number = 0;
        if (current !== undefined) {
          const text = textDecoder.decode(valueOf(current));
          if (!/^-?\d{1,16}$/.test(text)) return fail('CACHE_ERR_NOT_A_NUMBER', valueOf(current));
          number = Number(text);
        }
        const next = number + command.delta;
        if (!Number.isSafeInteger(next)) return fail('CACHE_ERR_NOT_A_NUMBER', current === undefined ? null : valueOf(current));
        const value = textEncoder.encode(String(next));
        // An increment keeps the key's expiry unless it asks for a new one.
        this.store(command.key, value, command.expiresAtMs !== 0 ? command.expiresAtMs : current === undefined ? 0 : expiryOf(current));
        return { ok: true, code: null, value };
      }
    }
  }

  private store(key: string, value: Uint8Array, expiresAtMs: number): void {
    // Copy: `value` is a view into a log entry's buffer, which the caller may reuse, and whose
    // memory a long-lived value must not pin.
    const previous = this.items.get(key);
    if (previous !== undefined) this.arena.release(valueOf(previous));
    this.items.set(key, storedOf(this.arena.copy(value), expiresAtMs));
    if (expiresAtMs !== 0) this.expiry.push({ expiresAtMs, key });
    this.relocateStep();
  }

  /**
   * Moves a few live values into the arena's current generation while it compacts, and starts a
   * compaction when one is due. Not while a snapshot capture is open: each move would be a write
   * the capture has to set aside.
   */
  private relocateStep(): void {
    if (this.items.capturing) return;
    if (this.relocation === undefined) {
      if (!this.arena.compactionDue()) return;
      this.arena.beginGeneration();
      this.relocation = this.items.entries();
    }
    for (let k = 0; k < RELOCATE_PER_WRITE; k++) {
      const next = this.relocation.next();
      if (next.done === true) {
        this.relocation = undefined;
        return;
      }
      const [key, stored] = next.value;
      const value = valueOf(stored);
      const moved = this.arena.relocate(value);
      if (moved !== value) this.items.set(key, stored instanceof Uint8Array ? moved : { value: moved, expiresAtMs: stored.expiresAtMs });
    }
  }

  private purgeExpired(): void {
    for (let top = this.expiry.peek(); top !== undefined && top.expiresAtMs <= this.timeMs; top = this.expiry.peek()) {
      this.expiry.pop();
      const stored = this.items.get(top.key);
      if (stored !== undefined && expiryOf(stored) === top.expiresAtMs) {
        this.arena.release(valueOf(stored));
        this.items.delete(top.key);
      }
    }
    // Stale heap entries (keys overwritten or deleted) are bounded to about the live key count.
    if (this.expiry.size > 2 * this.items.size + 1024) {
      this.expiry.filter((e) => {
        const stored = this.items.get(e.key);
        return stored !== undefined && expiryOf(stored) === e.expiresAtMs;
      });
    }
  }

  /**
   * The whole state (keys, sessions, the log's time, the applied index) with a CRC32C trailer.
   * Keys are written in the map's order, which is not part of the state: replicas with the same
   * state may order them differently (a key deleted and set again while a capture is open keeps
   * its place), and no read can tell.
   */
  snapshot(): Uint8Array {
    const serializer = this.serializeSnapshot();
    for (;;) {
      const step = serializer.next();
      if (step.done) return step.value;
    }
  }

  /**
   * Takes a consistent view of the state now and returns a serializer that writes it a slice of
   * `sliceItems` keys per `next()`, while entries go on being applied, then assembles it about a
   * megabyte per `next()`; it returns `prefix` followed by the bytes `snapshot()` would have
   * returned at the moment of the call. One at a time; `return()` abandons it. RaftNode runs the
   * slices between event-loop turns (StateMachine.captureSnapshot).
   */
  captureSnapshot(options: { prefix?: Uint8Array; sliceItems?: number } = {}): Iterator<void, Uint8Array, undefined> {
    const serializer = this.serializeSnapshot(options.sliceItems ?? SNAPSHOT_SLICE_ITEMS, options.prefix);
    serializer.next(); // runs up to the first yield: the view is taken
    return serializer;
  }

  private *serializeSnapshot(sliceItems = Number.POSITIVE_INFINITY, prefix?: Uint8Array): Generator<void, Uint8Array, undefined> {
    const view = this.items.beginCapture();
    let captured = true;
    try {
      // Chunks, not one growing buffer: growth copied 16 MB in one step at 200,000 keys.
      const w = new ChunkedWriter();
      w.u32(SNAPSHOT_MAGIC);
      w.u8(SNAPSHOT_VERSION);
      w.f64(this.timeMs);
      w.f64(this.appliedIndexValue);
      w.u32(view.size);
      // Sessions change in place and are few (sessionsMax): written out now, placed after the keys.
      const sessions = this.serializeSessions();
      yield;
      let written = 0;
      for (const [key, item] of view.entries) {
        w.string(key);
        w.f64(expiryOf(item));
        w.bytes(valueOf(item));
        if (++written % sliceItems === 0) yield;
      }
      if (written !== view.size) throw new CacheError('CACHE_ERR_CAPTURE_OPEN', `snapshot wrote ${written} keys of the ${view.size} captured`);
      w.raw(sessions);
      // The view is no longer needed: applies may go on without keeping captured values aside.
      this.items.endCapture();
      captured = false;
      return yield* w.assemble(prefix);
    } finally {
      if (captured) this.items.endCapture();
    }
  }

  private serializeSessions(): Uint8Array {
    const w = new ByteWriter(256);
    w.u32(this.sessions.size);
    for (const [clientId, session] of this.sessions) {
      w.string(clientId);
      w.f64(session.ackedThrough);
      w.u32(session.results.size);
      for (const [sequence, result] of session.results) {
        w.f64(sequence);
        w.u8(result.ok ? 1 : 0);
        w.string(result.code ?? '');
        w.u8(result.value === null ? 0 : 1);
        if (result.value !== null) w.bytes(result.value);
      }
    }
    return w.finish();
  }

  /** Replaces the whole state with a snapshot's. A damaged snapshot is a `CacheError`; the state is then unchanged. */
  restore(image: Uint8Array): void {
    const steps = this.restoreSnapshot(image, Number.POSITIVE_INFINITY);
    while (!steps.next().done);
  }

  /**
   * The same as `restore`, a bounded slice per `next()` call (the checksum 1 MiB at a time, then
   * `sliceItems` keys at a time), so a large snapshot does not hold the event loop. The new state
   * is built aside and replaces the old one in the last call: until then the old state is whole
   * and readable, and it stays in place if the image is damaged or the restore is abandoned.
   */
  *restoreSnapshot(image: Uint8Array, sliceItems = RESTORE_SLICE_ITEMS): Generator<void, void, undefined> {
    if (image.length < 4) throw new CacheError('CACHE_ERR_MALFORMED_SNAPSHOT', 'cache snapshot is truncated');
    const body = image.subarray(0, image.length - 4);
    const stored = new DataView(image.buffer, image.byteOffset + body.length, 4).getUint32(0, true);
    let crc = 0;
    for (let start = 0; start < body.length; start += RESTORE_CHECKSUM_BYTES) {
      if (start > 0) yield;
      crc = crc32c(body, crc, start, Math.min(body.length, start + RESTORE_CHECKSUM_BYTES));
    }
    if (crc !== stored) throw new CacheError('CACHE_ERR_MALFORMED_SNAPSHOT', 'cache snapshot checksum mismatch');
    const r = new ByteReader(body, 'cache snapshot', 'CACHE_ERR_MALFORMED_SNAPSHOT');
    if (r.u32() !== SNAPSHOT_MAGIC || r.u8() !== SNAPSHOT_VERSION) {
      throw new CacheError('CACHE_ERR_MALFORMED_SNAPSHOT', 'not a raftwire cache snapshot (bad magic or version)');
    }
    const timeMs = r.f64();
    const appliedIndex = r.f64();
    const items = new SnapshotMap<Stored>();
    const arena = new ValueArena(this.arenaDeadBytesFloor);
    const expiry = createExpiryHeap();
    let decoded = 0;
    for (let n = r.u32(); n > 0; n--) {
      const key = r.string(this.limits.keyBytesMax, 'key');
      const expiresAtMs = r.f64();
      const value = arena.copy(r.bytes(this.limits.valueBytesMax, 'value'));
      const previous = items.get(key);
      if (previous !== undefined) arena.release(valueOf(previous)); // a damaged image may repeat a key
      items.set(key, storedOf(value, expiresAtMs));
      if (expiresAtMs !== 0) expiry.push({ expiresAtMs, key });
      if (++decoded % sliceItems === 0) yield;
    }
    const sessions = new Map<string, Session>();
    for (let n = r.u32(); n > 0; n--) {
      const clientId = r.string(this.limits.clientIdBytesMax, 'client id');
      const ackedThrough = r.f64();
      const results = new Map<number, CacheResult>();
      const count = r.u32();
      if (count > this.limits.sessionResultsMax) throw new CacheError('CACHE_ERR_MALFORMED_SNAPSHOT', `session of ${clientId} holds ${count} results, over sessionResultsMax`);
      for (let i = 0; i < count; i++) {
        const sequence = r.f64();
        const ok = r.u8() === 1;
        const code = r.string(256, 'result code');
        const value = r.u8() === 1 ? r.bytes(this.limits.valueBytesMax, 'result value').slice() : null;
        results.set(sequence, { ok, code: code === '' ? null : code, value });
      }
      sessions.set(clientId, { ackedThrough, results });
    }
    r.end();
    // RaftNode waits for its capture before it restores: one still open here is a bug.
    if (this.items.capturing) throw new CacheError('CACHE_ERR_CAPTURE_OPEN', 'restore while a snapshot capture is open');
    this.items = items;
    this.arena = arena;
    this.relocation = undefined;
    this.sessions = sessions;
    this.expiry = expiry;
    this.timeMs = timeMs;
    this.appliedIndexValue = appliedIndex;
  }
}
