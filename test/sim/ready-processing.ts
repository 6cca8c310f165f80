/**
 * Processing one node's Ready in the order src/core/ready.ts prescribes (persist, send, install
 * and apply, release reads, advance), with the checker's hooks at each step, plus crashes in the
 * middle of a Ready and the node's own snapshots.
 */
import type { ReadState, Ready } from '../../src/core/ready.js';
import type { Entry } from '../../src/core/types.js';
import type { Cluster } from './cluster.js';
import { configOfLog, sameConfig } from './state-machine.js';
import type { SimNode } from './sim-node.js';
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
  const previousCommit = durable.hardState.commit;
  if (rd.hardState !== null) {
    checker.onHardState(node, durable.hardState, rd.hardState);
    durable.hardState = { ...rd.hardState };
    node.term = rd.hardState.term;
  }
  checker.onCommitPersisted(node);
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
