/**
 * Named bounds of the storage layer (units last). Every size a peer or client can influence has
 * one, checked at the gateway (`append`, `setHardState`, the snapshot writer).
 *
 * @module
 */

/** Largest entry payload the log accepts, in bytes. */
export const entryBytesMax = 64 * 1024 * 1024;

/** Largest number of entries in one append or one Ready. */
export const appendEntriesMax = 1 << 20;

/** Largest snapshot the snapshot store accepts, in bytes (a bound on disk use, not on memory). */
export const snapshotBytesMax = 64 * 1024 * 1024 * 1024;

/** Largest chunk one snapshot read returns, in bytes (InstallSnapshot sends chunks of this size or less). */
export const snapshotChunkBytesMax = 16 * 1024 * 1024;

/** Largest encoded snapshot metadata (the cluster configuration), in bytes. */
export const snapshotMetaBytesMax = 1024 * 1024;

/** Default size limit of an LMDB log environment, in bytes. */
export const mapSizeMaxDefaultBytes = 8 * 1024 * 1024 * 1024;

/** Default initial LMDB map size, in bytes; lmdb-js grows it as needed, and we stop it at the limit. */
export const mapSizeInitialDefaultBytes = 64 * 1024 * 1024;

/** How many entries at the tail of the log `LmdbLogStore.open` checksums by default. */
export const verifyTailEntriesDefault = 4096;

/** Default number of snapshots a snapshot store keeps. */
export const snapshotsKeptDefault = 2;
