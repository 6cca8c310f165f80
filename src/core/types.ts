/**
 * Raft's data types: log entries, hard state, cluster configuration and the RPC messages.
 *
 * These are the types every layer shares. The core speaks them; the codec knows how to put them on
 * the wire; storage persists entries and hard state; transports carry the RPCs. Field names follow
 * the Raft paper (`term`, `candidateId`, `lastLogIndex`, `prevLogIndex`, `leaderCommit`,
 * `lastIncludedIndex`, …).
 *
 * Every message is a flat object with `type`, `from`, `to` and `term`, so one object is both a core
 * message (for `step()`) and the paper-shaped RPC body a transport sends (`sendAppendEntries(to, msg)`).
 *
 * Invariant: every index and term is a non-negative safe integer (≤ 2^53−1). The codec and storage
 * validate this at the gateway; inner code trusts it.
 *
 * @module
 */

/** A node's identity in the cluster. Non-empty, at most {@link NODE_ID_BYTES_MAX} UTF-8 bytes. */
export type NodeId = string;

/** Largest node id, in UTF-8 bytes, that the wire format and storage accept. */
export const NODE_ID_BYTES_MAX = 255;

/**
 * What an entry carries. `normal` is application data (an empty `normal` entry is the no-op a new
 * leader appends to commit entries of earlier terms); `confChange` carries an encoded
 * {@link ConfChange}.
 */
export type EntryType = 'normal' | 'confChange';

/** One log entry. `data` is owned by whoever produced it; receivers treat it as read-only. */
export interface Entry {
  index: number;
  term: number;
  type: EntryType;
  data: Uint8Array;
}

/**
 * The state Raft must persist before it answers any message (paper Figure 2: currentTerm, votedFor),
 * plus the commit index so a restarted node need not re-learn it.
 */
export interface HardState {
  term: number;
  /** Who this node voted for in `term`, or null. */
  vote: NodeId | null;
  commit: number;
}

/** The members of the cluster. A node is in at most one of the lists. */
export interface ClusterConfig {
  voters: NodeId[];
  learners: NodeId[];
}

/** One membership change. Applied one server at a time (see docs/membership.md). */
export interface ConfChange {
  type: 'addVoter' | 'addLearner' | 'removeNode' | 'promoteLearner';
  nodeId: NodeId;
  /**
   * Opaque bytes replicated with the change, as etcd's `ConfChange.Context`: the core never reads
   * them. The node runtime carries the new member's addresses here, so every replica (and every
   * later snapshot) learns where the member listens. At most {@link CONF_CHANGE_CONTEXT_BYTES_MAX}.
   */
  context?: Uint8Array;
}

/** Largest {@link ConfChange.context}, bytes: room for addresses, not for data. */
export const CONF_CHANGE_CONTEXT_BYTES_MAX = 4096;

/** What a snapshot covers: the last entry folded into it and the configuration at that point. */
export interface SnapshotMeta {
  lastIncludedIndex: number;
  lastIncludedTerm: number;
  config: ClusterConfig;
}

/** A whole snapshot: its metadata and the state machine's bytes. */
export interface Snapshot {
  meta: SnapshotMeta;
  data: Uint8Array;
}

/** Fields every message has. */
interface MessageBase {
  from: NodeId;
  to: NodeId;
  term: number;
}

/**
 * RequestVote (§5.2), also used for pre-vote (thesis §9.6): with `preVote` set the receiver answers
 * as if the candidate's `term` were real but changes none of its own state.
 */
export interface RequestVoteRequest extends MessageBase {
  type: 'RequestVote';
  candidateId: NodeId;
  lastLogIndex: number;
  lastLogTerm: number;
  preVote: boolean;
  /** Set when the vote is asked for because of a leadership transfer: voters ignore their lease. */
  leadershipTransfer: boolean;
}

export interface RequestVoteResponse extends MessageBase {
  type: 'RequestVoteResponse';
  voteGranted: boolean;
  preVote: boolean;
}

/**
 * AppendEntries (§5.3); with no entries it is the heartbeat. `context` is the ReadIndex round a
 * heartbeat confirms (0 when none); followers echo it back.
 */
export interface AppendEntriesRequest extends MessageBase {
  type: 'AppendEntries';
  leaderId: NodeId;
  prevLogIndex: number;
  prevLogTerm: number;
  entries: Entry[];
  leaderCommit: number;
  context: number;
}

/**
 * Answer to AppendEntries. On success `lastLogIndex` is the index of the last entry the follower now
 * has that matches the leader (its matchIndex); on rejection it is the `prevLogIndex` rejected, so
 * the leader can tell a stale rejection from the one its progress waits on. On rejection the conflict hints let the leader skip
 * a whole term at a time (thesis §5.3 "fast backup"): `conflictTerm` is the term of the follower's
 * entry at `prevLogIndex` (0 if it has none) and `conflictIndex` the first index it holds of that
 * term (or its last index + 1 when its log is too short).
 */
export interface AppendEntriesResponse extends MessageBase {
  type: 'AppendEntriesResponse';
  success: boolean;
  lastLogIndex: number;
  conflictIndex: number;
  conflictTerm: number;
  context: number;
}

/**
 * InstallSnapshot (§7), chunked: `data` is the chunk at byte `offset`; `done` marks the last one.
 * `config` is the configuration as of `lastIncludedIndex`.
 */
export interface InstallSnapshotRequest extends MessageBase {
  type: 'InstallSnapshot';
  leaderId: NodeId;
  lastIncludedIndex: number;
  lastIncludedTerm: number;
  offset: number;
  data: Uint8Array;
  done: boolean;
  config: ClusterConfig;
}

/** Answer to one InstallSnapshot chunk: how many bytes the follower holds so far (the next offset). */
export interface InstallSnapshotResponse extends MessageBase {
  type: 'InstallSnapshotResponse';
  lastIncludedIndex: number;
  bytesReceived: number;
  success: boolean;
}

/** Leadership transfer: tells the target to start an election at once (thesis §3.10). */
export interface TimeoutNowRequest extends MessageBase {
  type: 'TimeoutNow';
  leaderId: NodeId;
}

/** Every message the core sends or receives. */
export type Message =
  | RequestVoteRequest
  | RequestVoteResponse
  | AppendEntriesRequest
  | AppendEntriesResponse
  | InstallSnapshotRequest
  | InstallSnapshotResponse
  | TimeoutNowRequest;

export type MessageType = Message['type'];

/** Role of a node. */
export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';
