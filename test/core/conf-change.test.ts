import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyConfChange, bootstrapEntries, CONF_CHANGE_CONTEXT_BYTES_MAX, ConfChangeRejectedError, decodeConfChange, encodeConfChange } from '../../src/core/index.js';

describe('conf changes', () => {
  it('round-trip through their encoding', () => {
    fc.assert(
      fc.property(fc.constantFrom('addVoter', 'addLearner', 'removeNode', 'promoteLearner' as const), fc.string({ minLength: 1, maxLength: 60 }), (type, nodeId) => {
        expect(decodeConfChange(encodeConfChange({ type, nodeId }))).toEqual({ type, nodeId });
      }),
    );
  });

  it('round-trip with a context, and keep the version-1 bytes when there is none', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('addVoter', 'addLearner', 'removeNode', 'promoteLearner' as const),
        fc.string({ minLength: 1, maxLength: 60 }),
        fc.uint8Array({ maxLength: CONF_CHANGE_CONTEXT_BYTES_MAX }),
        (type, nodeId, context) => {
          expect(decodeConfChange(encodeConfChange({ type, nodeId, context }))).toEqual({ type, nodeId, context });
        },
      ),
    );
    expect([...encodeConfChange({ type: 'removeNode', nodeId: 'n3' })]).toEqual([1, 2, 110, 51]);
    expect([...encodeConfChange({ type: 'addLearner', nodeId: 'n4', context: new Uint8Array([7]) })]).toEqual([2, 1, 2, 110, 52, 7]);
  });

  it('refuse a context over the limit, and bad context lengths', () => {
    const context = new Uint8Array(CONF_CHANGE_CONTEXT_BYTES_MAX + 1);
    expect(() => encodeConfChange({ type: 'addLearner', nodeId: 'n4', context })).toThrow(ConfChangeRejectedError);
    for (const bad of [new Uint8Array([2, 1, 0, 65]), new Uint8Array([2, 1, 5, 65]), new Uint8Array([2, 1])]) {
      expect(() => decodeConfChange(bad)).toThrow(ConfChangeRejectedError);
    }
  });

  it('bootstrap a new cluster as identical first entries, whatever order the members were given in', () => {
    const a = bootstrapEntries({ voters: ['n3', 'n1', 'n2'], learners: ['l1'] });
    const b = bootstrapEntries({ voters: ['n1', 'n2', 'n3'], learners: ['l1'] });
    expect(a).toEqual(b);
    expect(a.map((e) => [e.index, e.term, e.type])).toEqual([[1, 1, 'confChange'], [2, 1, 'confChange'], [3, 1, 'confChange'], [4, 1, 'confChange']]);
    expect(a.map((e) => decodeConfChange(e.data))).toEqual([
      { type: 'addVoter', nodeId: 'n1' },
      { type: 'addVoter', nodeId: 'n2' },
      { type: 'addVoter', nodeId: 'n3' },
      { type: 'addLearner', nodeId: 'l1' },
    ]);
    expect(() => bootstrapEntries({ voters: ['n1', 'n1'], learners: [] })).toThrow(ConfChangeRejectedError);
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
