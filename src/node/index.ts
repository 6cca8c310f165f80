export { RaftNode } from './raft-node.js';
export type { ProposalCallback } from './proposal-waiters.js';
export type { RaftNodeObserver, RaftNodeOptions } from './raft-node-options.js';
export type { StateMachine } from './state-machine.js';
export { DiskSnapshotPersistence, MemorySnapshotPersistence, type SnapshotPersistence } from './snapshot-persistence.js';
export { MembershipTimeoutError, NodeFatalError, NodeStoppedError, NoResponseError, ProposalTooLargeError } from './errors.js';
export { type MembershipOptions } from './membership.js';
export { decodeMemberContext, encodeMemberContext, MemberDirectory, type MemberEndpoints, validateEndpoints } from './members.js';
export { RpcBridge, PARKED_REQUESTS_PER_PEER_MAX } from './rpc-bridge.js';
