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

/** Minimal view of the storage layer's `SnapshotStore` that {@link DiskSnapshotPersistence} needs. */
interface SnapshotStoreLike {
  createWriter(meta: Snapshot['meta']): Promise<{ write(chunk: Uint8Array): Promise<void>; commit(): Promise<unknown>; abort(): Promise<void> }>;
  latest(): Promise<{ id: string } | null>;
  readAll(id: string): Promise<Snapshot>;
}

/**
 * Keeps snapshots in the storage layer's `SnapshotStore` (checksummed files, written then renamed
 * into place, the last K kept), so a restarted node restores its state machine from disk.
 *
 * @example
 * ```ts
 * const snapshots = new DiskSnapshotPersistence(await SnapshotStore.open('./data/n1/snapshots'));
 * ```
 */
export class DiskSnapshotPersistence implements SnapshotPersistence {
  constructor(private readonly store: SnapshotStoreLike) {}

  async save(snapshot: Snapshot): Promise<void> {
    const writer = await this.store.createWriter(snapshot.meta);
    try {
      await writer.write(snapshot.data);
      await writer.commit();
    } catch (error) {
      await writer.abort().catch(() => undefined);
      throw error;
    }
  }

  async load(): Promise<Snapshot | null> {
    const latest = await this.store.latest();
    return latest === null ? null : this.store.readAll(latest.id);
  }
}
