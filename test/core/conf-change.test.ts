import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyConfChange, ConfChangeRejectedError, decodeConfChange, encodeConfChange } from '../../src/core/index.js';

describe('conf changes', () => {
  it('round-trip through their encoding', () => {
    fc.assert(
      fc.property(fc.constantFrom('addVoter', 'addLearner', 'removeNode', 'promoteLearner' as const), fc.string({ minLength: 1, maxLength: 60 }), (type, nodeId) => {
        expect(decodeConfChange(encodeConfChange({ type, nodeId }))).toEqual({ type, nodeId });
      }),
    );
  });

  it('reject bad bytes with a typed error', () => {
    for (const bad of [new Uint8Array([]), new Uint8Array([9, 0, 65]), new Uint8Array([1, 9, 65]), new Uint8Array([1, 0, 0xff])]) {
      expect(() => decodeConfChange(bad)).toThrow(ConfChangeRejectedError);
    }
  });

  it('apply one server at a time and refuse what does not fit', () => {
    let c = { voters: ['a'], learners: [] as string[] };
    c = applyConfChange(c, { type: 'addLearner', nodeId: 'b' });
    expect(c).toEqual({ voters: ['a'], learners: ['b'] });
    c = applyConfChange(c, { type: 'promoteLearner', nodeId: 'b' });
    expect(c).toEqual({ voters: ['a', 'b'], learners: [] });
    c = applyConfChange(c, { type: 'removeNode', nodeId: 'a' });
    expect(c).toEqual({ voters: ['b'], learners: [] });
    expect(() => applyConfChange(c, { type: 'removeNode', nodeId: 'b' })).toThrow(/last voter/);
    expect(() => applyConfChange(c, { type: 'addVoter', nodeId: 'b' })).toThrow(/already a voter/);
    expect(() => applyConfChange(c, { type: 'promoteLearner', nodeId: 'z' })).toThrow(/not a learner/);
  });
});
