/**
 * Configuration of one Raft core. Times are given in milliseconds, as in the cluster API users know,
 * and turned into tick counts with `tickMs` (the core itself only counts ticks).
 *
 * @example
 * ```ts
 * const prng = new Prng(1);
 * const config = resolveRaftConfig({ id: 'n1', random: () => prng.next() });
 * config.electionTimeoutMinTicks // 15 with the defaults (150 ms / 10 ms)
 * ```
 */
import { InvalidConfigError } from './errors.js';
import type { NodeId } from './types.js';

export interface RaftConfig {
  /** This node's id. */
  id: NodeId;
  /** Lower bound of the randomised election timeout. Default 150. */
  electionTimeoutMinMs?: number;
  /** Upper bound (exclusive) of the randomised election timeout. Default 300. */
  electionTimeoutMaxMs?: number;
  /** How often a leader sends heartbeats. Default 50. */
  heartbeatIntervalMs?: number;
  /** Length of one `tick()`. Default 10. */
  tickMs?: number;
  /** Applied entries past the last snapshot before the core advises a new snapshot. Default 10000. */
  snapshotThreshold?: number;
  /** Run a pre-vote round before a real election (thesis §9.6). Default true. */
  preVote?: boolean;
  /** A leader that has not heard from a quorum for an election timeout steps down. Default true. */
  checkQuorum?: boolean;
  /** Append messages in flight to one follower in the replicate state. Default 256. */
  maxInflightMessages?: number;
  /**
   * Largest total size of the entries in one AppendEntries: payloads plus 24 bytes per entry (one
   * entry is always allowed, whatever its size). Default 1 MiB.
   */
  maxBatchBytes?: number;
  /** Largest InstallSnapshot chunk. Default 1 MiB. */
  maxSnapshotChunkBytes?: number;
  /** Proposals accepted but not yet committed before new ones are dropped. Default 10000. */
  maxUncommittedEntries?: number;
  /**
   * Asynchronous storage writes (etcd-io/raft's `AsyncStorageWrites`): `ready()` may be called
   * again while earlier Readies are still being persisted, and the caller reports progress with
   * `persisted(logLastIndex, logLastTerm)` and `appliedTo(index)` instead of `advance()`. Committed
   * entries are handed out only once durable here. Lets a node keep replicating while it syncs.
   * Default false (one Ready at a time, acknowledged with `advance()`).
   */
  asyncStorageWrites?: boolean;
  /** The injected seeded generator: a float in [0, 1). The core never calls Math.random. */
  random: () => number;
}

/** A config with every default filled in and times turned into ticks. */
export interface ResolvedRaftConfig extends Required<RaftConfig> {
  electionTimeoutMinTicks: number;
  electionTimeoutMaxTicks: number;
  heartbeatIntervalTicks: number;
}

/** Defaults of every optional field, in the user's units (milliseconds, counts, bytes). */
export const RAFT_CONFIG_DEFAULTS = {
  electionTimeoutMinMs: 150,
  electionTimeoutMaxMs: 300,
  heartbeatIntervalMs: 50,
  tickMs: 10,
  snapshotThreshold: 10_000,
  preVote: true,
  checkQuorum: true,
  maxInflightMessages: 256,
  maxBatchBytes: 1024 * 1024,
  maxSnapshotChunkBytes: 1024 * 1024,
  maxUncommittedEntries: 10_000,
  asyncStorageWrites: false,
} as const;

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidConfigError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/**
 * Fills in defaults, validates every field and turns milliseconds into ticks.
 * Throws {@link InvalidConfigError} whose message says how to fix the value.
 *
 * @example
 * ```ts
 * resolveRaftConfig({ id: 'n1', random, electionTimeoutMinMs: 100, electionTimeoutMaxMs: 200 });
 * ```
 */
export function resolveRaftConfig(config: RaftConfig): ResolvedRaftConfig {
  if (typeof config.id !== 'string' || config.id.length === 0) {
    throw new InvalidConfigError('id must be a non-empty string (the node id used in the cluster config)');
  }
  if (typeof config.random !== 'function') {
    throw new InvalidConfigError('random must be a function returning a float in [0, 1): inject a seeded generator, e.g. () => prng.next()');
  }
  const d = RAFT_CONFIG_DEFAULTS;
  const tickMs = positiveInteger('tickMs', config.tickMs ?? d.tickMs);
  const electionTimeoutMinMs = positiveInteger('electionTimeoutMinMs', config.electionTimeoutMinMs ?? d.electionTimeoutMinMs);
  const electionTimeoutMaxMs = positiveInteger('electionTimeoutMaxMs', config.electionTimeoutMaxMs ?? d.electionTimeoutMaxMs);
  const heartbeatIntervalMs = positiveInteger('heartbeatIntervalMs', config.heartbeatIntervalMs ?? d.heartbeatIntervalMs);
  const toTicks = (name: string, ms: number): number => {
    if (ms % tickMs !== 0) {
      throw new InvalidConfigError(`${name} (${ms}) must be a multiple of tickMs (${tickMs}); use ${Math.max(tickMs, Math.round(ms / tickMs) * tickMs)}`);
    }
    return ms / tickMs;
  };
  const electionTimeoutMinTicks = toTicks('electionTimeoutMinMs', electionTimeoutMinMs);
  const electionTimeoutMaxTicks = toTicks('electionTimeoutMaxMs', electionTimeoutMaxMs);
  const heartbeatIntervalTicks = toTicks('heartbeatIntervalMs', heartbeatIntervalMs);
  if (electionTimeoutMaxTicks <= electionTimeoutMinTicks) {
    throw new InvalidConfigError(
      `electionTimeoutMaxMs (${electionTimeoutMaxMs}) must be greater than electionTimeoutMinMs (${electionTimeoutMinMs}) so timeouts can be randomised; try ${electionTimeoutMinMs * 2}`,
    );
  }
  if (heartbeatIntervalTicks >= electionTimeoutMinTicks) {
    throw new InvalidConfigError(
      `heartbeatIntervalMs (${heartbeatIntervalMs}) must be less than electionTimeoutMinMs (${electionTimeoutMinMs}), or followers time out between heartbeats; try ${Math.max(tickMs, Math.floor(electionTimeoutMinMs / 3 / tickMs) * tickMs)}`,
    );
  }
  return {
    id: config.id,
    random: config.random,
    tickMs,
    electionTimeoutMinMs,
    electionTimeoutMaxMs,
    heartbeatIntervalMs,
    electionTimeoutMinTicks,
    electionTimeoutMaxTicks,
    heartbeatIntervalTicks,
    snapshotThreshold: positiveInteger('snapshotThreshold', config.snapshotThreshold ?? d.snapshotThreshold),
    preVote: config.preVote ?? d.preVote,
    checkQuorum: config.checkQuorum ?? d.checkQuorum,
    maxInflightMessages: positiveInteger('maxInflightMessages', config.maxInflightMessages ?? d.maxInflightMessages),
    maxBatchBytes: positiveInteger('maxBatchBytes', config.maxBatchBytes ?? d.maxBatchBytes),
    maxSnapshotChunkBytes: positiveInteger('maxSnapshotChunkBytes', config.maxSnapshotChunkBytes ?? d.maxSnapshotChunkBytes),
    maxUncommittedEntries: positiveInteger('maxUncommittedEntries', config.maxUncommittedEntries ?? d.maxUncommittedEntries),
    asyncStorageWrites: config.asyncStorageWrites ?? d.asyncStorageWrites,
  };
}
