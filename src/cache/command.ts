/**
 * Cache commands as they travel in the Raft log.
 *
 * A command is built on the leader, which stamps it with its own clock (`nowMs`) and turns a TTL
 * into an absolute `expiresAtMs`. Replicas never read a clock while applying: expiry is decided
 * once, by the leader, and carried in the entry, so every replica applies the same thing.
 *
 * Layout (little-endian): `u8 version=1, u8 op, f64 nowMs, str clientId, f64 sequence,
 * f64 ackedThrough, str key`,
 * then per op: set `f64 expiresAtMs, bytes value`; delete nothing; cas `u8 hasExpected,
 * [bytes expected], f64 expiresAtMs, bytes value`; increment `f64 delta, f64 expiresAtMs`; tick
 * nothing (the key is empty). Strings and byte strings are `u32 length` + bytes.
 *
 * @example
 * ```ts
 * const data = encodeCacheCommand({ op: 'set', key: 'a', value: bytes('1'), ttlMs: 5000 },
 *   { nowMs: Date.now(), clientId: 'c1', sequence: 1 });
 * await node.propose(data);
 * ```
 */
import { clientIdStrings } from '../codec/utf8.js';
import { ByteReader, ByteWriter, utf8Length } from './bytes.js';
import { CacheError } from './errors.js';
import { type CacheLimits, DEFAULT_CACHE_LIMITS } from './limits.js';
import { Slab } from '../util/slab.js';

const COMMAND_VERSION = 1;

const OP_CODES = { set: 1, delete: 2, cas: 3, increment: 4, tick: 5 } as const;
type OpName = keyof typeof OP_CODES;
const OP_NAMES: Record<number, OpName> = { 1: 'set', 2: 'delete', 3: 'cas', 4: 'increment', 5: 'tick' };

/** What a client asks for. */
export type CacheRequest =
  | { op: 'set'; key: string; value: Uint8Array; ttlMs?: number }
  | { op: 'delete'; key: string }
  /** Sets `value` only if the current value equals `expected`; `expected: null` means "only if absent". */
  | { op: 'cas'; key: string; expected: Uint8Array | null; value: Uint8Array; ttlMs?: number }
  /** Adds `delta` to a decimal integer value (absent counts as 0). */
  | { op: 'increment'; key: string; delta: number; ttlMs?: number }
  /** Moves the replicas' notion of time forward so expired keys are purged without other writes. */
  | { op: 'tick' };

/** Who sent a request, for exactly-once application of retried writes. */
export interface CacheSession {
  /** The leader's clock when it accepted the request (ms since the epoch). */
  nowMs: number;
  /** The client's id; empty for a request outside any session. */
  clientId: string;
  /** Increases by one per write of that client; 0 outside any session. */
  sequence: number;
  /**
   * Every write of this client with a sequence ≤ this has been answered, so its result may be
   * forgotten (thesis §6.3). Lets a client pipeline writes: results of writes above it are kept, in
   * whatever order they apply. Default `sequence − 1` (one write at a time).
   */
  ackedThrough?: number;
}

/** A decoded command: the request with the leader's stamps resolved. */
export type CacheCommand =
  | { op: 'set'; key: string; value: Uint8Array; expiresAtMs: number }
  | { op: 'delete'; key: string }
  | { op: 'cas'; key: string; expected: Uint8Array | null; value: Uint8Array; expiresAtMs: number }
  | { op: 'increment'; key: string; delta: number; expiresAtMs: number }
  | { op: 'tick' };

export type DecodedCacheCommand = CacheCommand & Required<CacheSession>;

function checkKey(key: string, limits: CacheLimits): void {
  if (key.length === 0) throw new CacheError('CACHE_ERR_KEY_EMPTY', 'the key is empty');
  const bytes = utf8Length(key);
  if (bytes > limits.keyBytesMax) {
    throw new CacheError('CACHE_ERR_KEY_TOO_LARGE', `the key has ${bytes} bytes; the limit is ${limits.keyBytesMax} (keyBytesMax)`);
  }
}

function checkValue(value: Uint8Array, limits: CacheLimits, field = 'value'): void {
  if (value.length > limits.valueBytesMax) {
    throw new CacheError('CACHE_ERR_VALUE_TOO_LARGE', `the ${field} has ${value.length} bytes; the limit is ${limits.valueBytesMax} (valueBytesMax)`);
  }
}

function expiresAt(ttlMs: number | undefined, nowMs: number, limits: CacheLimits): number {
  if (ttlMs === undefined || ttlMs === 0) return 0;
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 0 || ttlMs > limits.ttlMsMax) {
    throw new CacheError('CACHE_ERR_BAD_TTL', `ttlMs must be a whole number of ms in [0, ${limits.ttlMsMax}]; got ${ttlMs}`);
  }
  return nowMs + ttlMs;
}

/**
 * Commands are encoded in one scratch writer, then copied into a slab: a command becomes a log
 * entry's data, and entries die in log order (compaction), so a slab is freed soon after the
 * entries in it (src/util/slab.ts). A writer and a fresh buffer per command cost an allocation
 * outside V8's heap each, about 1.3 µs here.
 */
const commandSlab = new Slab(256 * 1024);
let scratch = new ByteWriter(1024);
const scratchBytesKept = 64 * 1024;

function commandWriter(): ByteWriter {
  // A large value grew the scratch: let that memory go rather than keep it for good.
  if (scratch.capacity > scratchBytesKept) scratch = new ByteWriter(1024);
  scratch.reset();
  return scratch;
}

/**
 * Validates a request and encodes it for the log. Throws {@link CacheError} for a request that
 * breaks a limit, so it is refused before it is proposed.
 */
export function encodeCacheCommand(request: CacheRequest, session: CacheSession, limits: CacheLimits = DEFAULT_CACHE_LIMITS): Uint8Array {
  if (utf8Length(session.clientId) > limits.clientIdBytesMax) {
    throw new CacheError('CACHE_ERR_CLIENT_ID_TOO_LARGE', `the client id is over ${limits.clientIdBytesMax} bytes (clientIdBytesMax)`);
  }
  if (!Number.isSafeInteger(session.sequence) || session.sequence < 0) {
    throw new CacheError('CACHE_ERR_MALFORMED_COMMAND', `sequence must be a non-negative safe integer; got ${session.sequence}`);
  }
  const ackedThrough = session.ackedThrough ?? Math.max(0, session.sequence - 1);
  if (!Number.isSafeInteger(ackedThrough) || ackedThrough < 0 || (session.sequence > 0 && ackedThrough >= session.sequence)) {
    throw new CacheError('CACHE_ERR_MALFORMED_COMMAND', `ackedThrough must be a non-negative integer below the sequence; got ${ackedThrough}`);
  }
  const writer = commandWriter();
  writer.u8(COMMAND_VERSION);
  writer.u8(OP_CODES[request.op]);
  writer.f64(session.nowMs);
  writer.string(session.clientId);
  writer.f64(session.sequence);
  writer.f64(ackedThrough);
  if (request.op === 'tick') {
    writer.string('');
    return commandSlab.copy(writer.finish());
  }
  checkKey(request.key, limits);
  writer.string(request.key);
  switch (request.op) {
    case 'set':
      checkValue(request.value, limits);
      writer.f64(expiresAt(request.ttlMs, session.nowMs, limits));
      writer.bytes(request.value);
      break;
    case 'delete':
      break;
    case 'cas':
      checkValue(request.value, limits);
      writer.u8(request.expected === null ? 0 : 1);
      if (request.expected !== null) {
        checkValue(request.expected, limits, 'expected value');
        writer.bytes(request.expected);
      }
      writer.f64(expiresAt(request.ttlMs, session.nowMs, limits));
      writer.bytes(request.value);
      break;
    case 'increment':
      if (!Number.isSafeInteger(request.delta)) {
        throw new CacheError('CACHE_ERR_NOT_A_NUMBER', `delta must be a safe integer; got ${request.delta}`);
      }
      writer.f64(request.delta);
      writer.f64(expiresAt(request.ttlMs, session.nowMs, limits));
      break;
  }
  return commandSlab.copy(writer.finish());
}

function readExpiry(reader: ByteReader): number {
  const value = reader.f64();
  if (!Number.isFinite(value) || value < 0) throw new CacheError('CACHE_ERR_MALFORMED_COMMAND', `bad expiry ${value}`);
  return value;
}

/**
 * Decodes a command from a log entry, checking every length against `limits`. Values are views
 * into `data`; the state machine copies what it keeps.
 */
export function decodeCacheCommand(data: Uint8Array, limits: CacheLimits = DEFAULT_CACHE_LIMITS): DecodedCacheCommand {
  const reader = new ByteReader(data, 'cache command', 'CACHE_ERR_MALFORMED_COMMAND');
  const version = reader.u8();
  if (version !== COMMAND_VERSION) throw new CacheError('CACHE_ERR_MALFORMED_COMMAND', `unknown cache command version ${version}`);
  const opCode = reader.u8();
  const op = OP_NAMES[opCode];
  if (op === undefined) throw new CacheError('CACHE_ERR_MALFORMED_COMMAND', `unknown cache op ${opCode}`);
  const nowMs = reader.f64();
  const clientId = reader.string(limits.clientIdBytesMax, 'client id', clientIdStrings); // decoded once per client
  const sequence = reader.f64();
  const ackedThrough = reader.f64();
  if (!Number.isSafeInteger(sequence) || sequence < 0 || !Number.isFinite(nowMs) || !Number.isSafeInteger(ackedThrough) || ackedThrough < 0) {
    throw new CacheError('CACHE_ERR_MALFORMED_COMMAND', 'bad session stamps');
  }
  const key = reader.string(limits.keyBytesMax, 'key');
  // Each op builds its whole object at once (no spread of a session object): this runs for every
  // applied write on every replica.
  let command: DecodedCacheCommand;
  switch (op) {
    case 'tick':
      command = { op, nowMs, clientId, sequence, ackedThrough };
      break;
    case 'set': {
      const expiresAtMs = readExpiry(reader);
      command = { op, key, expiresAtMs, value: reader.bytes(limits.valueBytesMax, 'value'), nowMs, clientId, sequence, ackedThrough };
      break;
    }
    case 'delete':
      command = { op, key, nowMs, clientId, sequence, ackedThrough };
      break;
    case 'cas': {
      const hasExpected = reader.u8();
      const expected = hasExpected ? reader.bytes(limits.valueBytesMax, 'expected value') : null;
      const expiresAtMs = readExpiry(reader);
      command = { op, key, expected, expiresAtMs, value: reader.bytes(limits.valueBytesMax, 'value'), nowMs, clientId, sequence, ackedThrough };
      break;
    }
    case 'increment': {
      const delta = reader.f64();
      if (!Number.isSafeInteger(delta)) throw new CacheError('CACHE_ERR_MALFORMED_COMMAND', `bad delta ${delta}`);
      command = { op, key, delta, expiresAtMs: readExpiry(reader), nowMs, clientId, sequence, ackedThrough };
      break;
    }
  }
  if (op !== 'tick' && key.length === 0) throw new CacheError('CACHE_ERR_MALFORMED_COMMAND', 'empty key');
  reader.end();
  return command;
}
