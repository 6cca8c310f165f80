/**
 * The Raft core: a sans-IO Raft state machine (see docs/core.md).
 *
 * @module
 */
export * from './types.js';
export * from './errors.js';
export type { Ready, ReadState, SoftState } from './ready.js';
export { type RaftConfig, type ResolvedRaftConfig, resolveRaftConfig, RAFT_CONFIG_DEFAULTS } from './config.js';
export { RawNode, type RestoredState, type RaftStatus, type ProgressStatus } from './raw-node.js';
export { encodeConfChange, decodeConfChange, applyConfChange, confChangeProblem, sameConfig, bootstrapEntries, BOOTSTRAP_TERM } from './conf-change.js';
export type { ProgressState } from './progress.js';
export { quorumSize, majorityMatchIndex } from './quorum.js';
export { SNAPSHOT_BYTES_MAX } from './follower.js';
export { PENDING_READS_MAX } from './read-only.js';
