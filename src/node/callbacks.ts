/**
 * Calling the callbacks of proposals and reads (`RaftNode.propose(data, done)`,
 * `RaftNode.readIndex(options, done)`).
 *
 * @module
 */

/**
 * Calls `done(error, value)`. It runs inside the node's apply loop: an exception from it must not
 * stop the loop half-way through a batch (the node would die for its caller's bug), so it is
 * thrown again on its own microtask, as one thrown in a promise's `then` would surface.
 */
export function tell<T>(done: (error: Error | null, value?: T) => void, error: Error | null, value: T | undefined): void {
  try {
    done(error, value);
  } catch (thrown) {
    queueMicrotask(() => {
      throw thrown;
    });
  }
}
