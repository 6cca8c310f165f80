/**
 * Configuration of one Raft core. Times are given in milliseconds, as in the cluster API users know,
 * and turned into tick counts with `tickMs` (the core itself only counts ticks).
 *
 * @example
 * ```ts
 * const config = resolveRaftConfig({ id: 'n1', random: new Prng(1).next.bind(new Prng(1)) });
 * config.electionTimeoutMinTicks // 15 with the defaults (150 ms / 10 ms)
 * ```
 */
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
  /** Largest total entry payload in one AppendEntries. Default 1 MiB. */
  maxBatchBytes?: number;
  /** Largest InstallSnapshot chunk. Default 1 MiB. */
  maxSnapshotChunkBytes?: number;
  /** Proposals accepted but not yet committed before new ones are dropped. Default 10000. */
  maxUncommittedEntries?: number;
  /** The injected seeded generator: a float in [0, 1). The core never calls Math.random. */
  random: () => number;
}

/** A config with every default filled in and times turned into ticks. */
export interface ResolvedRaftConfig extends Required<RaftConfig> {
  electionTimeoutMinTicks: number;
  electionTimeoutMaxTicks: number;
  heartbeatIntervalTicks: number;
}
