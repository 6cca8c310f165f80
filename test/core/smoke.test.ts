import { describe, expect, it } from 'vitest';
import { TestCluster, bytes, text } from './harness.js';

describe('3-node cluster', () => {
  it('elects one leader and replicates proposals to every node in order', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    const leader = c.electLeader();
    for (let i = 0; i < 50; i++) leader.node.propose(bytes(`v${i}`));
    c.stabilize();
    c.tick();
    c.stabilize();
    for (const t of c.nodes.values()) {
      const data = t.applied.filter((e) => e.data.length > 0).map((e) => text(e.data));
      expect(data).toEqual(Array.from({ length: 50 }, (_, i) => `v${i}`));
    }
  });
});
