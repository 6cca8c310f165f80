import type { Clock } from '../util/clock.js';
import { OperationAbortedError } from './errors.js';

/**
 * Resolves after `delayMs` on `clock`, or rejects with {@link OperationAbortedError} as soon as
 * `signal` fires (the timer is then cleared, so nothing is left behind). A zero delay resolves on
 * the next microtask without a timer, so a virtual clock need not be advanced for it.
 */
export function waitFor(clock: Clock, delayMs: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  if (signal?.aborted === true) return Promise.reject(new OperationAbortedError(what, signal.reason));
  if (delayMs <= 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(new OperationAbortedError(what, signal!.reason));
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
