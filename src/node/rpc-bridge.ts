/**
 * Turns the core's one-way messages into the transport's request/response RPCs, and back.
 *
 * The core answers a request with a separate message in a later `Ready` (after persisting, as Raft
 * requires). A transport handler, though, must return the answer to the request it was given. The
 * bridge parks each inbound request's handler until the core emits the matching response to that
 * peer, in order (the core answers one peer's requests of one kind in the order it received them).
 * A request the core chose not to answer (stale, ignored) is failed at the end of the round that
 * stepped it, so no handler waits forever.
 */
import type { Message, NodeId } from '../core/types.js';
import { NoResponseError } from './errors.js';

type ResponseType = 'RequestVoteResponse' | 'AppendEntriesResponse' | 'InstallSnapshotResponse';

interface Parked {
  round: number;
  resolve(message: Message): void;
  reject(error: Error): void;
}

/** Bound on parked requests per peer and kind: a peer cannot make this node hold unbounded promises. */
export const PARKED_REQUESTS_PER_PEER_MAX = 1024;

export class RpcBridge {
  private readonly parked = new Map<string, Parked[]>();
  private round = 0;

  /** Parks a handler for the core's answer to a request from `peer`; call before stepping it. */
  park(peer: NodeId, responseType: ResponseType): Promise<Message> {
    const key = `${responseType}\u0000${peer}`;
    let queue = this.parked.get(key);
    if (queue === undefined) this.parked.set(key, (queue = []));
    if (queue.length >= PARKED_REQUESTS_PER_PEER_MAX) {
      return Promise.reject(new NoResponseError(`too many unanswered ${responseType} requests from ${peer}`));
    }
    return new Promise<Message>((resolve, reject) => queue.push({ round: this.round, resolve, reject }));
  }

  /** Hands a response from the core to the oldest parked handler; false if none waits for it. */
  deliver(message: Message): boolean {
    const queue = this.parked.get(`${message.type}\u0000${message.to}`);
    const waiter = queue?.shift();
    if (waiter === undefined) return false;
    waiter.resolve(message);
    return true;
  }

  /** Marks the start of a processing round: requests parked before it have been stepped. */
  beginRound(): number {
    return ++this.round;
  }

  /** Fails requests stepped before round `round` began that the core did not answer. */
  failUnanswered(round: number): void {
    for (const [key, queue] of this.parked) {
      while (queue.length > 0 && queue[0]!.round < round) {
        queue.shift()!.reject(new NoResponseError(`no answer to ${key.split('\u0000')[0]} from this node`));
      }
      if (queue.length === 0) this.parked.delete(key);
    }
  }

  /** Fails every parked request (on stop). */
  failAll(error: Error): void {
    for (const queue of this.parked.values()) for (const waiter of queue) waiter.reject(error);
    this.parked.clear();
  }
}
