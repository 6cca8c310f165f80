/**
 * The Raft protocol state machine: roles, terms, time and the dispatch of every message.
 * Elections (campaign, votes, check-quorum, lease) are in election.ts; replication on the leader
 * (progress, snapshots in chunks, commit) in replication.ts, on the follower in follower.ts; reads
 * in read-only.ts; the API and Ready assembly in raw-node.ts.
 *
 * Nothing here performs I/O: outgoing messages collect in `msgs`, entries in the in-memory log,
 * and RawNode hands both to the caller in a Ready.
 *
 * @module
 */
import { applyConfChange, confChangeProblem, copyConfig, decodeConfChange } from './conf-change.js';
import type { ResolvedRaftConfig } from './config.js';
import { campaign, handleRequestVote, handleRequestVoteResponse, inLease, quorumActive } from './election.js';
import { assert, assertNever, NotLeaderError, ProposalDroppedError } from './errors.js';
import { handleAppendEntries, handleInstallSnapshot, type IncomingSnapshot } from './follower.js';
import { Progress } from './progress.js';
import { RaftLog } from './raft-log.js';
import { PENDING_READS_MAX, ReadOnly } from './read-only.js';
import type { ReadState } from './ready.js';
import {
  bcastHeartbeat,
  retryReadRound,
  sendCommitNews,
  committedInTerm,
  flushLeader,
  handleAppendEntriesResponse,
  handleInstallSnapshotResponse,
} from './replication.js';
import type {
  ClusterConfig,
  ConfChange,
  Entry,
  HardState,
  Message,
  NodeId,
  Role,
  Snapshot,
} from './types.js';

const EMPTY = new Uint8Array(0);

export interface RaftInit {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
  config: ClusterConfig;
  applied?: number;
}

export class Raft {
  readonly id: NodeId;
  readonly cfg: ResolvedRaftConfig;
  term = 0;
  vote: NodeId | null = null;
  leaderId: NodeId | null = null;
  role: Role = 'follower';
  readonly log: RaftLog;
  /** The configuration in force: that of the last confChange entry in the log, else the snapshot's. */
  config: ClusterConfig;
  /** The configuration as of log.snapshotIndex. */
  snapshotConfig: ClusterConfig;
  /** Index of the confChange entry `config` comes from (≤ snapshotIndex when it is the snapshot's). */
  configIndex: number;
  /** Term of that confChange entry, or -1 when the configuration is the snapshot's. */
  configTerm = -1;
  /** The latest complete snapshot this node holds (sent to followers that fell behind). */
  snapshot: Snapshot | null;
  /** A snapshot installed from the leader, not yet handed out in a Ready. */
  receivedSnapshot: Snapshot | null = null;
  /** A snapshot from the leader being received in chunks (follower.ts). */
  incomingSnapshot: IncomingSnapshot | null = null;

  /** Leader only: every other member's progress, in config order (and that of retirees, below). */
  readonly progress = new Map<NodeId, Progress>();
  /**
   * Leader only: members just removed, whose progress is kept so the removal (and the commit that
   * makes it final) still reaches them and they can shut down, instead of waiting forever for a
   * leader that stopped talking to them. Value: the tick after which to forget them (Infinity
   * while the removal is uncommitted). Quorums never count them: they only iterate `config.voters`.
   */
  readonly retirees = new Map<NodeId, number>();
  readonly votes = new Map<NodeId, boolean>();
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  readonly readOnly: ReadOnly;
  /** ReadIndex requests made before the leader committed an entry of its term (thesis §6.4 step 1). */
  readsAwaitingTermCommit: number[] = [];
  /**
   * The round of the last heartbeat broadcast: pending reads waiting for a round ≤ it are in
   * flight; one waiting for a later round needs a broadcast (see flushLeader).
   */
  readRoundSent = 0;
  /** Leader was removed from the configuration and the change committed: step down after the next flush. */
  stepDownPending = false;

  /** Ticks since this node started (for leases). */
  tickCount = 0;
  /** tickCount when a leader last reached this node (see inLease). */
  leaderContactTick = 0;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  leadTransferee: NodeId | null = null;
  /**
   * This leader sent TimeoutNow in its term: the target may win an election without waiting out
   * any lease, so lease reads fall back to ReadIndex for the rest of the term.
   */
  leaseVoided = false;
  readonly scratch = new Float64Array(16);
  /** Reused by `readRoundTargets` (replication.ts). */
  readonly readRoundTargetsScratch: NodeId[] = [];

  constructor(cfg: ResolvedRaftConfig, init: RaftInit) {
    this.id = cfg.id;
    this.cfg = cfg;
    const snapshotIndex = init.snapshot?.meta.lastIncludedIndex ?? 0;
    const snapshotTerm = init.snapshot?.meta.lastIncludedTerm ?? 0;
    const entries = init.entries.filter((e) => e.index > snapshotIndex);
    const commit = Math.max(init.hardState.commit, snapshotIndex);
    this.log = new RaftLog(snapshotIndex, snapshotTerm, entries, commit);
    if (init.applied !== undefined && init.applied > snapshotIndex) this.log.restoreApplied(init.applied);
    this.snapshot = init.snapshot;
    this.snapshotConfig = copyConfig(init.snapshot?.meta.config ?? init.config);
    this.config = this.snapshotConfig;
    this.configIndex = snapshotIndex;
    this.refreshConfig();
    this.term = init.hardState.term;
    this.vote = init.hardState.vote;
    if (this.term < this.log.lastTerm()) {
      // A torn write: the entries of a Ready reached the disk, its hard state did not. Every
      // message of that Ready waited for both (ready.ts rule 2), so no vote of the newer term left
      // this node: adopting the log's last term with no vote promises nothing twice.
      this.term = this.log.lastTerm();
      this.vote = null;
    }
    this.readOnly = new ReadOnly(0);
    this.resetRandomizedElectionTimeout();
  }

  // ---- configuration -------------------------------------------------------------------------

  isVoter(id: NodeId = this.id): boolean {
    return this.config.voters.includes(id);
  }

  /** The configuration as of `index` (≥ snapshotIndex): the snapshot's, then every confChange entry ≤ index. */
  configAt(index: number): ClusterConfig {
    assert(index >= this.log.snapshotIndex, () => `configAt(${index}) below the snapshot ${this.log.snapshotIndex}`);
    let config = this.snapshotConfig;
    for (const ci of this.log.confIndexes) {
      if (ci > index) break;
      config = applyLenient(config, this.log.entry(ci));
    }
    return config;
  }

  /**
   * Recomputes `config` after the log's confChange entries changed (appended, or truncated by a new
   * leader: the configuration then reverts to the last one still in the log).
   */
  refreshConfig(): void {
    const log = this.log;
    const confIndexes = log.confIndexes;
    const lastConfIndex = confIndexes.length > 0 ? confIndexes[confIndexes.length - 1] : log.snapshotIndex;
    // An entry is identified by index and term: a new leader may put another change at the same index.
    const lastConfTerm = confIndexes.length > 0 ? log.entry(lastConfIndex).term : -1;
    if (lastConfIndex === this.configIndex && lastConfTerm === this.configTerm) return;
    this.configIndex = lastConfIndex;
    this.configTerm = lastConfTerm;
    this.config = this.configAt(log.lastIndex());
    if (this.role === 'leader') this.syncProgress();
  }

  /** Leader: a Progress for every member but itself, none for non-members. */
  syncProgress(): void {
    const members = [...this.config.voters, ...this.config.learners];
    for (const id of members) {
      if (id !== this.id && !this.progress.has(id)) {
        this.progress.set(id, new Progress(this.log.lastIndex() + 1, this.cfg.maxInflightMessages));
      }
    }
    for (const id of members) this.retirees.delete(id);
    const removalCommitted = this.configIndex <= this.log.commitIndex;
    for (const id of [...this.progress.keys()]) {
      if (members.includes(id)) continue;
      if (removalCommitted) {
        this.progress.delete(id);
        this.retirees.delete(id);
      } else this.retirees.set(id, Infinity);
    }
    if (this.leadTransferee !== null && !this.isVoter(this.leadTransferee)) this.leadTransferee = null;
  }

  // ---- roles ---------------------------------------------------------------------------------

  private reset(term: number): void {
    if (term !== this.term) {
      assert(term > this.term, () => `term going backwards: ${this.term} → ${term}`);
      this.term = term;
      this.vote = null;
    }
    this.leaderId = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = null;
    this.leaseVoided = false;
    this.votes.clear();
    this.progress.clear();
    this.retirees.clear();
    this.readOnly.reset();
    this.readsAwaitingTermCommit = [];
    this.stepDownPending = false;
  }

  private resetRandomizedElectionTimeout(): void {
    const { electionTimeoutMinTicks: min, electionTimeoutMaxTicks: max } = this.cfg;
    const r = this.cfg.random();
    assert(r >= 0 && r < 1, () => `random() returned ${r}, expected a float in [0, 1)`);
    this.randomizedElectionTimeout = min + Math.floor(r * (max - min));
  }

  becomeFollower(term: number, leaderId: NodeId | null): void {
    this.reset(term);
    this.role = 'follower';
    this.leaderId = leaderId;
  }

  becomePreCandidate(): void {
    assert(this.role !== 'leader', 'invalid transition [leader -> preCandidate]');
    // Pre-vote changes neither term nor vote (thesis §9.6): a partitioned node cannot inflate terms.
    this.votes.clear();
    this.leaderId = null;
    this.role = 'preCandidate';
  }

  becomeCandidate(): void {
    assert(this.role !== 'leader', 'invalid transition [leader -> candidate]');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  becomeLeader(): void {
    assert(this.role === 'candidate', () => `invalid transition [${this.role} -> leader]`);
    this.reset(this.term);
    this.role = 'leader';
    this.leaderId = this.id;
    this.syncProgress();
    // Acknowledgements of a fresh round give this term's first lease and read confirmations.
    this.readOnly.nextRound(this.tickCount);
    // The no-op of the new term: entries of earlier terms commit only with it (Figure 8).
    this.appendEntry('normal', EMPTY);
    if (!this.isVoter() && this.log.commitIndex >= this.configIndex) this.stepDownPending = true;
  }

  /** Starts an election (or a pre-vote round first). */
  hup(leadershipTransfer: boolean): void {
    if (this.role === 'leader' || !this.isVoter()) return;
    if (this.cfg.preVote && !leadershipTransfer) campaign(this, true, false);
    else campaign(this, false, leadershipTransfer);
  }

  // ---- time ----------------------------------------------------------------------------------

  tick(): void {
    this.tickCount++;
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.isVoter() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTimeoutMinTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum && !quorumActive(this)) {
        this.becomeFollower(this.term, null);
        return;
      }
      // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
      this.leadTransferee = null;
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatIntervalTicks) {
      this.heartbeatElapsed = 0;
      bcastHeartbeat(this);
    } else {
      retryReadRound(this);
      sendCommitNews(this);
    }
    for (const [id, untilTick] of this.retirees) {
      if (this.tickCount > untilTick) {
        this.retirees.delete(id);
        this.progress.delete(id);
      }
    }
  }

  // ---- messages ------------------------------------------------------------------------------

  step(m: Message): void {
    if (m.to !== this.id || m.from === this.id) return;
    if (m.term > this.term) {
      if (m.type === 'RequestVote' && !m.leadershipTransfer && inLease(this)) {
        // Thesis §4.2.3: while we believe a leader is alive, ignore elections, so a removed or
        // partitioned server cannot depose it by bumping terms. (etcd does this only with
        // check-quorum; a stale leader still learns of higher terms through answerStaleTerm.)
        return;
      }
      const keepsTerm = (m.type === 'RequestVote' && m.preVote) || (m.type === 'RequestVoteResponse' && m.preVote && m.voteGranted);
      if (!keepsTerm) {
        const fromLeader = m.type === 'AppendEntries' || m.type === 'InstallSnapshot' || m.type === 'TimeoutNow';
        const electionElapsed = this.electionElapsed;
        const wasLeader = this.role === 'leader';
        this.becomeFollower(m.term, fromLeader ? m.from : null);
        // Figure 2: only a current leader or a granted vote resets the election timer. A stale or
        // removed candidate bumping our term must not keep postponing our own election.
        if (!fromLeader && !wasLeader) this.electionElapsed = electionElapsed;
      }
    } else if (m.term < this.term) {
      this.answerStaleTerm(m);
      return;
    }
    if (m.type === 'RequestVote') {
      handleRequestVote(this, m);
      return;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        break;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m);
        break;
      case 'follower':
        this.stepFollower(m);
        break;
      default:
        assertNever(this.role, 'role');
    }
  }

  /**
   * A message from an older term. A stale leader (e.g. back from a partition) or a stale candidate
   * learns our term from the answer and steps down; other stale messages are dropped.
   */
  private answerStaleTerm(m: Message): void {
    if (m.type === 'AppendEntries') {
      this.msgs.push({
        type: 'AppendEntriesResponse', from: this.id, to: m.from, term: this.term, success: false,
        lastLogIndex: m.prevLogIndex, conflictIndex: 0, conflictTerm: 0, context: 0,
      });
    } else if (m.type === 'RequestVote') {
      // Figure 2: the answer carries our term, so a candidate that fell behind catches up at once
      // instead of colliding with our term again and again.
      this.msgs.push({ type: 'RequestVoteResponse', from: this.id, to: m.from, term: this.term, voteGranted: false, preVote: m.preVote });
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'RequestVote':
      case 'RequestVoteResponse':
      case 'TimeoutNow':
        return;
      case 'AppendEntries':
      case 'InstallSnapshot':
        // Election safety: at most one leader per term.
        assert(false, () => `two leaders in term ${this.term}: ${this.id} and ${m.from}`);
        return;
      case 'AppendEntriesResponse':
        handleAppendEntriesResponse(this, m);
        return;
      case 'InstallSnapshotResponse':
        handleInstallSnapshotResponse(this, m);
        return;
      default:
        assertNever(m, 'message');
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'RequestVote':
      case 'AppendEntriesResponse':
      case 'InstallSnapshotResponse':
      case 'TimeoutNow':
        return;
      case 'RequestVoteResponse':
        handleRequestVoteResponse(this, m);
        return;
      case 'AppendEntries':
        this.becomeFollower(m.term, m.from);
        this.heardFromLeader(m.from);
        handleAppendEntries(this, m);
        return;
      case 'InstallSnapshot':
        this.becomeFollower(m.term, m.from);
        this.heardFromLeader(m.from);
        handleInstallSnapshot(this, m);
        return;
      default:
        assertNever(m, 'message');
    }
  }

  private heardFromLeader(leaderId: NodeId): void {
    this.electionElapsed = 0;
    this.leaderId = leaderId;
    this.leaderContactTick = this.tickCount;
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'RequestVote':
      case 'RequestVoteResponse':
      case 'AppendEntriesResponse':
      case 'InstallSnapshotResponse':
        return;
      case 'AppendEntries':
        this.heardFromLeader(m.from);
        handleAppendEntries(this, m);
        return;
      case 'InstallSnapshot':
        this.heardFromLeader(m.from);
        handleInstallSnapshot(this, m);
        return;
      case 'TimeoutNow':
        // The leader asks us to take over (thesis §3.10): campaign at once, skipping pre-vote.
        this.hup(true);
        return;
      default:
        assertNever(m, 'message');
    }
  }

  // ---- client work ---------------------------------------------------------------------------

  appendEntry(type: Entry['type'], data: Uint8Array): number {
    const index = this.log.lastIndex() + 1;
    this.log.appendOne({ index, term: this.term, type, data });
    return index;
  }

  readIndex(context: number): void {
    if (this.role !== 'leader') throw new NotLeaderError(this.leaderId);
    if (this.readOnly.pendingCount + this.readsAwaitingTermCommit.length >= PENDING_READS_MAX) {
      throw new ProposalDroppedError(`${PENDING_READS_MAX} reads are waiting for confirmation (PENDING_READS_MAX); retry later`);
    }
    if (!committedInTerm(this)) {
      this.readsAwaitingTermCommit.push(context);
      return;
    }
    if (this.config.voters.length === 1 && this.isVoter()) {
      this.readStates.push({ context, index: this.log.commitIndex });
      return;
    }
    // Confirmed by acknowledgements of the next round, which the next flush broadcasts.
    this.readOnly.add(context, this.log.commitIndex, this.readOnly.round + 1);
  }

  /** The caller made `lastIndex` durable (advance()): a leader counts its own log from here. */
  onPersisted(): void {
    if (this.role === 'leader') {
      flushLeader(this);
    }
  }

  flush(): void {
    if (this.role === 'leader') flushLeader(this);
  }
}

/** Applies a logged change; one that does not apply is skipped the same way on every node. */
function applyLenient(config: ClusterConfig, entry: Entry): ClusterConfig {
  let change: ConfChange;
  try {
    change = decodeConfChange(entry.data);
  } catch {
    return config;
  }
  return confChangeProblem(config, change) === null ? applyConfChange(config, change) : config;
}
