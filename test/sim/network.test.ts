// The simulated network: deterministic per seed, honours partitions, drops and duplicates as told.
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/types.js';
import { Prng } from '../../src/util/prng.js';
import { reliableNetwork, SimNetwork, unreliableNetwork } from './network.js';

function heartbeat(from: string, to: string, term: number): Message {
  return { type: 'AppendEntries', from, to, term, leaderId: from, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, context: 0 };
}

function drain(net: SimNetwork): { at: number; term: number }[] {
  const out: { at: number; term: number }[] = [];
  for (;;) {
    const m = net.popDue(Number.POSITIVE_INFINITY);
    if (m === undefined) return out;
    if (m.blocked !== true) out.push({ at: m.at, term: m.message.term });
  }
}

describe('SimNetwork', () => {
  it('is a pure function of its seed', () => {
    const run = (seed: number): { at: number; term: number }[] => {
      const net = new SimNetwork(new Prng(seed), unreliableNetwork);
      for (let i = 0; i < 200; i++) net.send(heartbeat('a', 'b', i), i);
      return drain(net);
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it('delivers everything on a reliable network, in arrival-time order, reordering sends', () => {
    const net = new SimNetwork(new Prng(1), { ...reliableNetwork, delayMaxMs: 20 });
    for (let i = 0; i < 100; i++) net.send(heartbeat('a', 'b', i), 0);
    const got = drain(net);
    expect(got).toHaveLength(100);
    for (let i = 1; i < got.length; i++) expect(got[i]!.at).toBeGreaterThanOrEqual(got[i - 1]!.at);
    expect(got.map((g) => g.term)).not.toEqual([...Array(100).keys()]);
  });

  it('drops and duplicates at about the configured rates', () => {
    const net = new SimNetwork(new Prng(2), { ...reliableNetwork, dropRate: 0.2, duplicateRate: 0.1 });
    for (let i = 0; i < 10_000; i++) net.send(heartbeat('a', 'b', i), 0);
    expect(net.stats.dropped).toBeGreaterThan(1_700);
    expect(net.stats.dropped).toBeLessThan(2_300);
    expect(net.stats.duplicated).toBeGreaterThan(600);
    expect(drain(net)).toHaveLength(10_000 - net.stats.dropped + net.stats.duplicated);
  });

  it('blocks partitioned links at arrival, one way or both, and heals', () => {
    const net = new SimNetwork(new Prng(3), reliableNetwork);
    net.blockOneWay('a', 'b');
    net.send(heartbeat('a', 'b', 1), 0);
    net.send(heartbeat('b', 'a', 2), 0);
    expect(drain(net).map((m) => m.term)).toEqual([2]);
    net.send(heartbeat('a', 'c', 3), 0);
    net.partition(['a'], ['b', 'c']);
    expect(drain(net)).toEqual([]); // in flight when the partition started: lost
    net.heal();
    net.setDown('c', true);
    net.send(heartbeat('a', 'b', 4), 0);
    net.send(heartbeat('a', 'c', 5), 0);
    expect(drain(net).map((m) => m.term)).toEqual([4]);
    expect(net.stats.blocked).toBe(3);
  });
});
