/**
 * Where a {@link RaftNode} keeps state machine snapshots. The storage layer's snapshot store
 * implements it on disk; {@link MemorySnapshotPersistence} serves tests and in-memory clusters.
 */
import type { Snapshot } from '../core/types.js';

export interface SnapshotPersistence {
  /** Stores `snapshot` durably (atomically replacing the previous one). */
  save(snapshot: Snapshot): Promise<void>;
  /** The last snapshot saved, or null. */
  load(): Promise<Snapshot | null>;
}

/** Keeps the last snapshot in memory: for tests and clusters that need no durability. */
export class MemorySnapshotPersistence implements SnapshotPersistence {
  private latest: Snapshot | null = null;

  async save(snapshot: Snapshot): Promise<void> {
    this.latest = { meta: structuredClone(snapshot.meta), data: snapshot.data.slice() };
  }

  async load(): Promise<Snapshot | null> {
    return this.latest;
  }
}
