/**
 * Sends the core's messages: a response answers the request parked in the `RpcBridge`; a request
 * goes out through the transport, and its answer is stepped into the core. A failed RPC tells the
 * core the peer is unreachable, so it probes that peer again from its match index.
 *
 * @example
 * ```ts
 * const sender = new RpcSender(network, bridge, () => observer, {
 *   step: (response) => node.step(response),
 *   unreachable: (peer) => core.reportUnreachable(peer),
 * });
 * for (const message of ready.messages) sender.send(message);
 * ```
 */
import type { Message, NodeId } from '../core/types.js';
import type { NetworkInterface } from '../transport/types.js';
import type { RaftNodeObserver } from './raft-node-options.js';
import { type RpcBridge, sendRpc } from './rpc-bridge.js';

export interface RpcSenderHost {
  /** A peer's answer to one of our requests. */
  step(response: Message): void;
  /** An RPC to `peer` failed (timed out, refused, no connection). */
  unreachable(peer: NodeId): void;
}

export class RpcSender {
  constructor(
    private readonly network: NetworkInterface,
    private readonly bridge: RpcBridge,
    private readonly observer: () => RaftNodeObserver | undefined,
    private readonly host: RpcSenderHost,
  ) {}

  send(message: Message): void {
    const target = message.to;
    const reply = sendRpc(this.network, message);
    if (reply === undefined) {
      // A response: it answers a request parked in the bridge.
      this.bridge.deliver(message);
      return;
    }
    // sendRpc sent it, so it is a request type.
    const type = message.type as 'RequestVote' | 'AppendEntries' | 'InstallSnapshot' | 'TimeoutNow';
    const observer = this.observer();
    const started = observer === undefined ? 0 : performance.now();
    reply.then(
      (response) => {
        observer?.rpcCompleted?.(type, (performance.now() - started) / 1000, true);
        if (response) this.host.step(response);
      },
      () => {
        observer?.rpcCompleted?.(type, (performance.now() - started) / 1000, false);
        this.host.unreachable(target);
      },
    );
  }
}
