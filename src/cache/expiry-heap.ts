/**
 * Keys ordered by expiry time, so purging expired keys costs O(log n) per key rather than a scan.
 * Entries are checked lazily: an overwritten or deleted key leaves a stale entry behind that is
 * skipped when it surfaces; `compact` drops them when they outnumber the live ones.
 */
export interface ExpiryEntry {
  expiresAtMs: number;
  key: string;
}

export class ExpiryHeap {
  private heap: ExpiryEntry[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(entry: ExpiryEntry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.expiresAtMs <= h[i]!.expiresAtMs) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  peek(): ExpiryEntry | undefined {
    return this.heap[0];
  }

  pop(): ExpiryEntry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.expiresAtMs < h[m]!.expiresAtMs) m = l;
        if (r < h.length && h[r]!.expiresAtMs < h[m]!.expiresAtMs) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  /** Rebuilds the heap from only the entries `isLive` keeps. */
  compact(isLive: (entry: ExpiryEntry) => boolean): void {
    const live = this.heap.filter(isLive);
    this.heap = [];
    for (const entry of live) this.push(entry);
  }
}
