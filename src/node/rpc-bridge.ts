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
import type { NetworkInterface } from '../transport/types.js';
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
  // Response type → peer → handlers waiting, oldest first. Nested maps rather than a composite
  // string key: park and deliver run for every Raft message and should not build strings.
  private readonly parked = new Map<string, Map<NodeId, Parked[]>>();
  private round = 0;

  /** Parks a handler for the core's answer to a request from `peer`; call before stepping it. */
  park(peer: NodeId, responseType: ResponseType): Promise<Message> {
    let byPeer = this.parked.get(responseType);
    if (byPeer === undefined) this.parked.set(responseType, (byPeer = new Map()));
    let queue = byPeer.get(peer);
    if (queue === undefined) byPeer.set(peer, (queue = []));
    if (queue.length >= PARKED_REQUESTS_PER_PEER_MAX) {
      return Promise.reject(new NoResponseError(`too many unanswered ${responseType} requests from ${peer}`));
    }
    const waiting = queue;
    return new Promise<Message>((resolve, reject) => waiting.push({ round: this.round, resolve, reject }));
  }

  /** Hands a response from the core to the oldest parked handler; false if none waits for it. */
  deliver(message: Message): boolean {
    const waiter = this.parked.get(message.type)?.get(message.to)?.shift();
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
    for (const [responseType, byPeer] of this.parked) {
      for (const [peer, queue] of byPeer) {
        while (queue.length > 0 && queue[0]!.round < round) {
          queue.shift()!.reject(new NoResponseError(`no answer to a request of ${peer} (${responseType}) from this node`));
        }
        if (queue.length === 0) byPeer.delete(peer);
      }
    }
  }

  /** Fails every parked request (on stop). */
  failAll(error: Error): void {
    for (const byPeer of this.parked.values()) for (const queue of byPeer.values()) for (const waiter of queue) waiter.reject(error);
    this.parked.clear();
  }
}

/** Sends a request message through the transport; undefined for a response (nothing sent). */
export function sendRpc(network: NetworkInterface, message: Message): Promise<Message | void> | undefined {
  switch (message.type) {
    case 'RequestVote':
      return network.sendRequestVote(message.to, message);
    case 'AppendEntries':
      return network.sendAppendEntries(message.to, message);
    case 'InstallSnapshot':
      return network.sendInstallSnapshot(message.to, message);
    case 'TimeoutNow':
      return network.sendTimeoutNow(message.to, message);
    default:
      return undefined;
  }
}
