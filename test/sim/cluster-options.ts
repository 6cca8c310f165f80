/**
 * What a simulated `Cluster` (cluster.ts) is built from (`ClusterOptions`), what it counts
 * (`ClusterStats`), and the bounds its own checks use.
 *
 * @module
 */
import type { RaftConfig } from '../../src/core/config.js';
import type { NodeId } from '../../src/core/types.js';
import type { NetworkProfile } from './network.js';

export interface ClusterOptions {
  seed: number;
  /** Number of nodes, named n1..nN (ignored when nodeIds is given). Default 3. */
  nodes?: number;
  nodeIds?: NodeId[];
  /** The initial configuration. Default: every node a voter. */
  voters?: NodeId[];
  learners?: NodeId[];
  /** Nodes that are not started (to be started later, e.g. before being added). */
  startDown?: NodeId[];
  network?: NetworkProfile;
  raft?: Partial<Omit<RaftConfig, 'id' | 'random'>>;
  /** Take snapshots (and compact the log) when the core says one is due. Default false. */
  snapshots?: boolean;
  /** The command that replays this run, printed with every violation. */
  replay?: string;
  /** The seed to report in violations when `seed` was derived from a run's seed. Default `seed`. */
  reportSeed?: number;
  /**
   * A planted storage bug, for the harness's self-test only: on restart a node forgets its vote
   * (`'vote'`) or the last entry it persisted (`'lastEntry'`). The checker must notice.
   */
  amnesia?: 'vote' | 'lastEntry';
  /** Events kept for the violation dump. Default {@link traceEventsMax}. */
  traceEvents?: number;
  /**
   * A resumed node skips the ticks it missed (a tick driver that counts timer callbacks instead of
   * measuring elapsed time). Only to show what that does to lease reads; default false.
   */
  resumeWithoutCatchUp?: boolean;
}

export interface ClusterStats {
  ticks: number;
  deliveries: number;
  crashes: number;
  restarts: number;
  partitions: number;
  proposals: number;
  proposalsRejected: number;
  reads: number;
  readsRejected: number;
  confChanges: number;
  transfers: number;
  snapshotsTaken: number;
  snapshotsInstalled: number;
  messagesSent: number;
}

/** Width of the buckets in which message bursts are counted. */
export const stormWindowMs = 100;
/**
 * Most messages a cluster may send in one {@link stormWindowMs}: far above any real load the
 * workload creates (a few hundred at most for 7 nodes), far below an amplification storm.
 */
export const stormMessagesMax = 5_000;

/** Ticks a leader may stay leader after applying its own removal. */
export const removedLeaderTicksMax = 5;
/** Trace events kept for the dump. */
export const traceEventsMax = 60;
