import { describe, expect, it } from 'vitest';
import { InvalidRestoredStateError, RawNode, type Entry } from '../../src/core/index.js';

const entries: Entry[] = [1, 2, 3, 4, 5].map((index) => ({ index, term: 1, type: 'normal', data: new Uint8Array([index]) }));
const restore = (applied?: number) =>
  new RawNode({ id: 'n1', random: () => 0.5 }, { hardState: { term: 1, vote: null, commit: 5 }, snapshot: null, entries, config: { voters: ['n1', 'n2', 'n3'], learners: [] }, applied });

describe('restoring with an applied index (a state machine that survived)', () => {
  it('hands out only the committed entries after it', () => {
    const node = restore(3);
    expect(node.status().appliedIndex).toBe(3);
    expect(node.term).toBe(node.status().term);
    expect(node.ready().committedEntries.map((e) => e.index)).toEqual([4, 5]);
  });

  it('without one, hands out every committed entry after the snapshot', () => {
    expect(restore().ready().committedEntries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses an applied index beyond the commit index', () => {
    expect(() => restore(6)).toThrow(InvalidRestoredStateError);
  });
});
