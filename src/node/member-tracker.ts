/**
 * What `RaftNode` does with membership changes besides what the core does: it keeps the member
 * directory (who listens where) in step with the log and snapshots, tells the transport, and
 * notices this node's own removal. See docs/membership.md, "What the node runtime does on top".
 *
 * @module
 */
import { decodeConfChange } from '../core/conf-change.js';
import type { ClusterConfig, Entry, NodeId } from '../core/types.js';
import type { NetworkInterface } from '../transport/types.js';
import { decodeMemberContext, MemberDirectory, type MemberEndpoints, snapshotEnvelope, unwrapSnapshotData } from './members.js';
import { PeerAddresses } from './peer-addresses.js';

export class MemberTracker {
  private readonly directory: MemberDirectory;
  private readonly peerAddresses: PeerAddresses;
  /** This node applied its own removal (and was not added back since). */
  removed = false;
  /** The commit index the node (re)started with: changes up to it are replayed, not news. */
  commitIndexAtStart = 0;

  /**
   * @param forgetLater runs `fn` once the leader has stopped talking to a removed member: its
   * heartbeats carry the news of the removal for an election timeout after it commits (the core's
   * retirees), so the transport must keep the member's address until then.
   */
  constructor(
    private readonly selfId: NodeId,
    network: NetworkInterface,
    members: Record<NodeId, MemberEndpoints> | undefined,
    private readonly onRemoved: (() => void) | undefined,
    private readonly forgetLater: (fn: () => void) => void = (fn) => fn(),
  ) {
    this.directory = new MemberDirectory(members);
    this.peerAddresses = new PeerAddresses(selfId, network, members);
  }

  endpoints(nodeId: NodeId): MemberEndpoints | undefined {
    return this.directory.get(nodeId);
  }

  /** The members of `config` with their known endpoints. */
  describe(config: ClusterConfig): { id: NodeId; role: 'voter' | 'learner'; endpoints: MemberEndpoints | null }[] {
    const member = (id: NodeId, role: 'voter' | 'learner') => ({ id, role, endpoints: this.directory.get(id) ?? null });
    return [...config.voters.map((id) => member(id, 'voter')), ...config.learners.map((id) => member(id, 'learner'))];
  }

  /** Splits a snapshot's bytes: learns its members, returns the state machine's part. */
  fromSnapshot(data: Uint8Array): Uint8Array {
    const { members, stateMachineData } = unwrapSnapshotData(data);
    for (const [id, endpoints] of Object.entries(members)) this.directory.set(id, endpoints);
    return stateMachineData;
  }

  /**
   * The envelope of the member directory as it is now, to go in front of the state machine's
   * snapshot bytes, which may be made later (a captured snapshot is serialized over several turns).
   */
  snapshotEnvelope(): Uint8Array {
    return snapshotEnvelope(this.directory.toJSON());
  }

  /** Tells the transport every address known (after a restore). */
  syncTransport(): void {
    this.peerAddresses.sync(this.directory);
  }

  /** A confChange entry appended (or restored): the change is in force, its member must be reachable. */
  onAppended(entry: Entry): void {
    const change = decodeConfChange(entry.data);
    const endpoints = decodeMemberContext(change.context);
    if (endpoints !== null) this.directory.set(change.nodeId, endpoints);
    const known = this.directory.get(change.nodeId);
    if (known !== undefined && change.type !== 'removeNode') this.peerAddresses.set(change.nodeId, known);
  }

  /**
   * A confChange entry applied. A removal takes effect only if the member is still out in the
   * newest configuration `current`: a later change in the log may already have added it back
   * (changes take effect on append, they are applied later).
   */
  onApplied(entry: Entry, current: () => ClusterConfig): void {
    const change = decodeConfChange(entry.data);
    if (change.type !== 'removeNode') {
      this.onAppended(entry);
      if (change.nodeId === this.selfId) this.removed = false; // added back
      return;
    }
    const isMember = (config: ClusterConfig) => config.voters.includes(change.nodeId) || config.learners.includes(change.nodeId);
    if (isMember(current())) return;
    if (change.nodeId !== this.selfId) {
      // Kept in the directory (a stale redirect target is harmless); the transport drops it once
      // the removed node has had time to hear of its removal, unless it was added back meanwhile.
      this.forgetLater(() => {
        if (!isMember(current())) this.peerAddresses.remove(change.nodeId);
      });
      return;
    }
    this.removed = true;
    // Replaying its own old removal at start is not news: a removed node restarted stays up,
    // without a vote, until it is added back or stopped.
    if (entry.index > this.commitIndexAtStart) queueMicrotask(() => this.onRemoved?.());
  }
}
