/**
 * Keeps the transport's peer addresses in step with the member directory, when the transport can
 * change them at run time (`PeerAddressBook`: HttpNetwork, UwsNetwork, …). A transport that cannot
 * (a fixed in-memory network) simply keeps what it was built with.
 *
 * @module
 */
import type { NodeId } from '../core/types.js';
import type { NetworkInterface } from '../transport/types.js';
import type { MemberDirectory, MemberEndpoints } from './members.js';

interface AddressBook {
  setNodeAddress(nodeId: NodeId, address: string): void;
  removeNodeAddress(nodeId: NodeId): void;
}

function addressBookOf(network: NetworkInterface): AddressBook | null {
  const candidate = network as Partial<AddressBook>;
  return typeof candidate.setNodeAddress === 'function' && typeof candidate.removeNodeAddress === 'function' ? (candidate as AddressBook) : null;
}

export class PeerAddresses {
  private readonly book: AddressBook | null;

  constructor(
    private readonly selfId: NodeId,
    network: NetworkInterface,
  ) {
    this.book = addressBookOf(network);
  }

  set(nodeId: NodeId, endpoints: MemberEndpoints): void {
    if (nodeId !== this.selfId) this.book?.setNodeAddress(nodeId, endpoints.raft);
  }

  remove(nodeId: NodeId): void {
    if (nodeId !== this.selfId) this.book?.removeNodeAddress(nodeId);
  }

  /** Tells the transport every address the directory knows. */
  sync(directory: MemberDirectory): void {
    for (const id of directory.ids()) this.set(id, directory.get(id)!);
  }
}
