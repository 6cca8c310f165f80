/**
 * Elections: campaigning (with the pre-vote round of thesis §9.6), granting votes, counting them,
 * and the two liveness checks that keep a healthy leader in place (check-quorum and the
 * leader lease of thesis §4.2.3). Role transitions themselves stay in raft.ts.
 *
 * @module
 */
import { assert } from './errors.js';
import { voteResult } from './quorum.js';
import type { Raft } from './raft.js';
import type { RequestVoteRequest, RequestVoteResponse } from './types.js';

/** Starts a (pre-)vote round; a single-voter cluster wins it on the spot. */
export function campaign(r: Raft, preVote: boolean, leadershipTransfer: boolean): void {
  let voteTerm: number;
  if (preVote) {
    r.becomePreCandidate();
    voteTerm = r.term + 1;
  } else {
    r.becomeCandidate();
    voteTerm = r.term;
  }
  r.votes.set(r.id, true);
  if (voteResult(r.config.voters, r.votes) === 'won') {
    if (preVote) campaign(r, false, leadershipTransfer);
    else r.becomeLeader();
    return;
  }
  const lastLogIndex = r.log.lastIndex();
  const lastLogTerm = r.log.lastTerm();
  for (const to of r.config.voters) {
    if (to === r.id) continue;
    const request: RequestVoteRequest = {
      type: 'RequestVote', from: r.id, to, term: voteTerm, candidateId: r.id,
      lastLogIndex, lastLogTerm, preVote, leadershipTransfer,
    };
    r.msgs.push(request);
  }
}

export function handleRequestVote(r: Raft, m: RequestVoteRequest): void {
  // Pre-vote: refuse while a leader is known to be alive, so a node coming back from a partition
  // cannot start an election that would depose a healthy leader (thesis §9.6).
  const leaderAlive = m.preVote && !m.leadershipTransfer && inLease(r);
  const canVote = r.vote === m.from || (r.vote === null && r.leaderId === null) || (m.preVote && m.term > r.term);
  const granted = canVote && !leaderAlive && r.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
  const response: RequestVoteResponse = {
    type: 'RequestVoteResponse', from: r.id, to: m.from,
    term: granted ? m.term : r.term, voteGranted: granted, preVote: m.preVote,
  };
  r.msgs.push(response);
  if (granted && !m.preVote) {
    assert(m.term === r.term, () => `granting a vote for term ${m.term} in term ${r.term}`);
    r.electionElapsed = 0;
    r.vote = m.from;
  }
}

/** A (pre-)candidate counts an answer; a won pre-vote round goes on to the real election. */
export function handleRequestVoteResponse(r: Raft, m: RequestVoteResponse): void {
  if (m.preVote !== (r.role === 'preCandidate')) return;
  r.votes.set(m.from, m.voteGranted);
  const result = voteResult(r.config.voters, r.votes);
  if (result === 'won') {
    if (r.role === 'preCandidate') campaign(r, false, false);
    else r.becomeLeader();
  } else if (result === 'lost') {
    r.becomeFollower(r.term, null);
  }
}

/**
 * Check-quorum: did a majority (this leader included, if a voter) talk to us since the last check?
 * Clears every follower's `recentActive` for the next check.
 */
export function quorumActive(r: Raft): boolean {
  let active = 0;
  for (const id of r.config.voters) {
    if (id === r.id) active++;
    else {
      const pr = r.progress.get(id);
      if (pr !== undefined && pr.recentActive) active++;
    }
  }
  for (const pr of r.progress.values()) pr.recentActive = false;
  return active >= (r.config.voters.length >> 1) + 1;
}

/**
 * A leader, or a node that heard from one less than the minimum election timeout ago, ignores
 * elections (thesis §4.2.3). The clock is `leaderContactTick`, not the role or the term: a
 * higher term learned from some answer must not cut short a lease this node granted. It starts
 * at 0, so a node that just (re)started honours a lease it may have granted before crashing.
 */
export function inLease(r: Raft): boolean {
  if (r.role === 'leader') return true;
  return r.tickCount - r.leaderContactTick < r.cfg.electionTimeoutMinTicks;
}
