/**
 * RawNode: the synchronous API of the Raft core (etcd's rawnode.go). The caller feeds it time
 * (`tick`), messages (`step`) and client work (`propose`, `readIndex`, …), collects what to do with
 * `ready()`, does it in the order ready.ts describes, and acknowledges with `advance()`.
 *
 * @example
 * ```ts
 * const prng = new Prng(7);
 * const node = new RawNode({ id: 'n1', random: () => prng.next() }, {
 *   hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [],
 *   config: { voters: ['n1', 'n2', 'n3'], learners: [] },
 * });
 * node.tick();
 * while (node.hasReady()) {
 *   const rd = node.ready();
 *   storage.save(rd.snapshot, rd.entries, rd.hardState);
 *   for (const m of rd.messages) network.send(m);
 *   for (const e of rd.committedEntries) stateMachine.apply(e);
 *   node.advance();
 * }
 * ```
 *
 * @module
 */
import { copyConfig, sameConfig } from './conf-change.js';
import { type RaftConfig, resolveRaftConfig, type ResolvedRaftConfig } from './config.js';
import { assert, InvalidRestoredStateError, InvalidSnapshotError } from './errors.js';
import type { ProgressState } from './progress.js';
import { Raft } from './raft.js';
import type { Ready, SoftState } from './ready.js';
import { becomeProbe } from './replication.js';
import { leaseRead, leaseReadIndex, propose, proposeConfChange, transferLeader } from './requests.js';
import { validateMessage } from './validate.js';
import type { ClusterConfig, ConfChange, Entry, HardState, Message, NodeId, Role, Snapshot } from './types.js';

export { resolveRaftConfig } from './config.js';
export { decodeConfChange, encodeConfChange } from './conf-change.js';

/** Everything a node persisted, from which it restarts. Nothing else survives a crash. */
export interface RestoredState {
  /** `{ term: 0, vote: null, commit: 0 }` for a new node. */
  hardState: HardState;
  /** The last persisted snapshot (meta and data), or null. */
  snapshot: Snapshot | null;
  /** The persisted log after the snapshot, in order (entries at or below the snapshot are ignored). */
  entries: Entry[];
  /** The initial cluster config, used only when neither the snapshot nor the log carries one. */
  config: ClusterConfig;
  /**
   * Entries up to this index are already in the caller's state machine (etcd's `Config.Applied`):
   * they are not handed out again in `committedEntries`. For a node restarted in the same process
   * whose state machine survived. Default: the snapshot's index. Must be ≤ the hard state's commit.
   */
  applied?: number;
}

export interface ProgressStatus {
  matchIndex: number;
  nextIndex: number;
  state: ProgressState;
}

export interface RaftStatus {
  id: NodeId;
  role: Role;
  term: number;
  leaderId: NodeId | null;
  vote: NodeId | null;
  commitIndex: number;
  appliedIndex: number;
  lastIndex: number;
  /** Term of the entry at `lastIndex` (the snapshot's term when the log is empty past it). */
  lastTerm: number;
  firstIndex: number;
  config: ClusterConfig;
  /** Leader only (null otherwise): every other member's replication progress. */
  progress: Map<NodeId, ProgressStatus> | null;
  /** The follower a leadership transfer is under way to, or null. */
  leadTransferee: NodeId | null;
}

const NO_ENTRIES: Entry[] = [];

export class RawNode {
  readonly config: ResolvedRaftConfig;
  private readonly raft: Raft;
  private prevHardState: HardState;
  private prevSoftState: SoftState;
  /** What the outstanding Ready handed out, for advance(). */
  private readyOutstanding = false;
  private readyLastIndex = 0;
  private readyLastTerm = 0;
  private readyApplying = 0;

  /**
   * Builds a node from its persisted state (see {@link RestoredState}). Throws
   * {@link InvalidConfigError} for a bad config and {@link InvalidRestoredStateError} when the
   * restored state is inconsistent.
   */
  constructor(config: RaftConfig, restored: RestoredState) {
    this.config = resolveRaftConfig(config);
    validateRestored(restored);
    this.raft = new Raft(this.config, restored);
    this.prevHardState = { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.commitIndex };
    this.prevSoftState = { role: this.raft.role, leaderId: this.raft.leaderId };
  }

  /**
   * One logical tick (`tickMs` of time): drives election timeouts, heartbeats and leases. Derive
   * ticks from elapsed monotonic time and replay missed ones after a pause, before serving reads.
   */
  tick(): void {
    this.raft.tick();
  }

  /**
   * A message addressed to this node. Messages from older terms are answered or dropped. A message
   * that breaks Raft's structure throws {@link InvalidMessageError} before changing anything.
   */
  step(message: Message): void {
    validateMessage(message);
    this.raft.step(message);
  }

  /**
   * Appends `data` to the leader's log and returns its index. Sent to followers with the next Ready.
   * Throws {@link NotLeaderError} (with the leader hint) on a follower or candidate, and
   * {@link ProposalDroppedError} during a leadership transfer or past `maxUncommittedEntries`.
   */
  propose(data: Uint8Array): number {
    return propose(this.raft, data);
  }

  /**
   * Proposes one membership change; it takes effect on each node when appended to its log (see
   * docs/membership.md). Throws {@link ProposalDroppedError} while another change is uncommitted
   * or before the leader committed an entry of its term; {@link ConfChangeRejectedError} when the
   * change does not fit the configuration (e.g. removing the last voter).
   */
  proposeConfChange(change: ConfChange): number {
    return proposeConfChange(this.raft, change);
  }

  /**
   * A linearizable read (ReadIndex, thesis §6.4): a ReadState `{ context, index }` comes out in a
   * later Ready once a quorum confirmed this leader; serve the read when applied ≥ index.
   * Throws {@link NotLeaderError} on a follower, {@link ProposalDroppedError} when
   * `PENDING_READS_MAX` reads already wait. Reads still unconfirmed when leadership is lost are
   * dropped without an answer (time out and retry).
   */
  readIndex(context: number): void {
    this.raft.readIndex(context);
  }

  /**
   * A lease-based read: with check-quorum on and a valid lease the ReadState is ready at once;
   * otherwise this falls back to {@link RawNode.readIndex}.
   */
  leaseRead(context: number): void {
    leaseRead(this.raft, context);
  }

  /**
   * The read index a {@link leaseRead} would be confirmed at without waiting (the commit index),
   * or null when the lease does not hold. Nothing is registered: a caller that has applied through
   * the returned index may read its state machine now. Throws `NotLeaderError` on a follower.
   */
  leaseReadIndex(): number | null {
    return leaseReadIndex(this.raft);
  }

  /**
   * Hands leadership to `target` (thesis §3.10): replicate until it is caught up, then send it
   * TimeoutNow. Proposals are dropped meanwhile; the transfer is abandoned after an election timeout.
   */
  transferLeader(target: NodeId): void {
    transferLeader(this.raft, target);
  }

  /**
   * The caller took a state machine snapshot at `snapshot.meta.lastIncludedIndex` (≤ applied),
   * with `meta.config` = {@link RawNode.configAt} that index. The core drops the log up to it and
   * sends these bytes to followers that need entries no longer in the log.
   */
  snapshotTaken(snapshot: Snapshot): void {
    const raft = this.raft;
    const log = raft.log;
    const index = snapshot.meta.lastIncludedIndex;
    if (index <= log.snapshotIndex) return;
    if (index > log.applied) {
      throw new InvalidSnapshotError(`snapshot at ${index} is beyond the applied index ${log.applied}: snapshot only what advance() acknowledged`);
    }
    const term = log.term(index);
    if (term !== snapshot.meta.lastIncludedTerm) {
      throw new InvalidSnapshotError(`snapshot at ${index} has term ${snapshot.meta.lastIncludedTerm}, the log has ${String(term)}`);
    }
    const config = raft.configAt(index);
    if (!sameConfig(config, snapshot.meta.config)) {
      throw new InvalidSnapshotError(
        `snapshot at ${index} has config ${JSON.stringify(snapshot.meta.config)}, expected ${JSON.stringify(config)} (use configAt(${index}))`,
      );
    }
    raft.snapshotConfig = copyConfig(config);
    log.compact(index);
    raft.snapshot = snapshot;
  }

  /** The transport could not reach `peer`: stop pipelining to it and probe instead. */
  reportUnreachable(peer: NodeId): void {
    const pr = this.raft.role === 'leader' ? this.raft.progress.get(peer) : undefined;
    if (pr !== undefined && pr.state === 'replicate') becomeProbe(this.raft, pr);
  }

  /** The current term, without building the whole {@link RawNode.status} (proposals read it). */
  get term(): number {
    return this.raft.term;
  }

  /** True when {@link RawNode.ready} has something to do. */
  hasReady(): boolean {
    const raft = this.raft;
    raft.flush();
    const log = raft.log;
    return (
      raft.msgs.length > 0 ||
      log.unstableFrom <= log.lastIndex() ||
      this.applicableIndex() > log.applying ||
      raft.readStates.length > 0 ||
      raft.receivedSnapshot !== null ||
      raft.role !== this.prevSoftState.role ||
      raft.leaderId !== this.prevSoftState.leaderId ||
      this.hardStateChanged()
    );
  }

  /** The highest committed index that may be handed out to apply: with async writes, only what is durable here. */
  private applicableIndex(): number {
    const log = this.raft.log;
    return this.config.asyncStorageWrites ? Math.min(log.commitIndex, log.persistedIndex) : log.commitIndex;
  }

  private hardStateChanged(): boolean {
    const prev = this.prevHardState;
    const raft = this.raft;
    return raft.term !== prev.term || raft.vote !== prev.vote || raft.log.commitIndex !== prev.commit;
  }

  /**
   * The work to do now (see ready.ts for the order). Call {@link RawNode.advance} when done
   * before asking for the next one.
   */
  ready(): Ready {
    assert(this.config.asyncStorageWrites || !this.readyOutstanding, 'ready() called again before advance()');
    const raft = this.raft;
    raft.flush();
    const log = raft.log;
    let hardState: HardState | null = null;
    let mustSync = false;
    if (this.hardStateChanged()) {
      hardState = { term: raft.term, vote: raft.vote, commit: log.commitIndex };
      mustSync = hardState.term !== this.prevHardState.term || hardState.vote !== this.prevHardState.vote;
      this.prevHardState = hardState;
    }
    let softState: SoftState | null = null;
    if (raft.role !== this.prevSoftState.role || raft.leaderId !== this.prevSoftState.leaderId) {
      softState = { role: raft.role, leaderId: raft.leaderId };
      this.prevSoftState = softState;
    }
    const entries = log.unstableFrom <= log.lastIndex() ? log.unstableEntries() : NO_ENTRIES;
    if (entries.length > 0) mustSync = true;
    const snapshot = raft.receivedSnapshot;
    if (snapshot !== null) mustSync = true;
    raft.receivedSnapshot = null;
    log.unstableFrom = log.lastIndex() + 1;
    const logLastIndex = log.lastIndex();
    const logLastTerm = log.lastTerm();
    this.readyLastIndex = logLastIndex;
    this.readyLastTerm = logLastTerm;
    const committedEntries = log.takeCommitted(Number.POSITIVE_INFINITY, this.applicableIndex());
    this.readyApplying = log.applying;
    const messages = raft.msgs;
    raft.msgs = [];
    const readStates = raft.readStates;
    raft.readStates = [];
    this.readyOutstanding = true;
    return { hardState, softState, entries, snapshot, messages, committedEntries, readStates, mustSync, logLastIndex, logLastTerm };
  }

  /**
   * Acknowledges the last Ready: its entries and hard state are durable and its committed entries
   * applied. A leader counts its own new entries as replicated only from here.
   */
  advance(): void {
    assert(!this.config.asyncStorageWrites, 'advance() with asyncStorageWrites: report persisted() and appliedTo() instead');
    assert(this.readyOutstanding, 'advance() without a ready()');
    this.readyOutstanding = false;
    const log = this.raft.log;
    log.stableTo(this.readyLastIndex, this.readyLastTerm);
    if (this.readyApplying > log.applied) log.applied = Math.min(this.readyApplying, log.applying);
    log.checkInvariants();
    this.raft.onPersisted();
  }

  /**
   * `asyncStorageWrites` only: the writes of the Ready whose `logLastIndex`/`logLastTerm` these are
   * (and of every earlier Ready) are durable. A leader counts its own log as replicated up to
   * there; entries it covers become appliable. Entries overwritten since (a follower's log was
   * truncated by a later Ready) do not count: that later Ready's report covers them.
   *
   * @example
   * ```ts
   * const rd = node.ready();
   * store.save(rd).then(() => node.persisted(rd.logLastIndex, rd.logLastTerm));
   * ```
   */
  persisted(index: number, term: number): void {
    assert(this.config.asyncStorageWrites, 'persisted() without asyncStorageWrites: call advance()');
    const log = this.raft.log;
    log.stableTo(index, term);
    this.raft.onPersisted();
  }

  /**
   * `asyncStorageWrites` only: the state machine has applied every entry up to `index` (handed out
   * in `committedEntries`). Snapshots may be taken up to it.
   */
  appliedTo(index: number): void {
    assert(this.config.asyncStorageWrites, 'appliedTo() without asyncStorageWrites: call advance()');
    const log = this.raft.log;
    if (index > log.applying) assert(false, () => `appliedTo(${index}) beyond what was handed out: ${log.describe()}`);
    if (index > log.applied) log.applied = index;
    log.checkInvariants();
  }

  /** applied − last snapshot index ≥ snapshotThreshold: the caller should take a snapshot now. */
  snapshotDue(): boolean {
    const log = this.raft.log;
    return log.applied - log.snapshotIndex >= this.config.snapshotThreshold;
  }

  /** The configuration as of `index` (≥ the snapshot index): what a snapshot there must record. */
  configAt(index: number): ClusterConfig {
    return copyConfig(this.raft.configAt(index));
  }

  status(): RaftStatus {
    const raft = this.raft;
    const log = raft.log;
    let progress: Map<NodeId, ProgressStatus> | null = null;
    if (raft.role === 'leader') {
      progress = new Map();
      for (const [id, pr] of raft.progress) progress.set(id, { matchIndex: pr.matchIndex, nextIndex: pr.nextIndex, state: pr.state });
    }
    return {
      id: raft.id, role: raft.role, term: raft.term, leaderId: raft.leaderId, vote: raft.vote,
      commitIndex: log.commitIndex, appliedIndex: log.applied, lastIndex: log.lastIndex(), lastTerm: log.lastTerm(), firstIndex: log.firstIndex(),
      config: copyConfig(raft.config), progress, leadTransferee: raft.leadTransferee,
    };
  }
}

function validateRestored(restored: RestoredState): void {
  const snapshotIndex = restored.snapshot?.meta.lastIncludedIndex ?? 0;
  let expected = snapshotIndex + 1;
  let previousTerm = restored.snapshot?.meta.lastIncludedTerm ?? 0;
  for (const entry of restored.entries) {
    if (entry.index <= snapshotIndex) continue;
    if (entry.index !== expected) {
      throw new InvalidRestoredStateError(`restored log has a gap: entry ${entry.index} where ${expected} was expected (snapshot at ${snapshotIndex})`);
    }
    if (entry.term < previousTerm) {
      throw new InvalidRestoredStateError(`restored log goes back in term at ${entry.index}: ${entry.term} after ${previousTerm} (a stale tail kept behind a snapshot?)`);
    }
    previousTerm = entry.term;
    expected++;
  }
  const lastIndex = expected - 1;
  if (restored.applied !== undefined && (restored.applied > Math.max(restored.hardState.commit, snapshotIndex) || restored.applied < 0)) {
    throw new InvalidRestoredStateError(`applied index ${restored.applied} is beyond the commit index ${restored.hardState.commit}`);
  }
  if (restored.hardState.commit > lastIndex) {
    throw new InvalidRestoredStateError(`hard state commit ${restored.hardState.commit} is beyond the last restored entry ${lastIndex}`);
  }
}
