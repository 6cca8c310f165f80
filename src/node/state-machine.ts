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
}
