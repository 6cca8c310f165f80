/**
 * The follower's side of replication: AppendEntries (the consistency check, conflict truncation and
 * the rejection hints of thesis §5.3) and InstallSnapshot received in chunks.
 *
 * @module
 */
import { copyConfig } from './conf-change.js';
import { assert } from './errors.js';
import type { Raft } from './raft.js';
import type { AppendEntriesRequest, ClusterConfig, InstallSnapshotRequest, Snapshot } from './types.js';

/** Largest snapshot a follower accepts, in bytes (a peer chooses the size, so it is bounded). */
export const SNAPSHOT_BYTES_MAX = 2 ** 31 - 1;

/** A snapshot being received in chunks. */
export interface IncomingSnapshot {
  index: number;
  term: number;
  config: ClusterConfig;
  chunks: Uint8Array[];
  bytes: number;
}

export function handleAppendEntries(r: Raft, m: AppendEntriesRequest): void {
  const log = r.log;
  let prevLogIndex = m.prevLogIndex;
  let prevLogTerm = m.prevLogTerm;
  let entries = m.entries;
  if (prevLogIndex < log.commitIndex) {
    // Everything up to our commit index already matches the leader's log (Leader Completeness):
    // skip that part of the message and append the rest after our commit index.
    const skip = Math.min(entries.length, log.commitIndex - prevLogIndex);
    entries = skip === 0 ? entries : entries.slice(skip);
    prevLogIndex = m.prevLogIndex + skip;
    if (prevLogIndex < log.commitIndex) {
      respondAppend(r, m, true, log.commitIndex, 0, 0);
      return;
    }
    const term = log.term(prevLogIndex);
    assert(term !== undefined, () => `no term at our commit index ${prevLogIndex}: ${log.describe()}`);
    if (skip > 0 && m.entries[skip - 1].term !== term) {
      assert(false, () => `leader ${m.from} sent ${prevLogIndex}@${m.entries[skip - 1].term} but ${prevLogIndex}@${term} is committed here: ${log.describe()}`);
    }
    prevLogTerm = term;
  }
  if (log.matchTerm(prevLogIndex, prevLogTerm)) {
    const lastNewIndex = prevLogIndex + entries.length;
    if (entries.length > 0) {
      const conflict = prevLogIndex === log.lastIndex() ? entries[0].index : log.findConflict(entries);
      if (conflict !== 0) {
        assert(conflict > log.commitIndex, () => `entry ${conflict} conflicts with a committed entry: ${log.describe()}`);
        const start = conflict - entries[0].index;
        log.append(start === 0 ? entries : entries.slice(start));
        r.refreshConfig();
      }
    }
    log.commitTo(Math.min(m.leaderCommit, lastNewIndex));
    respondAppend(r, m, true, lastNewIndex, 0, 0);
    return;
  }
  // Rejection with the conflict hint (thesis §5.3): the leader can skip a whole term at once.
  let conflictTerm = 0;
  let conflictIndex = log.lastIndex() + 1;
  if (m.prevLogIndex <= log.lastIndex()) {
    conflictTerm = log.term(m.prevLogIndex) ?? 0;
    conflictIndex = log.firstIndexOfTermAt(m.prevLogIndex);
  }
  respondAppend(r, m, false, m.prevLogIndex, conflictIndex, conflictTerm);
}

/** On rejection, `lastLogIndex` carries the rejected prevLogIndex so the leader can tell stale answers. */
function respondAppend(r: Raft, m: AppendEntriesRequest, success: boolean, lastLogIndex: number, conflictIndex: number, conflictTerm: number): void {
  r.msgs.push({
    type: 'AppendEntriesResponse', from: r.id, to: m.from, term: r.term,
    success, lastLogIndex, conflictIndex, conflictTerm, context: m.context,
  });
}

export function handleInstallSnapshot(r: Raft, m: InstallSnapshotRequest): void {
  const log = r.log;
  const index = m.lastIncludedIndex;
  if (index <= log.commitIndex || log.matchTerm(index, m.lastIncludedTerm)) {
    // We hold everything the snapshot covers: tell the leader where we are instead.
    r.incomingSnapshot = null;
    log.commitTo(Math.min(index, log.lastIndex()));
    r.msgs.push({
      type: 'AppendEntriesResponse', from: r.id, to: m.from, term: r.term, success: true,
      lastLogIndex: log.commitIndex, conflictIndex: 0, conflictTerm: 0, context: 0,
    });
    return;
  }
  let incoming = r.incomingSnapshot;
  if (m.offset === 0) {
    incoming = { index, term: m.lastIncludedTerm, config: copyConfig(m.config), chunks: [], bytes: 0 };
    r.incomingSnapshot = incoming;
  }
  const respond = (bytesReceived: number, success: boolean): void => {
    r.msgs.push({ type: 'InstallSnapshotResponse', from: r.id, to: m.from, term: r.term, lastIncludedIndex: index, bytesReceived, success });
  };
  if (incoming === null || incoming.index !== index || incoming.term !== m.lastIncludedTerm) {
    respond(0, true); // Not the snapshot we are assembling: start again from byte 0.
    return;
  }
  if (m.offset !== incoming.bytes) {
    respond(incoming.bytes, true); // A duplicate or a gap: say where to continue.
    return;
  }
  if (incoming.bytes + m.data.length > SNAPSHOT_BYTES_MAX) {
    r.incomingSnapshot = null;
    respond(0, false);
    return;
  }
  if (m.data.length > 0) incoming.chunks.push(m.data);
  incoming.bytes += m.data.length;
  if (m.done) {
    r.incomingSnapshot = null;
    const data = concat(incoming.chunks, incoming.bytes);
    restoreSnapshot(r, { meta: { lastIncludedIndex: index, lastIncludedTerm: incoming.term, config: incoming.config }, data });
  }
  respond(incoming.bytes, true);
}

function restoreSnapshot(r: Raft, snapshot: Snapshot): void {
  r.log.restore(snapshot.meta.lastIncludedIndex, snapshot.meta.lastIncludedTerm);
  r.snapshot = snapshot;
  r.receivedSnapshot = snapshot;
  r.snapshotConfig = copyConfig(snapshot.meta.config);
  r.config = r.snapshotConfig;
  r.configIndex = snapshot.meta.lastIncludedIndex;
  r.configTerm = -1;
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
