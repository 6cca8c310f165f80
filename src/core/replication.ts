/**
 * The leader's side of replication: sending AppendEntries and snapshot chunks per follower
 * progress, handling their answers, advancing the commit index, heartbeats and read rounds.
 *
 * Proposals are not sent one by one: `propose()` only appends to the log, and `flushLeader()` (run
 * when the caller asks for a Ready) sends what each follower is missing in as few AppendEntries as
 * `maxBatchBytes` and the in-flight window allow. That is the batching.
 *
 * @module
 */
import { assert } from './errors.js';
import type { Progress } from './progress.js';
import { majorityMatchIndex, quorumSize } from './quorum.js';
import type { Raft } from './raft.js';
import type { AppendEntriesResponse, InstallSnapshotResponse, NodeId } from './types.js';

const NO_ENTRIES: never[] = [];

/** The leader committed an entry of its own term (only then is its commit index known to be current). */
export function committedInTerm(r: Raft): boolean {
  return r.log.term(r.log.commitIndex) === r.term;
}

/**
 * Sends everything pending: read rounds, and entries to each follower (each AppendEntries carries
 * the commit index too). Then steps down if this leader was removed and that change committed.
 *
 * A commit index that moved while a follower has no new entries to receive is not sent on its own
 * here: under load the next entries carry it, and `sendCommitNews` sends it on the next tick
 * otherwise. In a closed loop of writes (clients wait for the commit, then write again) every
 * commit found the followers with nothing new, so each batch of entries cost a second, empty
 * AppendEntries and its answer: half the leader's messages, each a system call of its own.
 */
export function flushLeader(r: Raft): void {
  maybeCommit(r);
  if (r.role !== 'leader') return;
  // One read round in flight at a time (as etcd's server keeps one ReadIndex outstanding): the
  // oldest pending read waits for a round not yet broadcast only once every earlier round is
  // confirmed; reads that arrive meanwhile share the next round, so under load a round confirms
  // many reads instead of each event-loop turn paying for its own heartbeats.
  const head = r.readOnly.headRound();
  if (head !== Number.POSITIVE_INFINITY && head > r.readRoundSent) sendReadRound(r, false);
  for (const [to, pr] of r.progress) {
    while (maybeSendAppend(r, to, pr, false)) {
      if (pr.state !== 'replicate') break;
    }
  }
  if (r.stepDownPending) handOver(r);
}

/**
 * The leader's removal committed: tell the followers the commit (no later tick of this leader
 * will), hand leadership to a voter that holds the whole log (TimeoutNow, as in a transfer, so
 * the cluster need not wait out an election timeout), then step down.
 */
function handOver(r: Raft): void {
  sendCommitNews(r);
  const lastIndex = r.log.lastIndex();
  for (const id of r.config.voters) {
    const pr = r.progress.get(id);
    if (pr !== undefined && pr.matchIndex === lastIndex) {
      sendTimeoutNow(r, id);
      break;
    }
  }
  r.becomeFollower(r.term, null);
}

/**
 * Commits the highest index a majority of voters holds, if its entry is of the current term
 * (Figure 8: never by counting replicas of an older term's entry). Returns true when it moved.
 */
export function maybeCommit(r: Raft): boolean {
  const voters = r.config.voters;
  const values = voters.length <= r.scratch.length ? r.scratch : new Float64Array(voters.length);
  for (let k = 0; k < voters.length; k++) {
    const id = voters[k];
    values[k] = id === r.id ? r.log.persistedIndex : (r.progress.get(id)?.matchIndex ?? 0);
  }
  const index = majorityMatchIndex(values, voters.length);
  if (index <= r.log.commitIndex || r.log.term(index) !== r.term) return false;
  r.log.commitTo(index);
  onCommitAdvanced(r);
  return true;
}

function onCommitAdvanced(r: Raft): void {
  // A leader not in its own configuration leaves once the change that removed it commits.
  if (!r.isVoter() && r.configIndex <= r.log.commitIndex) r.stepDownPending = true;
  if (r.retirees.size > 0 && r.configIndex <= r.log.commitIndex) {
    // The removal is final: heartbeats carry the commit to the removed nodes for one more
    // election timeout, then the leader forgets them.
    for (const [id, untilTick] of r.retirees) {
      if (untilTick === Infinity) r.retirees.set(id, r.tickCount + r.cfg.electionTimeoutMaxTicks);
    }
  }
  if (r.readsAwaitingTermCommit.length > 0 && committedInTerm(r)) {
    const contexts = r.readsAwaitingTermCommit;
    r.readsAwaitingTermCommit = [];
    for (const context of contexts) r.readIndex(context);
  }
}

/**
 * The tick's commit news: an AppendEntries to each follower whose known commit index is behind
 * and to which no entries went since it moved (see flushLeader). A follower learns a commit at
 * most one tick late, so its stale reads and its applied state lag by as much.
 */
export function sendCommitNews(r: Raft): void {
  for (const [to, pr] of r.progress) {
    if (pr.state === 'replicate' && pr.sentCommit < r.log.commitIndex) maybeSendAppend(r, to, pr, true);
  }
}

/**
 * Sends the next AppendEntries (or snapshot) to `to` if its progress allows. Returns true when a
 * message went out. With no entries to send, a follower in the replicate state gets one only for
 * `commitNews`, and then only when its commit index is behind.
 */
function maybeSendAppend(r: Raft, to: NodeId, pr: Progress, commitNews: boolean): boolean {
  if (pr.isPaused()) return false;
  const log = r.log;
  const prevLogIndex = pr.nextIndex - 1;
  const prevLogTerm = log.term(prevLogIndex);
  if (prevLogTerm === undefined) {
    sendSnapshotStart(r, to, pr);
    return false;
  }
  const lastIndex = log.lastIndex();
  const entries = pr.nextIndex <= lastIndex ? log.slice(pr.nextIndex, lastIndex + 1, r.cfg.maxBatchBytes) : NO_ENTRIES;
  const leaderCommit = Math.min(log.commitIndex, prevLogIndex + entries.length);
  if (entries.length === 0 && pr.state === 'replicate' && (!commitNews || leaderCommit <= pr.sentCommit)) return false;
  if (entries.length === 0 && pr.state === 'probe' && leaderCommit <= pr.sentCommit && prevLogIndex === pr.matchIndex) return false;
  r.msgs.push({
    type: 'AppendEntries', from: r.id, to, term: r.term, leaderId: r.id,
    prevLogIndex, prevLogTerm, entries, leaderCommit, context: r.readOnly.round,
  });
  if (leaderCommit > pr.sentCommit) pr.sentCommit = leaderCommit;
  if (pr.state === 'replicate') {
    if (entries.length > 0) pr.sentEntries(prevLogIndex + entries.length);
  } else {
    pr.probeSent = true;
    pr.probeSentRound = r.readOnly.round;
  }
  return true;
}

/** Progress state changes start a new round, so answers to older messages can be told apart. */
export function becomeProbe(r: Raft, pr: Progress): void {
  pr.becomeProbe();
  pr.stateRound = r.readOnly.nextRound(r.tickCount);
}

function becomeReplicate(r: Raft, pr: Progress): void {
  pr.becomeReplicate();
  pr.stateRound = r.readOnly.nextRound(r.tickCount);
}

function sendSnapshotStart(r: Raft, to: NodeId, pr: Progress): void {
  const snapshot = r.snapshot;
  assert(
    snapshot !== null && snapshot.meta.lastIncludedIndex >= r.log.snapshotIndex,
    () => `leader ${r.id} must send a snapshot to ${to} (next ${pr.nextIndex}) but holds none past ${r.log.snapshotIndex}`,
  );
  pr.becomeSnapshot(snapshot);
  pr.stateRound = r.readOnly.nextRound(r.tickCount);
  sendSnapshotChunk(r, to, pr);
}

function sendSnapshotChunk(r: Raft, to: NodeId, pr: Progress): void {
  const snapshot = pr.snapshot;
  assert(snapshot !== null, () => `sendSnapshotChunk to ${to} in state ${pr.state}`);
  const total = snapshot.data.length;
  const offset = Math.min(pr.snapshotOffset, total);
  const end = Math.min(offset + r.cfg.maxSnapshotChunkBytes, total);
  r.msgs.push({
    type: 'InstallSnapshot', from: r.id, to, term: r.term, leaderId: r.id,
    lastIncludedIndex: snapshot.meta.lastIncludedIndex, lastIncludedTerm: snapshot.meta.lastIncludedTerm,
    offset, data: snapshot.data.subarray(offset, end), done: end === total,
    config: { voters: snapshot.meta.config.voters.slice(), learners: snapshot.meta.config.learners.slice() },
  });
  pr.snapshotSentTick = r.tickCount;
}

/**
 * The tick's heartbeats: to every follower, starting a new read round, and retransmitting what
 * seems lost (a snapshot chunk, or appends stuck in flight).
 */
export function bcastHeartbeat(r: Raft): void {
  const round = r.readOnly.nextRound(r.tickCount);
  r.readRoundSent = round;
  for (const [to, pr] of r.progress) {
    retransmitIfStalled(r, to, pr);
    sendHeartbeat(r, to, pr, round);
  }
}

/**
 * Heartbeats starting a read round for pending reads. A read needs a quorum's acknowledgement, not
 * everyone's, so the round goes only to the voters that complete a quorum with this leader, those
 * that acknowledged a round most recently (`readRoundTargets`): in a 3-node cluster this halves
 * the read rounds' messages on every node, and the round waits for the follower that has been
 * answering fastest. With `everyone`, it goes to every other voter: `retryReadRound` asks so when
 * a round stays unconfirmed (a lost message, a follower stalled or gone).
 */
function sendReadRound(r: Raft, everyone: boolean): void {
  const round = r.readOnly.nextRound(r.tickCount);
  r.readRoundSent = round;
  const targets = everyone ? r.config.voters : readRoundTargets(r);
  for (let k = 0; k < targets.length; k++) {
    const to = targets[k]!;
    const pr = to === r.id ? undefined : r.progress.get(to);
    if (pr !== undefined) sendHeartbeat(r, to, pr, round);
  }
}

/**
 * Called on each tick without the tick's heartbeats: a read round still unconfirmed a tick after it
 * began is asked again of every voter in a new round, so a read whose chosen follower does not
 * answer waits about a tick (10 ms by default), not a heartbeat interval.
 */
export function retryReadRound(r: Raft): void {
  const head = r.readOnly.headRound();
  // Nothing waits, or what waits needs a round not yet sent (the next flush sends it).
  if (head === Number.POSITIVE_INFINITY || head > r.readRoundSent) return;
  if (r.tickCount - r.readOnly.roundTick(r.readRoundSent) < 1) return;
  sendReadRound(r, true);
}

function sendHeartbeat(r: Raft, to: NodeId, pr: Progress, round: number): void {
  const log = r.log;
  let prevLogIndex = pr.matchIndex;
  let prevLogTerm = log.term(prevLogIndex);
  if (prevLogTerm === undefined) {
    // The follower's match is compacted away; any index below its commit is accepted.
    prevLogIndex = 0;
    prevLogTerm = 0;
  }
  const leaderCommit = Math.min(log.commitIndex, prevLogIndex);
  r.msgs.push({
    type: 'AppendEntries', from: r.id, to, term: r.term, leaderId: r.id,
    prevLogIndex, prevLogTerm, entries: NO_ENTRIES, leaderCommit, context: round,
  });
  if (leaderCommit > pr.sentCommit) pr.sentCommit = leaderCommit;
}

/**
 * The fewest other voters whose acknowledgements, with this leader's own (when it is a voter),
 * make a quorum: those with the highest `ackedRound`, ties in configuration order. Learners never
 * count. Reuses one array (rounds are frequent under read load; the caller reads it at once).
 */
function readRoundTargets(r: Raft): readonly NodeId[] {
  const voters = r.config.voters;
  const targets = r.readRoundTargetsScratch;
  targets.length = 0;
  let needed = quorumSize(voters.length) - (r.isVoter() ? 1 : 0);
  while (needed-- > 0) {
    let best: NodeId | null = null;
    let bestRound = -1;
    for (let k = 0; k < voters.length; k++) {
      const id = voters[k]!;
      if (id === r.id || targets.includes(id)) continue;
      const pr = r.progress.get(id);
      if (pr !== undefined && pr.ackedRound > bestRound) {
        best = id;
        bestRound = pr.ackedRound;
      }
    }
    if (best === null) break;
    targets.push(best);
  }
  return targets;
}

function retransmitIfStalled(r: Raft, to: NodeId, pr: Progress): void {
  if (pr.state === 'snapshot') {
    if (r.tickCount - pr.snapshotSentTick >= 2 * r.cfg.heartbeatIntervalTicks) sendSnapshotChunk(r, to, pr);
    return;
  }
  if (pr.state === 'replicate' && pr.inflights.size > 0) {
    // Appends in flight and nothing acknowledged for two heartbeats: assume they were lost.
    pr.stalledRounds = pr.matchIndex === pr.matchAtLastHeartbeat ? pr.stalledRounds + 1 : 0;
    if (pr.stalledRounds >= 2) becomeProbe(r, pr);
  }
  pr.matchAtLastHeartbeat = pr.matchIndex;
}

export function handleAppendEntriesResponse(r: Raft, m: AppendEntriesResponse): void {
  const pr = r.progress.get(m.from);
  if (pr === undefined) return;
  pr.recentActive = true;
  if (m.context > pr.ackedRound) {
    pr.ackedRound = m.context;
    maybeReleaseReads(r);
  }
  if (!m.success) {
    handleRejection(r, pr, m);
    return;
  }
  if (m.lastLogIndex > r.log.lastIndex()) assert(false, () => `follower ${m.from} acknowledged index ${m.lastLogIndex} beyond leader ${r.id}'s last index ${r.log.lastIndex()} in term ${r.term}`);
  // What a follower acknowledged stays true within the term, however old the answer: use it.
  const updated = pr.maybeUpdate(m.lastLogIndex);
  switch (pr.state) {
    case 'probe':
      if (updated) becomeReplicate(r, pr);
      // An answer to a message sent after the probe (a heartbeat) shows the probe was lost.
      else if (m.context > pr.probeSentRound) pr.probeSent = false;
      break;
    case 'snapshot':
      if (updated && pr.snapshot !== null && pr.matchIndex >= pr.snapshot.meta.lastIncludedIndex) becomeProbe(r, pr);
      break;
    case 'replicate':
      if (updated) {
        pr.inflights.freeLE(pr.matchIndex);
        pr.growWindow();
      }
      break;
  }
  if (!updated) return;
  maybeCommit(r);
  if (r.leadTransferee === m.from && pr.matchIndex === r.log.lastIndex()) sendTimeoutNow(r, m.from);
}

function handleRejection(r: Raft, pr: Progress, m: AppendEntriesResponse): void {
  const rejected = m.lastLogIndex;
  // Answers to messages sent before the last state change say nothing about the current one.
  if (m.context < pr.stateRound) return;
  switch (pr.state) {
    case 'snapshot':
      return;
    case 'replicate':
      if (rejected <= pr.matchIndex) return; // stale
      break;
    case 'probe':
      if (rejected !== pr.nextIndex - 1) {
        // Stale; but if it answers a message sent after the probe, the probe was lost.
        if (m.context > pr.probeSentRound) pr.probeSent = false;
        return;
      }
      break;
  }
  let next: number;
  if (m.conflictTerm === 0) {
    next = m.conflictIndex;
  } else {
    // The thesis's fast backup: after our last entry of the follower's conflicting term, else
    // at the first index the follower holds of that term.
    const j = r.log.lastIndexWithTermAtMost(m.conflictTerm, rejected);
    next = r.log.term(j) === m.conflictTerm ? j + 1 : m.conflictIndex;
  }
  if (pr.state === 'replicate') becomeProbe(r, pr);
  pr.probeSent = false;
  pr.nextIndex = Math.max(pr.matchIndex + 1, Math.min(next, rejected));
  pr.checkInvariant();
}

export function handleInstallSnapshotResponse(r: Raft, m: InstallSnapshotResponse): void {
  const pr = r.progress.get(m.from);
  if (pr === undefined) return;
  pr.recentActive = true;
  const snapshot = pr.snapshot;
  if (pr.state !== 'snapshot' || snapshot === null || m.lastIncludedIndex !== snapshot.meta.lastIncludedIndex) return;
  if (!m.success) {
    becomeProbe(r, pr);
    pr.nextIndex = pr.matchIndex + 1;
    return;
  }
  if (m.bytesReceived >= snapshot.data.length) {
    pr.maybeUpdate(snapshot.meta.lastIncludedIndex);
    becomeProbe(r, pr);
    maybeCommit(r);
    return;
  }
  pr.snapshotOffset = m.bytesReceived;
  sendSnapshotChunk(r, m.from, pr);
}

export function sendTimeoutNow(r: Raft, to: NodeId): void {
  r.leaseVoided = true;
  r.msgs.push({ type: 'TimeoutNow', from: r.id, to, term: r.term, leaderId: r.id });
}

/** The highest round a quorum of voters (this leader counting as the current round) acknowledged. */
export function quorumAckedRound(r: Raft): number {
  const voters = r.config.voters;
  const values = voters.length <= r.scratch.length ? r.scratch : new Float64Array(voters.length);
  for (let k = 0; k < voters.length; k++) {
    const id = voters[k];
    values[k] = id === r.id ? r.readOnly.round : (r.progress.get(id)?.ackedRound ?? 0);
  }
  return majorityMatchIndex(values, voters.length);
}

export function maybeReleaseReads(r: Raft): void {
  if (r.readOnly.pendingCount === 0) return;
  r.readOnly.release(quorumAckedRound(r), r.readStates);
}
