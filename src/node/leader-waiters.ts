/**
 * Callers waiting to learn who leads: a request that arrives during an election waits for its
 * outcome (about one election timeout) instead of failing at once, as etcd holds proposals and
 * Consul holds RPCs (`rpc_hold_timeout`) while there is no leader.
 *
 * @example
 * ```ts
 * const waiters = new LeaderWaiters(clock);
 * const leader = await waiters.wait(1000);   // null: none within 1 s, or the node stopped
 * waiters.leaderKnown('n2');                 // from the node, when a leader is learned
 * ```
 */
import type { NodeId } from '../core/types.js';
import type { Clock } from '../util/clock.js';

export class LeaderWaiters {
  private readonly waiting = new Set<(leader: NodeId | null) => void>();

  constructor(private readonly clock: Clock) {}

  /** Resolves with the leader once `leaderKnown` is called, or null after `timeoutMs` or on `releaseAll`. */
  wait(timeoutMs: number): Promise<NodeId | null> {
    return new Promise((resolve) => {
      const settle = (leader: NodeId | null): void => {
        this.clock.clearTimeout(timer);
        this.waiting.delete(settle);
        resolve(leader);
      };
      const timer = this.clock.setTimeout(() => settle(null), timeoutMs);
      this.waiting.add(settle);
    });
  }

  /** A leader is known: every waiter hears who. */
  leaderKnown(leader: NodeId): void {
    for (const settle of [...this.waiting]) settle(leader);
  }

  /** The node stopped or sits out: nobody will hear of a leader from it. */
  releaseAll(): void {
    for (const settle of [...this.waiting]) settle(null);
  }
}
