import { StorageFullError } from '../../src/storage/errors.js';
import type { LogUpdate } from '../../src/storage/log-store.js';
import { MemoryLogStore } from '../../src/storage/memory-log-store.js';

/** A memory log store whose disk can be made full: every `save` then fails, changing nothing. */
export class FillableLogStore extends MemoryLogStore {
  full = false;
  failedWrites = 0;

  override save(update: LogUpdate): Promise<void> {
    if (this.full) {
      this.failedWrites++;
      return Promise.reject(new StorageFullError(1 << 20, 1 << 20, 'test disk is full'));
    }
    return super.save(update);
  }
}
