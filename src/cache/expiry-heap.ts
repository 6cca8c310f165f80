/**
 * Keys ordered by expiry time, so purging expired keys costs O(log n) per key rather than a scan.
 * Entries are checked lazily: an overwritten or deleted key leaves a stale entry behind that is
 * skipped when it surfaces; the state machine drops them (`filter`) when they outnumber live keys.
 */
import { MinHeap } from '../util/min-heap.js';

export interface ExpiryEntry {
  expiresAtMs: number;
  key: string;
}

export function createExpiryHeap(): MinHeap<ExpiryEntry> {
  return new MinHeap<ExpiryEntry>((a, b) => a.expiresAtMs < b.expiresAtMs);
}
