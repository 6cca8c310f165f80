/**
 * A node's own snapshots: when one is due, and writing it without holding up the Ready loop
 * (docs/node.md, Snapshots).
 *
 * Due once the core's `snapshotThreshold` is passed **and** the entries applied since the last
 * durable snapshot hold `logRatio` of its bytes: a large state written in small entries would
 * otherwise be rewritten whole for every small stretch of log.
 *
 * Written in the background: the state is captured at once (serialized there and then, or a slice
 * per event-loop turn, `captureState`), then the file (several synced operations) and the log
 * compaction after it land while the Ready loop goes on; the core hears `snapshotTaken()` only
 * once both are durable. One at a time.
 *
 * @example
 * ```ts
 * const local = new LocalSnapshots(persistence, 0.5);
 * local.applied(entry.data.length);                 // for every applied entry
 * if (local.due(core.snapshotDue())) local.start({ core, logStore, stateMachine, index, ... });
 * await local.writing;                              // before stop(), or a leader's snapshot
 * ```
 */
import { assert } from '../core/errors.js';
import type { RawNode } from '../core/raw-node.js';
import type { Snapshot } from '../core/types.js';
import type { LogStore } from '../storage/log-store.js';
import { captureState } from './snapshot-capture.js';
import type { SnapshotPersistence } from './snapshot-persistence.js';
import type { StateMachine } from './state-machine.js';

/** What one snapshot is taken of, and who hears how it ended. */
export interface LocalSnapshotJob {
  core: RawNode;
  logStore: LogStore;
  stateMachine: StateMachine<unknown>;
  /** The applied index: the state machine holds exactly the entries through it. */
  index: number;
  /** What goes in front of the state machine's bytes (the member directory's envelope). */
  envelope: Uint8Array;
  /** False once the core that asked is gone (stopped, or rebuilt after a full disk): it hears nothing more. */
  current: () => boolean;
  /** A write failed while `current()` still held. */
  onError: (error: unknown) => void;
}

export class LocalSnapshots {
  /** The snapshot being written; it never rejects. */
  writing: Promise<void> | undefined;
  /** Bytes of entries applied here since start, and that count when the last durable snapshot was taken. */
  private appliedBytes = 0;
  private appliedBytesAtSnapshot = 0;
  private snapshotBytes = 0;

  constructor(
    private readonly persistence: SnapshotPersistence,
    private readonly logRatio: number,
  ) {
    assert(Number.isFinite(logRatio) && logRatio >= 0, () => `snapshotLogRatio ${String(logRatio)} must be a finite number ≥ 0`);
  }

  /** Counts an applied entry's bytes. */
  applied(bytes: number): void {
    this.appliedBytes += bytes;
  }

  /** Whether to start one: the core's threshold is passed (`coreDue`) and the log since the last snapshot is worth it. */
  due(coreDue: boolean): boolean {
    return coreDue && this.writing === undefined && this.appliedBytes - this.appliedBytesAtSnapshot >= this.logRatio * this.snapshotBytes;
  }

  /**
   * A durable snapshot of `bytes` holds the state as applied now (restored at start, installed
   * from the leader, restored after a full disk): the next one is weighed against it.
   */
  restored(bytes: number): void {
    this.note(bytes, this.appliedBytes);
  }

  /** Captures the state now and writes it in the background; `writing` settles once done. */
  start(job: LocalSnapshotJob): void {
    assert(this.writing === undefined, () => `a snapshot at ${job.index} was started while another is being written`);
    const { core, logStore } = job;
    // The configuration as of the snapshot's index, not the newest: a change appended after it
    // (in force, not yet applied) belongs to the log that follows the snapshot.
    const meta = { lastIncludedIndex: job.index, lastIncludedTerm: logStore.term(job.index), config: core.configAt(job.index) };
    const state = captureState(job.stateMachine, job.envelope);
    const appliedBytes = this.appliedBytes;
    this.writing = (async () => {
      try {
        const data = await state.bytes(job.current);
        if (data === undefined) return;
        const snapshot: Snapshot = { meta, data };
        // Durable snapshot first; only then may the log prefix it covers go.
        await this.persistence.save(snapshot);
        // Durable, so the next snapshot is weighed against this one, even when the core that
        // asked for it is gone (a full disk): the rebuilt core starts from this file. (A node
        // started again notes the snapshot it loads, so a stopped one needs no exception here.)
        this.note(snapshot.data.length, appliedBytes);
        await logStore.setSnapshotMeta(snapshot.meta);
        if (!job.current()) return;
        core.snapshotTaken(snapshot);
      } catch (error) {
        if (job.current()) job.onError(error);
      } finally {
        this.writing = undefined;
      }
    })();
  }

  private note(bytes: number, appliedBytes: number): void {
    this.snapshotBytes = bytes;
    this.appliedBytesAtSnapshot = appliedBytes;
  }
}
