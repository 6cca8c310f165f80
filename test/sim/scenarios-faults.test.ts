// Named scenarios, part 3: crashes, Figure 8 and churn. Each runs with and without snapshots. A
// final liveness check (heal everything; a leader and a commit everywhere within a bound) closes
// every run; the checker has asserted safety after every event on the way.
import { describe, expect, it } from 'vitest';
import type { Cluster } from './cluster.js';
import { commitOne, converged, electionTimeoutMaxMs, scenarioCluster, waitLeader } from './helpers.js';
import { reliableNetwork, unreliableNetwork } from './network.js';
import { livenessBoundMs } from './workload.js';

const modes = [
  { label: 'log only', snapshots: false },
  { label: 'snapshots', snapshots: true },
] as const;

const snapshotRaft = { snapshotThreshold: 8, maxSnapshotChunkBytes: 8 };

/** Heals, then asserts liveness and that every acknowledged write is in the committed log. */
function finish(c: Cluster): void {
  c.healAndCheckLiveness(livenessBoundMs);
  expect(c.runUntil(() => converged(c), 2_000)).toBe(true);
}

describe.each(modes)('faults ($label)', ({ label, snapshots }) => {
  const raft = snapshots ? snapshotRaft : {};
  const name = (s: string): string => `faults (${label}) ${s}`;

  it('persistence across crashes of all nodes', () => {
    const c = scenarioCluster(name('persistence across crashes of all nodes'), { seed: 21, nodes: 3, snapshots, raft });
    waitLeader(c);
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 6; i++) commitOne(c);
      const committed = c.checker.maxCommittedIndex;
      const term = c.leader()!.term;
      // Leave a few proposals in flight, then crash every node in a seeded order.
      const leader = c.leader()!;
      for (let i = 0; i < 3; i++) c.propose(leader.id);
      c.runFor(round % 3);
      const order = round % 2 === 0 ? c.ids : [...c.ids].reverse();
      for (const id of order) c.crash(id);
      for (const id of order) c.restart(id);
      const next = waitLeader(c);
      expect(next.term).toBeGreaterThan(term);
      commitOne(c);
      expect(c.checker.maxCommittedIndex).toBeGreaterThan(committed);
    }
    c.checker.checkAcknowledgedDurable();
    expect(c.stats.crashes).toBe(18);
    finish(c);
  });

  it('Figure 8 (reliable network)', () => {
    const c = scenarioCluster(name('Figure 8 (reliable network)'), { seed: 22, nodes: 5, snapshots, raft });
    const p = c.prng.fork();
    waitLeader(c);
    let up = c.ids.length;
    for (let iter = 0; iter < 400; iter++) {
      const leader = c.leader();
      if (leader !== undefined) c.propose(leader.id);
      // Run briefly (sometimes long enough for an election), then perhaps crash the leader.
      c.runFor(p.chance(0.1) ? p.int(electionTimeoutMaxMs) : p.int(13));
      const now = c.leader();
      if (now !== undefined && p.chance(0.5)) {
        c.crash(now.id);
        up--;
      }
      if (up < 3) {
        const down = c.ids.filter((id) => !c.node(id).up);
        c.restart(p.pick(down));
        up++;
      }
    }
    expect(c.checker.elections).toBeGreaterThan(10);
    finish(c);
  });

  it('Figure 8 (unreliable network)', () => {
    const c = scenarioCluster(name('Figure 8 (unreliable network)'), { seed: 23, nodes: 5, snapshots, raft, network: unreliableNetwork });
    const p = c.prng.fork();
    for (let iter = 0; iter < 300; iter++) {
      if (iter === 200) c.setNetwork({ ...unreliableNetwork, tailRate: 0.2 });
      const leader = c.leader();
      if (leader !== undefined && p.chance(0.5)) {
        c.propose(leader.id);
        c.propose(leader.id);
      }
      c.runFor(p.chance(0.1) ? p.int(electionTimeoutMaxMs) : p.int(13));
      const now = c.leader();
      if (now !== undefined && p.chance(0.5)) c.isolate(now.id);
      if (c.network.blockedLinkCount() > 0 && p.chance(0.5)) c.reconnect(p.pick(c.ids));
    }
    c.setNetwork(reliableNetwork);
    finish(c);
  });

  for (const reliable of [true, false]) {
    const title = `churn (${reliable ? 'reliable' : 'unreliable'} network)`;
    it(title, () => {
      const c = scenarioCluster(name(title), { seed: reliable ? 24 : 25, nodes: 5, snapshots, raft, network: reliable ? reliableNetwork : unreliableNetwork });
      const p = c.prng.fork();
      for (let iter = 0; iter < 400; iter++) {
        // Clients keep writing to whoever is leader, and to random nodes (which refuse).
        const leader = c.leader();
        if (leader !== undefined) for (let k = p.int(3); k >= 0; k--) c.propose(leader.id);
        c.propose(p.pick(c.ids));
        const r = p.next();
        const id = p.pick(c.ids);
        if (r < 0.1) c.crash(id);
        else if (r < 0.25) c.restart(id);
        else if (r < 0.35) c.isolate(id);
        else if (r < 0.5) c.reconnect(id);
        c.runFor(p.int(3 * c.tickMs + 1));
        // Keep a majority alive half the time so that writes also commit under churn.
        const down = c.ids.filter((x) => !c.node(x).up);
        if (down.length > 2 && p.chance(0.5)) c.restart(p.pick(down));
      }
      expect(c.stats.crashes).toBeGreaterThan(10);
      finish(c);
      expect(c.checker.proposalsAcked).toBeGreaterThan(0);
    });
  }
});
