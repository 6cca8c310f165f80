/**
 * Keeps the transport's peer addresses in step with the member directory, when the transport can
 * change them at run time (`PeerAddressBook`: HttpNetwork, UwsNetwork, …). A transport that cannot
 * (a fixed in-memory network) simply keeps what it was built with.
 *
 * An address this node was given at start (`members`, i.e. `--peers`) wins over the one a member
 * announced in the log: the operator may route this node to a peer differently (a local proxy, a
 * NAT, a test's fault-injection proxy). Members it was not told about are reached where they
 * announced themselves.
 *
 * @module
 */
import type { NodeId } from '../core/types.js';
import { hasPeerAddressBook, type NetworkInterface, type PeerAddressBook } from '../transport/types.js';
import type { MemberDirectory, MemberEndpoints } from './members.js';

export class PeerAddresses {
  private readonly book: PeerAddressBook | null;
  /** What the transport currently has, so it is told only about changes. */
  private readonly told = new Map<NodeId, string>();

  constructor(
    private readonly selfId: NodeId,
    network: NetworkInterface,
    private readonly configured: Record<NodeId, MemberEndpoints> = {},
  ) {
    this.book = hasPeerAddressBook(network) ? network : null;
    // The transport was built with these.
    for (const [id, endpoints] of Object.entries(configured)) if (id !== selfId) this.told.set(id, endpoints.raft);
  }

  /** Makes `nodeId` reachable (at its configured address if it has one, else at `endpoints.raft`). */
  set(nodeId: NodeId, endpoints: MemberEndpoints): void {
    if (nodeId === this.selfId || this.book === null) return;
    const address = this.configured[nodeId]?.raft ?? endpoints.raft;
    if (this.told.get(nodeId) === address) return;
    this.book.setNodeAddress(nodeId, address);
    this.told.set(nodeId, address);
  }

  /** Drops `nodeId` from the transport (it left the cluster). */
  remove(nodeId: NodeId): void {
    if (nodeId === this.selfId || this.book === null || !this.told.has(nodeId)) return;
    this.book.removeNodeAddress(nodeId);
    this.told.delete(nodeId);
  }

  /** Tells the transport every address the directory knows. */
  sync(directory: MemberDirectory): void {
    for (const id of directory.ids()) this.set(id, directory.get(id)!);
  }
}
