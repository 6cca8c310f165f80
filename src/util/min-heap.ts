/**
 * A binary min-heap under a caller's order. The one heap the project uses: the virtual clock's
 * timers, the cache's expiry queue and the simulator's event queue.
 *
 * @example
 * ```ts
 * const heap = new MinHeap<{ at: number }>((a, b) => a.at < b.at);
 * heap.push({ at: 5 }); heap.push({ at: 1 });
 * heap.pop(); // { at: 1 }
 * ```
 */
export class MinHeap<T> {
  private items: T[] = [];

  /** `less(a, b)`: a comes out before b. For a stable order, break ties in `less` (e.g. by a sequence number). */
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const h = this.items;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  /** Every item, in no particular order (for scans such as counting live timers). */
  values(): readonly T[] {
    return this.items;
  }

  /** Keeps only the items `keep` accepts, rebuilding the heap. */
  filter(keep: (item: T) => boolean): void {
    const kept = this.items.filter(keep);
    this.items = [];
    for (const item of kept) this.push(item);
  }
}
