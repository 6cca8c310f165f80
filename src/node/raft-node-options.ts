/**
 * The options of a {@link RaftNode}.
 * @module
 */
import type { RaftConfig } from '../core/config.js';
import type { NodeId } from '../core/types.js';
import type { StorageFullError } from '../storage/errors.js';
import type { LogStore } from '../storage/log-store.js';
import type { NetworkInterface } from '../transport/types.js';
import type { Clock } from '../util/clock.js';
import type { NodeFatalError } from './errors.js';
import type { MemberEndpoints } from './members.js';
import type { SnapshotPersistence } from './snapshot-persistence.js';
import type { StateMachine } from './state-machine.js';

export interface RaftNodeOptions<Result> {
  id: NodeId;
  /**
   * The voters of a new cluster (this node included): on its first start the node writes them to
   * its log as the cluster's first entries (see `bootstrapEntries`). Ignored once the log or a
   * snapshot holds a configuration, and with `join`.
   */
  voters: NodeId[];
  /** Learners of a new cluster. */
  learners?: NodeId[];
  /**
   * This node is new to a running cluster: it starts with an empty log and no configuration (so it
   * never campaigns) and learns the configuration from the leader's log or snapshot once a member
   * adds it (`addNode`).
   */
  join?: boolean;
  /**
   * Known members' addresses (this node's included, so it can tell others where it listens).
   * Members added later bring theirs in the membership change; a snapshot carries them all.
   */
  members?: Record<NodeId, MemberEndpoints>;
  /** Called once this node has applied its own removal from the cluster (it may then shut down). */
  onRemoved?: () => void;
  /**
   * After its log store reports a full disk (`StorageFullError`), the node suspends its part in
   * Raft and retries this often, restarting from its durable state (default 5000 ms).
   */
  storageFullRetryMs?: number;
  /**
   * Closes the log store and opens it again (its owner knows how), for the retry after a full
   * disk: a store whose write failed may refuse writes until reopened. Without it the same store
   * is retried. Resolves with the store to use from then on.
   */
  reopenLogStore?: () => Promise<LogStore>;
  logStore: LogStore;
  network: NetworkInterface;
  stateMachine: StateMachine<Result>;
  /** Where state machine snapshots are kept. Default: in memory (not durable). */
  snapshots?: SnapshotPersistence;
  /** Raft timing and limits (`electionTimeoutMinMs`, `heartbeatIntervalMs`, `snapshotThreshold`, …). */
  raft?: Omit<RaftConfig, 'id' | 'random'>;
  clock?: Clock;
  /** The core's randomness (election timeouts). Default Math.random; tests pass a seeded one. */
  random?: () => number;
  /**
   * Largest proposal, bytes. The core bounds batches, not entries; one entry must still fit in
   * one transport frame and one log record. Default 8 MiB.
   */
  proposalBytesMax?: number;
  /**
   * A snapshot costs about as much as the state it holds, so past `raft.snapshotThreshold` entries
   * one is taken only once the entries applied since the last one hold at least this fraction of
   * its bytes (default 0.5). A large state written in small entries is then snapshotted about once
   * per half its size of log, not every `snapshotThreshold` entries (with 200,000 cache keys: a
   * 24 MB snapshot per 1 MB of log, and the elections its stalls caused on two cores); the log
   * kept in memory meanwhile stays under half the state's size. 0: every `snapshotThreshold`.
   */
  snapshotLogRatio?: number;
  /** Called when the node suspends itself on a full disk (and again on every failed retry). */
  onStorageFull?: (error: StorageFullError) => void;
  /** Called once if the node stops on a fatal error (e.g. its disk failed). */
  onFatal?: (error: NodeFatalError) => void;
}

/** What a {@link RaftNode} reports for metrics (see `RaftNode.observe`). Called on the hot path: keep it cheap. */
export interface RaftNodeObserver {
  /** One durable log write (one Ready's entries and hard state): how long it took, how many entries. */
  logSaved?(seconds: number, entries: number): void;
  /** A Raft RPC this node sent was answered (`ok`) or failed, after `seconds`. */
  rpcCompleted?(type: 'RequestVote' | 'AppendEntries' | 'InstallSnapshot' | 'TimeoutNow', seconds: number, ok: boolean): void;
  /** Committed entries handed to the state machine in one batch. */
  applied?(entries: number): void;
}
