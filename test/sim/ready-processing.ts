/**
 * Processing one node's Ready in the order src/core/ready.ts prescribes (persist, send, install
 * and apply, release reads, advance), with the checker's hooks at each step, plus crashes in the
 * middle of a Ready and the node's own snapshots.
 */
import type { ReadState, Ready } from '../../src/core/ready.js';
import type { Entry, Message } from '../../src/core/types.js';
import type { Cluster } from './cluster.js';
import { configOfLog, sameConfig } from './state-machine.js';
import type { PendingWrite, SimNode } from './sim-node.js';
import { describeMessage } from './trace.js';

function isConfChange(e: Entry): boolean {
  return e.type === 'confChange';
}

/**
 * A change takes effect when it is appended (docs/membership.md), so once a Ready is persisted the
 * core's configuration must be the one its durable log describes: the last change in the log,
 * else the snapshot's, else the initial one. Checked whenever a change is appended or truncated
 * away, a snapshot is installed, and on every restart.
 */
export function checkConfig(cluster: Cluster, node: SimNode): void {
  const expected = configOfLog(node.durable.snapshot, node.durable.entries, cluster.initialConfig);
  const actual = node.raw!.status().config;
  if (!sameConfig(expected, actual)) {
    cluster.checker.fail(
      'configuration follows the log',
      `${node.id}'s configuration is voters [${actual.voters.join(',')}] learners [${actual.learners.join(',')}] but its log says voters [${expected.voters.join(',')}] learners [${expected.learners.join(',')}]`,
    );
  }
}

/** Ready rounds one event may cause before we call it a livelock. */
export const readyRoundsMax = 10_000;

export function processReady(cluster: Cluster, node: SimNode): void {
  if (cluster.asyncWrites) return processReadyAsync(cluster, node);
  const raw = node.raw!;
  for (let rounds = 0; raw.hasReady(); rounds++) {
    if (rounds >= readyRoundsMax) cluster.checker.fail('no livelock', `${node.id} still has a Ready after ${readyRoundsMax} rounds`);
    if (node.tornCrash) return tornCrash(cluster, node, raw.ready());
    handleReady(cluster, node, raw.ready());
    raw.advance();
    if (cluster.snapshots && raw.snapshotDue()) takeSnapshot(cluster, node);
  }
}

/**
 * Crashes `node` part-way through `rd`, at one of three points: before persisting anything (a
 * leader may already have sent its AppendEntries/InstallSnapshot, the one exception the Ready
 * rules allow); after persisting the snapshot and entries but not the hard state (a torn write,
 * which the core recovers on restore); or after persisting everything but before sending.
 */
function tornCrash(cluster: Cluster, node: SimNode, rd: Ready): void {
  node.tornCrash = false;
  const stage = cluster.faultPrng.int(3);
  if (stage === 0 && node.role === 'leader') {
    for (const m of rd.messages) if (m.type === 'AppendEntries' || m.type === 'InstallSnapshot') cluster.network.send(m, cluster.nowMs);
  }
  if (stage >= 1) {
    const wasLeaderInTerm = node.role === 'leader' && (rd.hardState === null || rd.hardState.term === node.term);
    cluster.checker.checkLeaderAppendOnly(node, wasLeaderInTerm, rd.entries, rd.snapshot);
    if (rd.snapshot !== null) {
      cluster.checker.onSnapshotInstall(node, rd.snapshot, node.sm!.appliedIndex);
      node.durable.installSnapshot(rd.snapshot);
    }
    if (rd.entries.length > 0) {
      node.durable.append(rd.entries);
      cluster.checker.onEntriesPersisted(node, rd.entries);
    }
  }
  if (stage === 2 && rd.hardState !== null) {
    cluster.checker.onHardState(node, node.durable.hardState, rd.hardState);
    node.durable.hardState = { ...rd.hardState };
    node.term = rd.hardState.term;
  }
  if (stage >= 1) cluster.checker.onCommitPersisted(node);
  cluster.events--; // the crash belongs to the event during which the Ready was processed
  cluster.crash(node.id);
  cluster.record('torn crash', `${node.id} ${['before persisting', 'after entries, before hard state', 'after persisting, before sending'][stage]}`);
}

function takeSnapshot(cluster: Cluster, node: SimNode): void {
  const sm = node.sm!;
  if (sm.appliedIndex <= node.durable.snapshotIndex()) return;
  const snapshot = sm.takeSnapshot();
  node.durable.compact(snapshot);
  node.raw!.snapshotTaken(snapshot);
  cluster.stats.snapshotsTaken++;
}

function handleReady(cluster: Cluster, node: SimNode, rd: Ready): void {
  const checker = cluster.checker;
  const durable = node.durable;
  const sm = node.sm!;
  // 1. Persist: snapshot, entries, hard state.
  const wasLeaderInTerm = node.role === 'leader' && (rd.hardState === null || rd.hardState.term === node.term);
  checker.checkLeaderAppendOnly(node, wasLeaderInTerm, rd.entries, rd.snapshot);
  let configTouched = false;
  if (rd.snapshot !== null) {
    checker.onSnapshotInstall(node, rd.snapshot, sm.appliedIndex);
    durable.installSnapshot(rd.snapshot);
    cluster.stats.snapshotsInstalled++;
    configTouched = true;
  }
  if (rd.entries.length > 0) {
    const truncated = durable.append(rd.entries);
    checker.onEntriesPersisted(node, rd.entries);
    configTouched ||= truncated.some(isConfChange) || rd.entries.some(isConfChange);
  }
  if (configTouched) checkConfig(cluster, node);
  const previousCommit = persistHardState(cluster, node, rd);
  if (rd.softState !== null) {
    const becameLeader = rd.softState.role === 'leader' && node.role !== 'leader';
    node.role = rd.softState.role;
    node.leaderId = rd.softState.leaderId;
    if (becameLeader) checker.onBecomeLeader(node, node.term, node.raw!.status().config.voters);
  }
  checker.checkLeaderCommitRule(node, wasLeaderInTerm, previousCommit);
  // 2. Send.
  for (const m of rd.messages) {
    if (m.from !== node.id || m.to === node.id) checker.fail('message addressing', `${node.id} sends ${describeMessage(m)}`);
    cluster.network.send(m, cluster.nowMs);
    if (cluster.onSend !== undefined) cluster.onSend(m);
  }
  cluster.stats.messagesSent += rd.messages.length;
  if (rd.messages.length > 0) cluster.countSent(rd.messages.length);
  // 3. Install the snapshot, apply committed entries.
  if (rd.snapshot !== null) {
    sm.restore(rd.snapshot);
    checker.onSnapshotInstalled(node, rd.snapshot.meta.lastIncludedIndex, sm.hash);
  }
  for (const e of rd.committedEntries) {
    checker.onApply(node, e, sm.appliedIndex);
    sm.apply(e);
    checker.afterApply(node, e, sm.hash);
  }
  // 4. Release reads the state machine has caught up with.
  for (const rs of rd.readStates) node.waitingReads.push(rs);
  if (node.waitingReads.length > 0) releaseReads(cluster, node);
}

/** Persists the Ready's hard state, if any, and records what the durable commit makes committed; returns the commit before. */
function persistHardState(cluster: Cluster, node: SimNode, rd: Ready): number {
  const durable = node.durable;
  const previousCommit = durable.hardState.commit;
  if (rd.hardState !== null) {
    cluster.checker.onHardState(node, durable.hardState, rd.hardState);
    durable.hardState = { ...rd.hardState };
    node.term = rd.hardState.term;
  }
  cluster.checker.onCommitPersisted(node);
  return previousCommit;
}

function releaseReads(cluster: Cluster, node: SimNode): void {
  const sm = node.sm!;
  const still: ReadState[] = [];
  for (const rs of node.waitingReads) {
    if (rs.index > sm.appliedIndex) {
      still.push(rs);
      continue;
    }
    const pending = node.pendingReads.get(rs.context);
    node.pendingReads.delete(rs.context);
    cluster.checker.onReadReleased(node, rs, pending, sm.appliedIndex, sm.hash);
  }
  node.waitingReads = still;
}

// --- asynchronous storage writes -------------------------------------------------------------------

/**
 * With `asyncStorageWrites` (src/core/ready.ts): each Ready is handed out at once (a leader's
 * AppendEntries sent, committed entries applied, reads released) while its write stays in flight;
 * writes finish in order at the disk's pace, which the fault generator picks (some of the oldest
 * at each event for this node), and only then are the held-back messages sent and the core told
 * `persisted()`. A crash loses every write still in flight. A Ready with a snapshot from the
 * leader, and taking a snapshot, first let every earlier write finish.
 */
function processReadyAsync(cluster: Cluster, node: SimNode): void {
  const raw = node.raw!;
  completeWrites(cluster, node, cluster.faultPrng.int(node.pendingWrites.length + 1));
  for (let rounds = 0; node.raw === raw && raw.hasReady(); rounds++) {
    if (rounds >= readyRoundsMax) cluster.checker.fail('no livelock', `${node.id} still has a Ready after ${readyRoundsMax} rounds`);
    const rd = raw.ready();
    if (node.tornCrash) return crashWithWritesInFlight(cluster, node, rd);
    if (rd.snapshot !== null) {
      completeWrites(cluster, node, Number.POSITIVE_INFINITY);
      handleReady(cluster, node, rd);
      node.handoutTerm = node.term;
      raw.persisted(rd.logLastIndex, rd.logLastTerm);
      raw.appliedTo(node.sm!.appliedIndex);
    } else handOut(cluster, node, rd);
    if (cluster.snapshots && raw.snapshotDue()) {
      completeWrites(cluster, node, Number.POSITIVE_INFINITY);
      takeSnapshot(cluster, node);
    }
  }
}

function handOut(cluster: Cluster, node: SimNode, rd: Ready): void {
  const raw = node.raw!;
  const sm = node.sm!;
  const wasLeaderInTerm = node.role === 'leader' && (rd.hardState === null || rd.hardState.term === node.handoutTerm);
  if (rd.hardState !== null) node.handoutTerm = rd.hardState.term;
  let becameLeader = false;
  if (rd.softState !== null) {
    becameLeader = rd.softState.role === 'leader' && node.role !== 'leader';
    node.role = rd.softState.role;
    node.leaderId = rd.softState.leaderId;
  }
  const isLeader = node.role === 'leader';
  const held: Message[] = [];
  const early: Message[] = [];
  for (const m of rd.messages) (isLeader && (m.type === 'AppendEntries' || m.type === 'InstallSnapshot') ? early : held).push(m);
  send(cluster, node, early);
  const coreCommit = raw.status().commitIndex;
  for (const e of rd.committedEntries) {
    cluster.checker.onApply(node, e, sm.appliedIndex, coreCommit);
    sm.apply(e);
    cluster.checker.afterApply(node, e, sm.hash);
  }
  if (rd.committedEntries.length > 0) raw.appliedTo(sm.appliedIndex);
  for (const rs of rd.readStates) node.waitingReads.push(rs);
  if (node.waitingReads.length > 0) releaseReads(cluster, node);
  const voters = becameLeader ? raw.status().config.voters.slice() : [];
  node.pendingWrites.push({ ready: rd, wasLeaderInTerm, becameLeader, voters, held });
}

/** The oldest `count` writes in flight become durable, in order, each followed by what waited for it. */
function completeWrites(cluster: Cluster, node: SimNode, count: number): void {
  const raw = node.raw!;
  for (let k = 0; k < count && node.pendingWrites.length > 0 && node.raw === raw; k++) {
    const write = node.pendingWrites.shift()!;
    persist(cluster, node, write);
    send(cluster, node, write.held);
    raw.persisted(write.ready.logLastIndex, write.ready.logLastTerm);
  }
}

/** The persisting half of {@link handleReady}, for a write that finishes now. */
function persist(cluster: Cluster, node: SimNode, write: PendingWrite): void {
  const checker = cluster.checker;
  const durable = node.durable;
  const rd = write.ready;
  checker.checkLeaderAppendOnly(node, write.wasLeaderInTerm, rd.entries, null);
  let configTouched = false;
  if (rd.entries.length > 0) {
    const truncated = durable.append(rd.entries);
    checker.onEntriesPersisted(node, rd.entries);
    configTouched = truncated.some(isConfChange) || rd.entries.some(isConfChange);
  }
  // The core's configuration runs ahead of the disk while later writes are in flight, or while it
  // holds entries not yet handed out: compare only when its log and the disk's are the same. Same
  // last index is not enough: a leader's entry may have replaced the disk's last one in memory
  // (seed 2018817 truncated a removal there); same last index and term is (Log Matching).
  if (configTouched && node.pendingWrites.length === 0) {
    const core = node.raw!.status();
    if (core.lastIndex === durable.lastIndex() && core.lastTerm === durable.termAt(core.lastIndex)) checkConfig(cluster, node);
  }
  const previousCommit = persistHardState(cluster, node, rd);
  checker.checkLeaderCommitRule(node, write.wasLeaderInTerm, previousCommit);
  if (write.becameLeader) checker.onBecomeLeader(node, node.term, write.voters);
}

function send(cluster: Cluster, node: SimNode, messages: readonly Message[]): void {
  for (const m of messages) {
    if (m.from !== node.id || m.to === node.id) cluster.checker.fail('message addressing', `${node.id} sends ${describeMessage(m)}`);
    cluster.network.send(m, cluster.nowMs);
    if (cluster.onSend !== undefined) cluster.onSend(m);
  }
  cluster.stats.messagesSent += messages.length;
  if (messages.length > 0) cluster.countSent(messages.length);
}

/**
 * The torn crash of the asynchronous mode: the process dies with writes in flight. The Ready just
 * handed out may have sent its leader AppendEntries; a random prefix of the writes (this one
 * included) made it to disk; the rest is lost.
 */
function crashWithWritesInFlight(cluster: Cluster, node: SimNode, rd: Ready): void {
  node.tornCrash = false;
  if (node.role === 'leader' && cluster.faultPrng.chance(0.5)) {
    for (const m of rd.messages) if (m.type === 'AppendEntries' || m.type === 'InstallSnapshot') cluster.network.send(m, cluster.nowMs);
  }
  if (rd.snapshot === null) {
    const wasLeaderInTerm = node.role === 'leader' && (rd.hardState === null || rd.hardState.term === node.handoutTerm);
    node.pendingWrites.push({ ready: rd, wasLeaderInTerm, becameLeader: false, voters: [], held: [] });
  }
  const durableCount = cluster.faultPrng.int(node.pendingWrites.length + 1);
  for (let k = 0; k < durableCount; k++) persist(cluster, node, node.pendingWrites.shift()!);
  const lost = node.pendingWrites.length;
  cluster.events--; // the crash belongs to the event during which the Ready was processed
  cluster.crash(node.id);
  cluster.record('torn crash', `${node.id} with ${durableCount} write(s) durable and ${lost} lost`);
}
