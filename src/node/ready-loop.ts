/**
 * `ReadyLoop`: how a `RaftNode` works through its core's `Ready`s, one at a time, in the order
 * src/core/ready.ts requires. A leader's AppendEntries/InstallSnapshot go out at once; every other
 * message waits until the Ready's entries and hard state are durable; then the snapshot is
 * installed, committed entries applied, reads released, and the core told. With asynchronous
 * storage writes (etcd's `AsyncStorageWrites`) the write is started, not awaited, and what must
 * follow it is chained in order (`ReadyWrites`).
 *
 * It is the node's only writer of the log store and the only caller of `core.ready()`; the node
 * keeps the lifecycle (start, stop, a full disk, a fatal error) and the public API.
 *
 * @module
 */
import type { RawNode } from '../core/raw-node.js';
import type { Ready } from '../core/ready.js';
import type { Message, NodeId, Role } from '../core/types.js';
import { StorageFullError } from '../storage/errors.js';
import type { LogStore, LogUpdate } from '../storage/log-store.js';
import type { Applier } from './applier.js';
import type { LocalSnapshots } from './local-snapshots.js';
import type { MemberTracker } from './member-tracker.js';
import type { RaftNodeObserver } from './raft-node-options.js';
import type { ReadyWrites } from './ready-writes.js';
import type { RpcBridge } from './rpc-bridge.js';
import type { RpcSender } from './rpc-sender.js';
import type { SnapshotPersistence } from './snapshot-persistence.js';
import type { StateMachine } from './state-machine.js';

/** What the loop reads from, and reports to, the node that owns it. */
export interface ReadyLoopHost {
  /** The core in use: undefined before start, replaced when the node comes back from a full disk. */
  core(): RawNode | undefined;
  /** Started, not stopped, not dead. */
  running(): boolean;
  /** Running, and not sitting out a full disk: the loop stops at the next Ready otherwise. */
  active(): boolean;
  /** The log store in use (reopened after a full disk). */
  logStore(): LogStore;
  observer(): RaftNodeObserver | undefined;
  isLeader(): boolean;
  /** A Ready brought a new role or leader. */
  onSoftState(role: Role, leaderId: NodeId | null): void;
  /** A full disk (`StorageFullError`): sit out. */
  onStorageFull(error: StorageFullError): void;
  /** Any other failure of a write or a snapshot: the node cannot go on. */
  onFatal(error: unknown): void;
}

/** The node's parts the loop drives. */
export interface ReadyLoopParts<Result> {
  readonly bridge: RpcBridge;
  readonly writes: ReadyWrites;
  readonly sender: RpcSender;
  readonly applier: Applier<Result>;
  readonly members: MemberTracker;
  readonly localSnapshots: LocalSnapshots;
  readonly snapshots: SnapshotPersistence;
  readonly stateMachine: StateMachine<Result>;
}

export class ReadyLoop<Result> {
  private processing: Promise<void> | undefined;
  private processAgain = false;

  constructor(
    private readonly host: ReadyLoopHost,
    private readonly parts: ReadyLoopParts<Result>,
  ) {}

  /** Runs the loop unless it is already running (then it runs once more after). */
  schedule(): void {
    if (this.processing !== undefined) {
      this.processAgain = true;
      return;
    }
    this.processing = this.run().finally(() => {
      this.processing = undefined;
    });
  }

  /** Resolves once the loop is not running (it never rejects). */
  async idle(): Promise<void> {
    await this.processing?.catch(() => undefined);
  }

  private async run(): Promise<void> {
    const { host, parts } = this;
    // Yield to the end of this event-loop iteration, not just this microtask: requests from every
    // socket that was readable in the same poll then land in one Ready, so one heartbeat round
    // confirms all their reads and one log write carries all their proposals (batching).
    await new Promise<void>((resolve) => setImmediate(resolve));
    let round = 0;
    do {
      this.processAgain = false;
      let core: RawNode | undefined;
      while (host.active() && (core = host.core()) !== undefined && core.hasReady()) {
        round = parts.bridge.beginRound();
        try {
          const ready = core.ready();
          if (core.config.asyncStorageWrites && ready.snapshot === null) {
            this.handleReadyPipelined(core, ready, round);
            round = 0; // its unanswered requests are failed once its messages are out
            // Applied entries are durable here (the core hands out only those), so a snapshot of
            // them needs no wait for the writes still in flight.
            this.maybeSnapshot();
            continue;
          }
          if (core.config.asyncStorageWrites) {
            // A snapshot from the leader replaces the log: handled alone, after every earlier write.
            await parts.writes.drained();
            if (!host.active()) return;
          }
          await this.handleReady(core, ready);
        } catch (error) {
          this.fail(error);
          return;
        }
      }
      if (round > 0) parts.bridge.failUnanswered(round);
    } while (this.processAgain && host.running());
  }

  private async handleReady(core: RawNode, ready: Ready): Promise<void> {
    const { host, parts } = this;
    const later = this.beginReady(ready);
    if (ready.snapshot !== null) {
      // The leader's snapshot supersedes a local one still being written: that one lands first,
      // or its older snapshot and compaction would land after this one.
      await parts.localSnapshots.writing;
      await parts.snapshots.save(ready.snapshot);
    }
    const update = parts.writes.update(ready);
    if (update !== null) await this.saveLog(update);
    for (const message of later) parts.sender.send(message);
    // Restored a slice per turn; stopped half-way, the node keeps its old state and does not tell
    // the core (the snapshot is durable: a restart restores it).
    if (ready.snapshot !== null && !(await parts.applier.installSnapshot(ready.snapshot, () => this.current(core)))) return;
    parts.applier.applyReady(ready, host.observer());
    if (core.config.asyncStorageWrites) {
      core.persisted(ready.logLastIndex, ready.logLastTerm);
      core.appliedTo(parts.applier.appliedIndex);
    } else core.advance();
    this.maybeSnapshot();
  }

  /**
   * One Ready with asynchronous storage writes (src/core/ready.ts): the write starts and is not
   * awaited. A leader's AppendEntries go at once; every other message waits for this write and all
   * earlier ones (the log store makes them durable in order, and `writes` chains them), then
   * the core hears `persisted()`. Committed entries are already durable here: applied now.
   */
  private handleReadyPipelined(core: RawNode, ready: Ready, round: number): void {
    const { host, parts } = this;
    const later = this.beginReady(ready);
    const update = parts.writes.update(ready);
    parts.writes.chain(
      update === null ? undefined : this.saveLog(update),
      () => {
        if (!host.running()) return;
        for (const message of later) parts.sender.send(message);
        parts.bridge.failUnanswered(round);
        core.persisted(ready.logLastIndex, ready.logLastTerm);
        this.schedule();
      },
      (error: unknown) => {
        if (!host.running()) return;
        this.fail(error);
      },
    );
    parts.applier.applyReady(ready, host.observer());
    core.appliedTo(parts.applier.appliedIndex);
  }

  /**
   * The start of every Ready: role changes, addresses of members its entries add, and a leader's
   * AppendEntries/InstallSnapshot sent at once (thesis §10.2.1). Returns the messages that must
   * wait until the Ready's writes are durable.
   */
  private beginReady(ready: Ready): Message[] {
    const { host, parts } = this;
    if (ready.softState !== null) host.onSoftState(ready.softState.role, ready.softState.leaderId);
    // A member added by an entry in this Ready may be sent to in this Ready: learn its address first.
    for (const entry of ready.entries) if (entry.type === 'confChange') parts.members.onAppended(entry);
    const sendEarly = host.isLeader();
    const later: Message[] = [];
    for (const message of ready.messages) {
      if (sendEarly && (message.type === 'AppendEntries' || message.type === 'InstallSnapshot')) parts.sender.send(message);
      else later.push(message);
    }
    return later;
  }

  /** Writes `update` to the log store, reporting its duration and entry count to the observer. */
  private saveLog(update: LogUpdate): Promise<void> {
    const logStore = this.host.logStore();
    const observer = this.host.observer();
    if (observer?.logSaved === undefined) return logStore.save(update);
    const started = performance.now();
    const entryCount = update.entries?.length ?? 0;
    return logStore.save(update).then(() => observer.logSaved!((performance.now() - started) / 1000, entryCount));
  }

  /** Starts a local snapshot of the applied state when one is due (`LocalSnapshots`). */
  private maybeSnapshot(): void {
    const { host, parts } = this;
    // The node's core now: after the awaits of a Ready it may have been rebuilt (a full disk).
    const core = host.core();
    if (core === undefined || !parts.localSnapshots.due(core.snapshotDue())) return;
    parts.localSnapshots.start({
      core,
      logStore: host.logStore(),
      stateMachine: parts.stateMachine,
      index: parts.applier.appliedIndex,
      envelope: parts.members.snapshotEnvelope(),
      // A rebuilt core (after a full disk) or a stopped node has nothing more to hear from this write.
      current: () => this.current(core),
      onError: (error) => this.fail(error),
    });
  }

  /** `core` is still the node's, and the node runs: work begun for it may go on. */
  private current(core: RawNode): boolean {
    return this.host.active() && this.host.core() === core;
  }

  private fail(error: unknown): void {
    if (error instanceof StorageFullError) this.host.onStorageFull(error);
    else this.host.onFatal(error);
  }
}
