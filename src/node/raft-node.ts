/**
 * `RaftNode`: a running Raft member. It drives the pure core (`RawNode`) with a clock, persists what
 * each `Ready` asks to a {@link LogStore}, talks to peers through a {@link NetworkInterface}, and
 * applies committed entries to a {@link StateMachine}.
 *
 * One processing loop (`ReadyLoop`, ready-loop.ts) handles one `Ready` at a time, in the order
 * `src/core/ready.ts` requires: a leader's AppendEntries/InstallSnapshot go out at once; everything
 * else waits until the entries and hard state are durable; then the snapshot is installed,
 * committed entries applied, reads released, and the core told (`advance`). Local snapshots are
 * written in the background (`LocalSnapshots`). This class holds the lifecycle (start, stop, a full
 * disk, a fatal error) and the public API.
 *
 * @example
 * ```ts
 * const node = new RaftNode({
 *   id: 'n1', voters: ['n1', 'n2', 'n3'],
 *   logStore: await LmdbLogStore.open('./data/n1/log'),
 *   network: new UwsNetwork('n1', { port: 7001, nodeAddresses }),
 *   stateMachine: new CacheStateMachine(),
 * });
 * await node.start();
 * const result = await node.propose(command);   // resolves once applied, with apply()'s result
 * await node.readIndex();                        // then read the state machine: linearizable
 * ```
 */
import { assert, NotLeaderError } from '../core/errors.js';
import { RAFT_CONFIG_DEFAULTS } from '../core/config.js';
import { RawNode, type RaftStatus } from '../core/raw-node.js';
import { BOOTSTRAP_TERM, bootstrapEntries } from '../core/conf-change.js';
import type { ClusterConfig, ConfChange, Message, NodeId, Role, Snapshot } from '../core/types.js';
import { StorageFullError } from '../storage/errors.js';
import type { LogStore } from '../storage/log-store.js';
import type { NetworkInterface } from '../transport/types.js';
import { type Clock, type TimerHandle, systemClock } from '../util/clock.js';
import { NodeFatalError, NodeStoppedError, ProposalTooLargeError } from './errors.js';
import { addMember, type MembershipOptions, removeMember } from './membership.js';
import { MemberTracker } from './member-tracker.js';
import type { RaftNodeObserver, RaftNodeOptions } from './raft-node-options.js';
import type { MemberEndpoints } from './members.js';
import { ReadyLoop } from './ready-loop.js';
import { ReadyWrites } from './ready-writes.js';
import { Applier } from './applier.js';
import { RpcBridge } from './rpc-bridge.js';
import { RpcSender } from './rpc-sender.js';
import { LeaderWaiters } from './leader-waiters.js';
import { LocalSnapshots } from './local-snapshots.js';
import { Ticker } from './ticker.js';
import type { ProposalCallback } from './proposal-waiters.js';
import type { ReadCallback } from './read-queue.js';
import { MemorySnapshotPersistence, type SnapshotPersistence } from './snapshot-persistence.js';
import type { StateMachine } from './state-machine.js';

const PROPOSAL_BYTES_MAX_DEFAULT = 8 * 1024 * 1024;
const STORAGE_FULL_RETRY_MS_DEFAULT = 5_000;
const SNAPSHOT_LOG_RATIO_DEFAULT = 0.5;

export class RaftNode<Result = unknown> {
  readonly id: NodeId;
  private readonly options: RaftNodeOptions<Result>;
  private readonly clock: Clock;
  private readonly snapshots: SnapshotPersistence;
  private readonly bridge = new RpcBridge();
  private readonly members: MemberTracker;
  private observer: RaftNodeObserver | undefined;
  private core: RawNode | undefined;
  /** The log store in use: `options.logStore`, or the one `reopenLogStore` gave after a full disk. */
  private logStore: LogStore;
  private running = false;
  /** Set while the node sits out a full disk: no ticks, no messages, proposals refused. */
  private storageFull: StorageFullError | undefined;
  private storageFullTimer: TimerHandle | undefined;
  private readonly ticker: Ticker;
  /** Works through the core's Readys, one at a time (ready-loop.ts). */
  private readonly loop: ReadyLoop<Result>;
  /** When this node snapshots its state machine, and the one being written. */
  private readonly localSnapshots: LocalSnapshots;
  /** What each Ready writes, and (asynchronous writes) the in-order chain of their follow-ups. */
  private readonly writes = new ReadyWrites();
  private fatal: NodeFatalError | undefined;
  private role: Role = 'follower';
  private leaderId: NodeId | null = null;
  private leaderChanges = 0;
  /** Committed entries to the state machine, snapshots installed, proposals and reads settled. */
  private readonly applier: Applier<Result>;
  private readonly sender: RpcSender;
  private readonly leaderWaiters: LeaderWaiters;

  constructor(options: RaftNodeOptions<Result>) {
    this.id = options.id;
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.snapshots = options.snapshots ?? new MemorySnapshotPersistence();
    this.logStore = options.logStore;
    this.leaderWaiters = new LeaderWaiters(this.clock);
    this.localSnapshots = new LocalSnapshots(this.snapshots, options.snapshotLogRatio ?? SNAPSHOT_LOG_RATIO_DEFAULT);
    this.ticker = new Ticker(this.clock, options.raft?.tickMs ?? 10, options.raft?.electionTimeoutMaxMs ?? RAFT_CONFIG_DEFAULTS.electionTimeoutMaxMs, (ticks) => {
      if (!this.running || this.storageFull !== undefined) return;
      const core = this.requireCore();
      for (let i = 0; i < ticks; i++) core.tick();
      this.loop.schedule();
    });
    // Twice the longest election timeout: the core keeps heartbeating a removed member for one.
    const forgetAfterMs = 2 * (options.raft?.electionTimeoutMaxMs ?? RAFT_CONFIG_DEFAULTS.electionTimeoutMaxMs);
    this.members = new MemberTracker(options.id, options.network, options.members, options.onRemoved, (fn) => {
      this.clock.setTimeout(() => {
        if (this.running) fn();
      }, forgetAfterMs);
    });
    this.applier = new Applier(options.stateMachine, this.members, this.localSnapshots, () => this.requireCore().status().config);
    this.sender = new RpcSender(options.network, this.bridge, () => this.observer, {
      step: (response) => this.step(response),
      unreachable: (peer) => {
        if (this.running) this.core?.reportUnreachable(peer);
      },
    });
    this.loop = new ReadyLoop(
      {
        core: () => this.core,
        running: () => this.running,
        active: () => this.running && this.storageFull === undefined,
        logStore: () => this.logStore,
        observer: () => this.observer,
        isLeader: () => this.role === 'leader',
        onSoftState: (role, leaderId) => this.onSoftState(role, leaderId),
        onStorageFull: (error) => this.suspendOnStorageFull(error),
        onFatal: (error) => this.die(error),
      },
      {
        bridge: this.bridge, writes: this.writes, sender: this.sender, applier: this.applier, members: this.members,
        localSnapshots: this.localSnapshots, snapshots: this.snapshots, stateMachine: options.stateMachine,
      },
    );
  }

  /** Restores from durable state, joins the network and starts ticking. */
  async start(): Promise<void> {
    assert(!this.running, `RaftNode ${this.id} started twice`);
    const { logStore } = this;
    const snapshot = await this.snapshots.load();
    if (snapshot !== null) {
      // Not running yet: nothing else is served, and nothing can stop it half-way.
      await this.applier.restoreSnapshotData(snapshot.data, () => true);
      this.localSnapshots.restored(snapshot.data.length);
    }
    const initialConfig = this.options.join ? { voters: [], learners: [] } : { voters: [...this.options.voters], learners: [...(this.options.learners ?? [])] };
    const fresh = snapshot === null && logStore.lastIndex() === 0 && logStore.hardState().term === 0;
    if (fresh && !this.options.join) {
      const bootstrap = bootstrapEntries(initialConfig);
      await logStore.save({ entries: bootstrap, hardState: { term: BOOTSTRAP_TERM, vote: null, commit: bootstrap.length } });
    }
    this.restoreCore(snapshot, initialConfig, snapshot?.meta.lastIncludedIndex ?? 0);
    this.members.commitIndexAtStart = logStore.hardState().commit;
    this.options.network.registerHandlers({
      onRequestVote: (req) => this.handleRequest(req, 'RequestVoteResponse'),
      onAppendEntries: (req) => this.handleRequest(req, 'AppendEntriesResponse'),
      onInstallSnapshot: (req) => this.handleRequest(req, 'InstallSnapshotResponse'),
      onTimeoutNow: (req) => {
        this.step(req);
      },
    });
    await this.options.network.start();
    this.running = true;
    this.ticker.start();
    this.loop.schedule();
  }

  /**
   * Builds the core from what is durable (the log store and `snapshot`). `applied`: how far the
   * state machine already is (it is not handed those entries again).
   */
  private restoreCore(snapshot: Snapshot | null, config: ClusterConfig, applied: number): void {
    const logStore = this.logStore;
    const entries = logStore.lastIndex() >= logStore.firstIndex() ? logStore.entries(logStore.firstIndex(), logStore.lastIndex() + 1) : [];
    // Members added by changes still in the log (committed or not) must be reachable at once.
    for (const entry of entries) if (entry.type === 'confChange') this.members.onAppended(entry);
    this.members.syncTransport();
    // A node may have applied entries whose commit index is not on disk: a commit-only hard state
    // waits for the next write (ReadyWrites.update), and with asynchronous writes entries are applied before
    // the write carrying their commit index lands. After a failed write (a full disk, then this
    // rebuild) those entries are committed all the same: say so.
    let hardState = logStore.hardState();
    if (applied > hardState.commit && applied <= logStore.lastIndex()) hardState = { ...hardState, commit: applied };
    this.writes.reset();
    this.core = new RawNode(
      { ...this.options.raft, id: this.id, random: this.options.random ?? Math.random },
      { hardState, snapshot, entries, config, applied },
    );
    this.applier.appliedIndex = applied;
  }

  /**
   * The disk is full: a write of this node's log failed, so its in-memory Raft state is ahead of
   * its disk and must not be used. Rather than stopping (as on other write failures), the node
   * sits out: it drops its core, refuses proposals and reads with the `StorageFullError`, answers
   * no peer, and keeps its state machine for stale reads. It retries every `storageFullRetryMs`
   * by rebuilding the core from the durable log, as a restart would. Proposals in flight get the
   * error too; their outcome is unknown (a leader may have sent them before its own write failed).
   */
  private suspendOnStorageFull(error: StorageFullError): void {
    this.storageFull = error;
    this.writes.reset();
    this.ticker.stop();
    if (this.role === 'leader') this.onSoftState('follower', null);
    this.role = 'follower';
    this.failPending(error);
    this.storageFullTimer = this.clock.setTimeout(() => void this.resumeAfterStorageFull(), this.options.storageFullRetryMs ?? STORAGE_FULL_RETRY_MS_DEFAULT);
    this.options.onStorageFull?.(error);
  }

  private async resumeAfterStorageFull(): Promise<void> {
    this.storageFullTimer = undefined;
    if (!this.running || this.storageFull === undefined) return;
    // A snapshot still being written goes to the store about to be replaced: let it finish.
    await this.localSnapshots.writing;
    if (!this.running || this.storageFull === undefined) return;
    try {
      // A store that saw a write fail may refuse every later one until it is reopened (a retried
      // sync can report success for data that is gone): reopening replays what is durable.
      if (this.options.reopenLogStore) this.logStore = await this.options.reopenLogStore();
      const snapshot = await this.snapshots.load();
      // A snapshot received from the leader may be durable while the log write after it failed.
      let applied = this.applier.appliedIndex;
      if (snapshot !== null && snapshot.meta.lastIncludedIndex > applied) {
        if (!(await this.applier.restoreSnapshotData(snapshot.data, () => this.running && this.storageFull !== undefined))) return;
        this.localSnapshots.restored(snapshot.data.length);
        applied = snapshot.meta.lastIncludedIndex;
      }
      const previous = this.core!.status().config;
      this.restoreCore(snapshot, previous, applied);
    } catch (error) {
      // Still full (reopening replays the WAL into LMDB, which needs room): sit out again.
      if (error instanceof StorageFullError) this.suspendOnStorageFull(error);
      else this.die(error);
      return;
    }
    this.storageFull = undefined;
    this.ticker.start();
    this.loop.schedule();
  }

  /** Stops ticking, fails what is pending with `RAFT_ERR_NODE_STOPPED`, and stops the network. The log store stays open (its owner closes it). */
  async stop(): Promise<void> {
    if (!this.running && this.core === undefined) return;
    this.running = false;
    this.ticker.stop();
    if (this.storageFullTimer !== undefined) this.clock.clearTimeout(this.storageFullTimer);
    await this.loop.idle();
    await this.localSnapshots.writing;
    // Writes already handed to the log store finish before its owner may close it; the last commit
    // index goes down too, so a clean restart does not wait for a leader to apply what it had.
    await this.writes.drained();
    const deferred = this.writes.takeDeferred();
    if (deferred !== null && this.fatal === undefined && this.storageFull === undefined) await this.logStore.save({ entries: [], hardState: deferred }).catch(() => undefined);
    this.failPending(new NodeStoppedError());
    await this.options.network.stop();
  }

  /**
   * Proposes `data`; resolves with the state machine's result once the entry is applied here.
   * With `done`, tells `done` instead and returns nothing: no promise per proposal, for a server
   * that answers many of them per turn (the WebSocket protocol does). Either way a proposal this
   * node cannot take throws at once: `NotLeaderError`, `ProposalDroppedError`,
   * `ProposalTooLargeError`, `NodeStoppedError`.
   *
   * @example
   * ```ts
   * const result = await node.propose(command);
   * node.propose(command, (error, result) => (error ? fail(error) : answer(result!)));
   * ```
   */
  propose(data: Uint8Array): Promise<Result>;
  propose(data: Uint8Array, done: ProposalCallback<Result>): void;
  propose(data: Uint8Array, done?: ProposalCallback<Result>): Promise<Result> | void {
    const core = this.requireRunning();
    const bytesMax = this.options.proposalBytesMax ?? PROPOSAL_BYTES_MAX_DEFAULT;
    if (data.length > bytesMax) throw new ProposalTooLargeError(data.length, bytesMax);
    const index = core.propose(data); // throws NotLeaderError / ProposalDroppedError
    if (done === undefined) return this.awaitApplied(index, core.term);
    this.applier.proposals.addCallback(index, core.term, done);
    this.loop.schedule();
  }

  /** Proposes one membership change as is (no catch-up, no retry; see {@link addNode}); resolves once it is applied. */
  proposeConfChange(change: ConfChange): Promise<Result> {
    const core = this.requireRunning();
    const index = core.proposeConfChange(change);
    return this.awaitApplied(index, core.term);
  }

  /**
   * Adds `nodeId` on the leader: as a learner first (with `endpoints`, so every replica learns where
   * it listens), then, once it has caught up, as a voter. Idempotent: asking again after a timeout
   * or a lost answer finishes the job. Resolves with the new configuration; throws `NotLeaderError`
   * on a follower and `MembershipTimeoutError` past `options.timeoutMs` (default 60 s).
   *
   * @example
   * ```ts
   * await leader.addNode('n4', { raft: '10.0.0.4:7001', client: 'http://10.0.0.4:8001' });
   * ```
   */
  addNode(nodeId: NodeId, endpoints?: MemberEndpoints, options?: MembershipOptions): Promise<ClusterConfig> {
    return addMember(this.membershipHost(), nodeId, endpoints, options);
  }

  /**
   * Removes `nodeId` (a voter or a learner; this node included: a leader hands leadership over once
   * the change commits). Idempotent. Resolves with the new configuration.
   */
  removeNode(nodeId: NodeId, options?: MembershipOptions): Promise<ClusterConfig> {
    return removeMember(this.membershipHost(), nodeId, options);
  }

  /** The members of the current configuration with their known endpoints. */
  getMembers(): { id: NodeId; role: 'voter' | 'learner'; endpoints: MemberEndpoints | null }[] {
    return this.members.describe(this.requireCore().status().config);
  }

  /** Known endpoints of `nodeId` (a member or not), e.g. to redirect a client to the leader. */
  getMemberEndpoints(nodeId: NodeId): MemberEndpoints | undefined {
    return this.members.endpoints(nodeId);
  }

  /**
   * Reports durable log writes, RPC round trips and apply batches to `observer` (the server's
   * Prometheus histograms). One observer; a later call replaces it.
   */
  observe(observer: RaftNodeObserver): void {
    this.observer = observer;
  }

  /** True once this node has applied its own removal. */
  isRemoved(): boolean {
    return this.members.removed;
  }

  private membershipHost() {
    this.requireRunning();
    return {
      // Not requireRunning: the answer to a leader's own removal is read after it applied it.
      status: () => this.requireCore().status(),
      proposeConfChange: (change: ConfChange) => this.proposeConfChange(change),
      now: () => this.clock.now(),
      after: (ms: number, fn: () => void) => {
        const timer = this.clock.setTimeout(fn, ms);
        return () => this.clock.clearTimeout(timer);
      },
    };
  }

  /**
   * Confirms leadership with a quorum (ReadIndex) and waits until this node has applied everything
   * committed before the call; a read of the state machine after it resolves is linearizable.
   * With `lease: true` (needs check-quorum) the round trip is skipped while the lease holds.
   * Resolves with the read index. With `done`, tells `done` instead and returns nothing (no
   * promise per read, as with {@link propose}); a lease read that needs no wait (the lease holds and
   * everything committed is applied) tells `done` before this returns. Either way a read this node
   * cannot take throws at once: `NotLeaderError` on a follower, `NodeStoppedError`,
   * `ProposalDroppedError` when too many reads wait.
   *
   * @example
   * ```ts
   * await node.readIndex();
   * node.readIndex({}, (error) => (error ? fail(error) : answer(stateMachine.get(key))));
   * ```
   */
  readIndex(options?: { lease?: boolean }): Promise<number>;
  readIndex(options: { lease?: boolean }, done: ReadCallback): void;
  readIndex(options: { lease?: boolean } = {}, done?: ReadCallback): Promise<number> | void {
    const core = this.requireRunning();
    if (options.lease) {
      // A lease is only as good as the node's sense of time: tick for any time lost first.
      this.ticker.catchUp();
      // The lease holds and everything committed is applied: the read needs no wait at all.
      const index = core.leaseReadIndex();
      if (index !== null && this.applier.appliedIndex >= index) {
        if (done === undefined) return Promise.resolve(index);
        done(null, index);
        return;
      }
    }
    const context = this.applier.reads.nextContext();
    if (options.lease) core.leaseRead(context);
    else core.readIndex(context);
    if (done !== undefined) {
      this.applier.reads.add(context, done);
      this.loop.schedule();
      return;
    }
    const promise = new Promise<number>((resolve, reject) => this.applier.reads.add(context, (error, index) => (error === null ? resolve(index!) : reject(error))));
    this.loop.schedule();
    return promise;
  }

  /** Hands leadership to `target` (caught up first, then TimeoutNow). */
  transferLeadership(target: NodeId): void {
    this.requireRunning().transferLeader(target);
    this.loop.schedule();
  }

  isLeader(): boolean {
    return this.role === 'leader';
  }

  getLeader(): NodeId | null {
    return this.leaderId;
  }

  /**
   * The leader as soon as one is known: at once when it is, else once an election ends; null
   * after `timeoutMs`, or when the node stops or sits out a full disk first. A request that
   * arrives during an election can wait for its outcome instead of failing.
   *
   * @example
   * ```ts
   * const leader = node.getLeader() ?? (await node.awaitLeader(1000));
   * if (leader === node.id) await node.propose(data);  // else redirect to `leader`, or 503 on null
   * ```
   */
  awaitLeader(timeoutMs: number): Promise<NodeId | null> {
    if (this.leaderId !== null || !this.running || this.storageFull !== undefined) return Promise.resolve(this.leaderId);
    return this.leaderWaiters.wait(timeoutMs);
  }

  /**
   * The core's view: role, term, commit and applied index, configuration, followers' progress;
   * `storageFull` while the node sits out a full disk.
   */
  getState(): RaftStatus & { running: boolean; storageFull: boolean } {
    const status = this.requireCore().status();
    if (this.storageFull !== undefined) return { ...status, role: 'follower', progress: null, running: this.running, storageFull: true };
    return { ...status, running: this.running, storageFull: false };
  }

  /** Counters for metrics: how often this node saw a new leader. */
  getStats(): { leaderChanges: number; pendingProposals: number; pendingReads: number } {
    return { leaderChanges: this.leaderChanges, pendingProposals: this.applier.proposals.size, pendingReads: this.applier.reads.size };
  }

  private requireCore(): RawNode {
    if (this.core === undefined) throw new NodeStoppedError('the raft node has not been started');
    return this.core;
  }

  private requireRunning(): RawNode {
    if (this.fatal) throw this.fatal;
    if (!this.running) throw new NodeStoppedError();
    if (this.storageFull) throw this.storageFull;
    return this.requireCore();
  }

  private awaitApplied(index: number, term: number): Promise<Result> {
    const promise = this.applier.proposals.add(index, term);
    this.loop.schedule();
    return promise;
  }

  private step(message: Message): void {
    if (!this.running || this.storageFull !== undefined) return;
    this.requireCore().step(message);
    this.loop.schedule();
  }

  private async handleRequest(request: Message, responseType: 'RequestVoteResponse' | 'AppendEntriesResponse' | 'InstallSnapshotResponse'): Promise<never> {
    if (!this.running) throw new NodeStoppedError();
    if (this.storageFull !== undefined) throw this.storageFull;
    const answer = this.bridge.park(request.from, responseType);
    this.step(request);
    return (await answer) as never;
  }

  private onSoftState(role: Role, leaderId: NodeId | null): void {
    const wasLeader = this.role === 'leader';
    if (leaderId !== this.leaderId && leaderId !== null) this.leaderChanges++;
    this.role = role;
    this.leaderId = leaderId;
    if (leaderId !== null) this.leaderWaiters.leaderKnown(leaderId);
    if (wasLeader && role !== 'leader') {
      // Reads in flight were confirmed by a leadership this node no longer has.
      this.applier.reads.rejectUnconfirmed(new NotLeaderError(leaderId));
    }
  }

  private die(error: unknown): void {
    this.writes.reset();
    const fatal = new NodeFatalError(`raft node ${this.id} stopped: ${error instanceof Error ? error.message : String(error)}`, error);
    this.fatal = fatal;
    this.running = false;
    this.ticker.stop();
    this.failPending(fatal);
    void this.options.network.stop().catch(() => undefined);
    this.options.onFatal?.(fatal);
  }

  private failPending(error: Error): void {
    this.leaderWaiters.releaseAll();
    this.applier.rejectAll(error);
        this.bridge.failAll(error);
  }
}
