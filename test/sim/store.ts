/**
 * What survives a crash: the durable store of one simulated node (hard state, the persisted log
 * after the last snapshot, and that snapshot), changed only by processing a Ready in the order
 * `src/core/ready.ts` prescribes. Everything else a node holds is lost when it crashes.
 *
 * The store asserts its own shape (a contiguous log that starts right after the snapshot), so a
 * Ready that would break it fails at once with the indexes involved.
 */
import type { ClusterConfig, Entry, HardState, Snapshot } from '../../src/core/types.js';

export class DurableStore {
  hardState: HardState = { term: 0, vote: null, commit: 0 };
  snapshot: Snapshot | null = null;
  /** Invariant: entries[k].index === snapshotIndex() + 1 + k. */
  entries: Entry[] = [];

  snapshotIndex(): number {
    return this.snapshot?.meta.lastIncludedIndex ?? 0;
  }

  snapshotTerm(): number {
    return this.snapshot?.meta.lastIncludedTerm ?? 0;
  }

  lastIndex(): number {
    return this.snapshotIndex() + this.entries.length;
  }

  /** Term of the entry at `index`, the snapshot's term at its index, 0 at index 0, else undefined. */
  termAt(index: number): number | undefined {
    const snapshotIndex = this.snapshotIndex();
    if (index === snapshotIndex) return this.snapshotTerm();
    if (index < snapshotIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - snapshotIndex - 1]!.term;
  }

  entryAt(index: number): Entry | undefined {
    const snapshotIndex = this.snapshotIndex();
    if (index <= snapshotIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - snapshotIndex - 1];
  }

  /**
   * Appends a Ready's entries, first truncating the stored log from the first new index. Returns
   * the entries that were truncated away (for the checker).
   */
  append(entries: readonly Entry[]): Entry[] {
    if (entries.length === 0) return [];
    const first = entries[0]!.index;
    const snapshotIndex = this.snapshotIndex();
    if (first <= snapshotIndex || first > this.lastIndex() + 1) {
      throw new Error(
        `Ready.entries start at ${first} but the durable log holds (${snapshotIndex}, ${this.lastIndex()}]: ` +
          `entries must start after the snapshot and leave no gap`,
      );
    }
    for (let k = 1; k < entries.length; k++) {
      if (entries[k]!.index !== first + k) {
        throw new Error(`Ready.entries not contiguous: index ${entries[k]!.index} at position ${k} after ${first}`);
      }
    }
    const keep = first - snapshotIndex - 1;
    const truncated = keep < this.entries.length ? this.entries.splice(keep) : [];
    for (const e of entries) this.entries.push(e);
    return truncated;
  }

  /** A snapshot received from the leader replaces the whole log (as etcd's MemoryStorage does). */
  installSnapshot(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    this.entries = [];
  }

  /** The node's own snapshot: keeps the log after it. */
  compact(snapshot: Snapshot): void {
    const index = snapshot.meta.lastIncludedIndex;
    const snapshotIndex = this.snapshotIndex();
    if (index <= snapshotIndex) return;
    if (index > this.lastIndex()) {
      throw new Error(`snapshot at ${index} is past the durable log's last index ${this.lastIndex()}`);
    }
    this.entries = this.entries.slice(index - snapshotIndex);
    this.snapshot = snapshot;
  }

  /** The state a restarted RawNode is built from (copies, so the core cannot alias the store). */
  restoredState(config: ClusterConfig): {
    hardState: HardState;
    snapshot: Snapshot | null;
    entries: Entry[];
    config: ClusterConfig;
  } {
    return {
      hardState: { ...this.hardState },
      snapshot: this.snapshot,
      entries: this.entries.slice(),
      config: { voters: config.voters.slice(), learners: config.learners.slice() },
    };
  }
}
