/**
 * The apply side of a `RaftNode`: hands committed entries to the state machine in index order,
 * installs snapshots, and settles what waits on them (proposals resolve with `apply()`'s result,
 * confirmed reads are released once `appliedIndex` reaches their read index). Owns `appliedIndex`.
 *
 * @example
 * ```ts
 * const applier = new Applier(stateMachine, members, localSnapshots, () => core.status().config);
 * applier.applyReady(ready, observer);   // committed entries, then reads
 * core.appliedTo(applier.appliedIndex);
 * ```
 */
import { assert } from '../core/errors.js';
import type { Ready } from '../core/ready.js';
import type { ClusterConfig, Entry, Snapshot } from '../core/types.js';
import type { LocalSnapshots } from './local-snapshots.js';
import type { MemberTracker } from './member-tracker.js';
import { ProposalWaiters } from './proposal-waiters.js';
import { ReadQueue } from './read-queue.js';
import { stepPerTurn } from './step-per-turn.js';
import type { RaftNodeObserver } from './raft-node-options.js';
import type { StateMachine } from './state-machine.js';

export class Applier<Result> {
  /** The last entry the state machine has seen (or the last snapshot's index). */
  appliedIndex = 0;
  readonly proposals = new ProposalWaiters<Result>();
  readonly reads = new ReadQueue();

  constructor(
    private readonly stateMachine: StateMachine<Result>,
    private readonly members: MemberTracker,
    private readonly localSnapshots: LocalSnapshots,
    /** The configuration the core holds now (a conf-change entry is applied against it). */
    private readonly currentConfig: () => ClusterConfig,
  ) {}

  /** Applies the Ready's committed entries, then releases the reads they let through. */
  applyReady(ready: Ready, observer: RaftNodeObserver | undefined): void {
    if (ready.committedEntries.length > 0) observer?.applied?.(ready.committedEntries.length);
    for (const entry of ready.committedEntries) this.apply(entry);
    for (const readState of ready.readStates) this.reads.confirm(readState);
    this.reads.release(this.appliedIndex);
  }

  /**
   * Restores the state machine and the member directory from a snapshot's bytes: one slice per
   * event-loop turn when the state machine offers `restoreSnapshot` (a large state decoded in one
   * task held a node for 0.5-0.8 s at 200,000 keys). False, with the old state still in place, if
   * `wanted` turned false between slices.
   */
  async restoreSnapshotData(data: Uint8Array, wanted: () => boolean): Promise<boolean> {
    const state = this.members.fromSnapshot(data);
    const steps = this.stateMachine.restoreSnapshot?.(state);
    if (steps === undefined) {
      this.stateMachine.restore(state);
      return true;
    }
    return (await stepPerTurn(steps, wanted)) !== undefined;
  }

  /**
   * A snapshot from the leader replaces the state: proposals it covers learn their fate. False if
   * abandoned (see {@link restoreSnapshotData}); nothing is changed then but the member directory.
   */
  async installSnapshot(snapshot: Snapshot, wanted: () => boolean): Promise<boolean> {
    if (!(await this.restoreSnapshotData(snapshot.data, wanted))) return false;
    this.members.syncTransport();
    this.appliedIndex = snapshot.meta.lastIncludedIndex;
    this.localSnapshots.restored(snapshot.data.length);
    this.proposals.coveredBySnapshot(this.appliedIndex);
    return true;
  }

  /** Fails every proposal and read still waiting. */
  rejectAll(error: Error): void {
    this.proposals.rejectAll(error);
    this.reads.rejectAll(error);
  }

  private apply(entry: Entry): void {
    assert(entry.index === this.appliedIndex + 1, () => `apply out of order: entry ${entry.index} after ${this.appliedIndex}`);
    this.appliedIndex = entry.index;
    if (entry.type === 'confChange') this.members.onApplied(entry, this.currentConfig);
    this.localSnapshots.applied(entry.data.length);
    const result = entry.type === 'normal' && entry.data.length > 0 ? this.stateMachine.apply(entry.index, entry.data) : (undefined as Result);
    this.proposals.applied(entry, result);
  }
}
