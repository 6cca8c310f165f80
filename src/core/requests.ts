/**
 * Client work on the leader: proposals, membership changes, lease reads and leadership transfer.
 * (ReadIndex itself is on Raft, because a new leader replays the reads it deferred.)
 *
 * @module
 */
import { confChangeProblem, encodeConfChange } from './conf-change.js';
import { assert, ConfChangeRejectedError, NotLeaderError, ProposalDroppedError } from './errors.js';
import type { Raft } from './raft.js';
import { committedInTerm, quorumAckedRound, sendTimeoutNow } from './replication.js';
import type { ConfChange, NodeId } from './types.js';

function checkCanPropose(r: Raft): void {
  if (r.role !== 'leader') throw new NotLeaderError(r.leaderId);
  if (r.leadTransferee !== null) {
    throw new ProposalDroppedError(`leadership is being transferred to ${r.leadTransferee}; retry on the new leader`);
  }
  if (r.stepDownPending || (!r.isVoter() && r.configIndex <= r.log.commitIndex)) {
    throw new ProposalDroppedError(`${r.id} was removed from the cluster and is stepping down`);
  }
  const uncommitted = r.log.lastIndex() - r.log.commitIndex;
  if (uncommitted >= r.cfg.maxUncommittedEntries) {
    throw new ProposalDroppedError(`${uncommitted} entries are not committed yet (maxUncommittedEntries ${r.cfg.maxUncommittedEntries}); retry later`);
  }
}

/**
 * Appends `data` to the leader's log; it goes out with the next flush (batched with whatever else
 * was proposed meanwhile).
 */
export function propose(r: Raft, data: Uint8Array): number {
  checkCanPropose(r);
  return r.appendEntry('normal', data);
}

/**
 * One membership change at a time, and only once this leader committed an entry of its term (the
 * fix to the single-server change bug, see conf-change.ts).
 */
export function proposeConfChange(r: Raft, change: ConfChange): number {
  checkCanPropose(r);
  if (r.configIndex > r.log.commitIndex) {
    throw new ProposalDroppedError(`membership change at index ${r.configIndex} is not committed yet; one change at a time`);
  }
  if (!committedInTerm(r)) {
    throw new ProposalDroppedError('the new leader has not committed an entry of its term yet; retry shortly');
  }
  const problem = confChangeProblem(r.config, change);
  if (problem !== null) throw new ConfChangeRejectedError(problem);
  const index = r.appendEntry('confChange', encodeConfChange(change));
  r.refreshConfig();
  return index;
}

/** A read served on the leader's lease when it holds, else through ReadIndex. */
export function leaseRead(r: Raft, context: number): void {
  const index = leaseReadIndex(r);
  if (index !== null) r.readStates.push({ context, index });
  else r.readIndex(context);
}

/**
 * The read index a lease read would get at once (the commit index), or null when the lease does
 * not hold and a read would need a ReadIndex round. Changes nothing.
 */
export function leaseReadIndex(r: Raft): number | null {
  if (r.role !== 'leader') throw new NotLeaderError(r.leaderId);
  if (r.cfg.checkQuorum && r.leadTransferee === null && !r.leaseVoided && committedInTerm(r) && leaseValid(r)) return r.log.commitIndex;
  return null;
}

/** The leader's lease: a quorum acknowledged a round begun less than an election timeout ago (minus one tick of margin). */
function leaseValid(r: Raft): boolean {
  if (r.config.voters.length === 1 && r.isVoter()) return true;
  const confirmedRound = quorumAckedRound(r);
  return r.tickCount - r.readOnly.roundTick(confirmedRound) < r.cfg.electionTimeoutMinTicks - 1;
}

/** Leadership transfer (thesis §3.10): catch the target up, then TimeoutNow (see replication.ts). */
export function transferLeader(r: Raft, target: NodeId): void {
  if (r.role !== 'leader') throw new NotLeaderError(r.leaderId);
  if (target === r.id) return;
  if (!r.isVoter(target)) throw new ProposalDroppedError(`cannot transfer leadership to ${target}: not a voter`);
  if (r.leadTransferee === target) return;
  r.leadTransferee = target;
  r.electionElapsed = 0; // The transfer has one election timeout to finish.
  const pr = r.progress.get(target);
  assert(pr !== undefined, () => `no progress for voter ${target}`);
  if (pr.matchIndex === r.log.lastIndex()) sendTimeoutNow(r, target);
}
