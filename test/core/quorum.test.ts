import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { majorityMatchIndex, quorumSize, voteResult } from '../../src/core/quorum.js';

/** The dumb reference: the largest index that at least a majority of voters hold. */
function dumbCommitIndex(matches: number[]): number {
  let best = 0;
  for (const candidate of matches) {
    const holders = matches.filter((m) => m >= candidate).length;
    if (holders > matches.length / 2 && candidate > best) best = candidate;
  }
  return best;
}

describe('quorum arithmetic', () => {
  it('quorumSize is a strict majority', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(quorumSize)).toEqual([1, 2, 2, 3, 3, 4, 4]);
  });

  it('majorityMatchIndex agrees with the dumb reference', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 9 }), (matches) => {
        expect(majorityMatchIndex(matches)).toBe(dumbCommitIndex(matches));
        expect(majorityMatchIndex(matches, matches.length, new Float64Array(16))).toBe(dumbCommitIndex(matches));
      }),
      { numRuns: 2000 },
    );
  });

  it('voteResult wins at a majority of grants, loses when a majority is out of reach', () => {
    const voters = ['a', 'b', 'c', 'd', 'e'];
    const votes = new Map<string, boolean>([['a', true], ['b', true]]);
    expect(voteResult(voters, votes)).toBe('pending');
    votes.set('c', true);
    expect(voteResult(voters, votes)).toBe('won');
    const lost = new Map<string, boolean>([['a', true], ['b', false], ['c', false], ['d', false]]);
    expect(voteResult(voters, lost)).toBe('lost');
    // Votes from non-voters do not count.
    expect(voteResult(['a', 'b', 'c'], new Map([['a', true], ['x', true], ['y', true]]))).toBe('pending');
  });

  it('voteResult agrees with counting by hand', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom<boolean | undefined>(true, false, undefined), { minLength: 1, maxLength: 7 }), (answers) => {
        const voters = answers.map((_, i) => `n${i}`);
        const votes = new Map<string, boolean>();
        answers.forEach((a, i) => a !== undefined && votes.set(`n${i}`, a));
        const granted = answers.filter((a) => a === true).length;
        const rejected = answers.filter((a) => a === false).length;
        const expected = granted * 2 > voters.length ? 'won' : rejected * 2 >= voters.length + (voters.length % 2 === 0 ? 0 : 1) ? 'lost' : 'pending';
        expect(voteResult(voters, votes)).toBe(expected);
      }),
    );
  });
});
