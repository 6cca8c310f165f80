/**
 * Majority arithmetic: the commit index a set of match indices supports, and election tallies.
 * A leaf module (imports nothing from the protocol), checked against a dumb reference in tests.
 *
 * @module
 */
import { assert } from './errors.js';
import type { NodeId } from './types.js';

/** Votes needed for a majority of `voterCount` voters. */
export function quorumSize(voterCount: number): number {
  assert(voterCount > 0, () => `quorumSize of an empty voter set`);
  return (voterCount >> 1) + 1;
}

/**
 * The highest index that a majority of voters holds: sort the match indices descending and take
 * the one at position quorum − 1. `scratch` is reused to avoid allocating per call.
 *
 * @example
 * ```ts
 * majorityMatchIndex([5, 3, 9]) // 5
 * ```
 */
export function majorityMatchIndex(matchIndexes: ArrayLike<number>, count = matchIndexes.length, scratch?: Float64Array): number {
  assert(count > 0, 'majorityMatchIndex of no voters');
  if (count === 1) return matchIndexes[0];
  if (count === 3) {
    // The common case without sorting: the median of three.
    const a = matchIndexes[0];
    const b = matchIndexes[1];
    const c = matchIndexes[2];
    return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
  }
  const sorted = scratch !== undefined && scratch.length >= count ? scratch.subarray(0, count) : new Float64Array(count);
  for (let i = 0; i < count; i++) sorted[i] = matchIndexes[i];
  sorted.sort();
  // Ascending order: the quorum-th largest sits at count − quorum.
  return sorted[count - quorumSize(count)];
}

export type VoteResult = 'won' | 'lost' | 'pending';

/**
 * Outcome of an election among `voters` given the answers so far (`true` granted, `false` rejected,
 * absent not yet answered).
 */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const needed = quorumSize(voters.length);
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  if (granted >= needed) return 'won';
  if (rejected > voters.length - needed) return 'lost';
  return 'pending';
}
