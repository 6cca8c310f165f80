/**
 * What a {@link RaftNode} applies committed entries to. The cache (`raftwire/cache`) is one; any
 * deterministic state machine fits.
 *
 * Contract: `apply` is deterministic (same entries in the same order give the same results on every
 * replica) and synchronous; `snapshot()` captures everything `apply` has done; `restore(image)`
 * replaces the whole state with a snapshot's.
 *
 * @example
 * ```ts
 * class Counter implements StateMachine<number> {
 *   n = 0;
 *   apply(_index: number, data: Uint8Array) { return (this.n += data[0]!); }
 *   snapshot() { return new Uint8Array(new Float64Array([this.n]).buffer); }
 *   restore(image: Uint8Array) { this.n = new Float64Array(image.slice().buffer)[0]!; }
 * }
 * ```
 */
export interface StateMachine<Result = unknown> {
  apply(index: number, data: Uint8Array): Result;
  snapshot(): Uint8Array;
  restore(image: Uint8Array): void;
  /**
   * Optional, for state too large to serialize in one go (the node would miss its heartbeats):
   * takes a consistent view now, cheaply, and returns an iterator whose `next()` calls serialize
   * it a bounded slice at a time while `apply` goes on between them; the last returns `prefix`
   * followed by the bytes `snapshot()` would have returned at the moment of the call (the node
   * puts its member directory in front of the state this way, without another copy of a large
   * state; a result that does not start with `prefix` is wrapped with a copy). The node runs one
   * at a time, one slice per event-loop turn, and calls `return()` to abandon one; it never calls
   * `restore` while one is open. The cache implements it (src/cache/snapshot-map.ts).
   *
   * @example
   * ```ts
   * const serializer = stateMachine.captureSnapshot!();
   * let step = serializer.next();
   * while (!step.done) { await new Promise((r) => setImmediate(r)); step = serializer.next(); }
   * const image = step.value;
   * ```
   */
  captureSnapshot?(options?: { prefix?: Uint8Array }): Iterator<void, Uint8Array, undefined>;
  /**
   * Optional, the other way: `restore(image)` a bounded slice per `next()` call. The old state
   * must stay whole until the last call replaces it (the node may serve stale reads from it in
   * between), and stay in place if the iterator throws or is abandoned with `return()`. The node
   * runs one slice per event-loop turn and applies nothing until it is done.
   *
   * @example
   * ```ts
   * const steps = stateMachine.restoreSnapshot!(image);
   * while (!steps.next().done) await new Promise((r) => setImmediate(r));
   * ```
   */
  restoreSnapshot?(image: Uint8Array): Iterator<void, void, undefined>;
}
