/**
 * A short randomized run of the core in the test harness: drops, reordering, duplicates,
 * partitions, restarts, snapshots and membership changes, checking after every step that no two
 * leaders share a term and that every node applied the same entry at every index. The long runs
 * belong to the simulator (test/sim); this keeps the core's own suite honest.
 */
import { describe, expect, it } from 'vitest';
import { isRaftwireError, type ConfChange, type Entry, type Message } from '../../src/core/index.js';
import { Prng } from '../../src/util/prng.js';
import { TestCluster, bytes } from './harness.js';

interface RunOptions {
  seed: number;
  steps: number;
  preVote: boolean;
  checkQuorum: boolean;
}

function run({ seed, steps, preVote, checkQuorum }: RunOptions): { committed: number } {
  const rand = new Prng(seed);
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const c = new TestCluster(['a', 'b', 'c'], { preVote, checkQuorum, snapshotThreshold: 20, maxSnapshotChunkBytes: 7, maxBatchBytes: 40, maxInflightMessages: 4 }, seed);
  c.add('d', c.initialConfig); // not a member yet: joins through conf changes
  c.add('e', c.initialConfig);
  const leaders = new Map<number, string>();
  const appliedAt = new Map<number, Entry>();
  let proposals = 0;
  let inFlight: Message[] = [];

  const check = (): void => {
    for (const t of c.nodes.values()) {
      const s = t.node.status();
      if (s.role === 'leader') {
        const other = leaders.get(s.term);
        if (other !== undefined && other !== t.id) throw new Error(`seed ${seed}: two leaders in term ${s.term}: ${other}, ${t.id}`);
        leaders.set(s.term, t.id);
      }
      for (const e of t.applied) {
        const seen = appliedAt.get(e.index);
        if (seen === undefined) appliedAt.set(e.index, e);
        else if (seen.term !== e.term || seen.data !== e.data && !sameBytes(seen.data, e.data)) {
          throw new Error(`seed ${seed}: ${t.id} applied ${e.index}@${e.term}, another node applied ${seen.index}@${seen.term}`);
        }
      }
      t.applied.length = 0;
    }
  };

  for (let step = 0; step < steps; step++) {
    const roll = rand.next();
    const ready = [...c.nodes.values()];
    for (const t of ready) {
      c.processReady(t);
      if (t.node.snapshotDue()) {
        const index = t.node.status().appliedIndex;
        const term = termAt(t, index);
        if (term !== undefined) {
          const snapshot = { meta: { lastIncludedIndex: index, lastIncludedTerm: term, config: t.node.configAt(index) }, data: bytes(`state@${index}`) };
          t.node.snapshotTaken(snapshot);
          t.stored.snapshot = snapshot;
          t.stored.entries = t.stored.entries.filter((e) => e.index > index);
        }
      }
    }
    inFlight.push(...c.queue);
    c.queue = [];
    if (roll < 0.5) {
      // Deliver a random subset, possibly reordered, with some drops and duplicates.
      const keep: Message[] = [];
      for (const m of inFlight) {
        const r = rand.next();
        if (r < 0.05) continue; // drop
        if (r < 0.75) {
          c.get(m.to).node.step(m);
          if (r < 0.08) keep.push(m); // duplicate later
        } else keep.push(m);
      }
      inFlight = keep;
    } else if (roll < 0.8) {
      c.tick();
    } else if (roll < 0.9) {
      const leader = c.leader();
      if (leader !== undefined) {
        for (let k = 0, n = rand.int(5) + 1; k < n; k++) {
          try {
            leader.node.propose(bytes(`p${proposals++}`));
          } catch (e) {
            if (!isRaftwireError(e)) throw e;
          }
        }
      }
    } else if (roll < 0.93) {
      const leader = c.leader();
      if (leader !== undefined) {
        const change = randomChange(rand, leader.node.status().config, ids);
        if (change !== null) {
          try {
            leader.node.proposeConfChange(change);
          } catch (e) {
            if (!isRaftwireError(e)) throw e;
          }
        }
      }
    } else if (roll < 0.95) {
      c.heal();
      const a = ids[rand.int(ids.length)];
      const b = ids[rand.int(ids.length)];
      if (a !== b) c.partition(a, b);
      inFlight = inFlight.filter((m) => !(m.from === a && m.to === b) && !(m.from === b && m.to === a));
    } else if (roll < 0.96) {
      const id = ids[rand.int(ids.length)];
      c.restart(id);
      inFlight = inFlight.filter((m) => m.to !== id);
    } else if (roll < 0.97) {
      const leader = c.leader();
      if (leader !== undefined) {
        const voters = leader.node.status().config.voters;
        try {
          leader.node.transferLeader(voters[rand.int(voters.length)]);
        } catch (e) {
          if (!isRaftwireError(e)) throw e;
        }
      }
    } else {
      c.heal();
    }
    check();
  }
  // Heal and let the cluster settle. Without pre-vote, two candidates whose stale configurations
  // disagree can collide on terms for a while (only the randomised timeouts separate them), so
  // the bound is generous.
  c.heal();
  for (let k = 0; k < 600 && c.leader() === undefined; k++) {
    c.tick();
    c.stabilize();
    check();
  }
  const leader = c.leader();
  if (leader === undefined && process.env.CORE_DEBUG) for (const t of c.nodes.values()) console.log(JSON.stringify({ ...t.node.status(), progress: undefined }));
  expect(leader, `seed ${seed}: a leader after healing`).toBeDefined();
  return { committed: leader!.node.status().commitIndex };
}

function termAt(t: { stored: { entries: Entry[] } }, index: number): number | undefined {
  return t.stored.entries.find((e) => e.index === index)?.term;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function randomChange(rand: Prng, config: { voters: string[]; learners: string[] }, ids: string[]): ConfChange | null {
  const id = ids[rand.int(ids.length)];
  const kind = rand.int(4);
  if (kind === 0) return { type: 'addLearner', nodeId: id };
  if (kind === 1) return config.learners.includes(id) ? { type: 'promoteLearner', nodeId: id } : { type: 'addVoter', nodeId: id };
  if (kind === 2 && config.voters.length > 2) return { type: 'removeNode', nodeId: id };
  return null;
}

describe('randomized cluster runs', () => {
  const seeds = Number(process.env.CORE_RANDOM_SEEDS ?? 24);
  for (let seed = 1; seed <= seeds; seed++) {
    const preVote = seed % 2 === 0;
    const checkQuorum = seed % 3 !== 0;
    it(`seed ${seed} (preVote ${preVote}, checkQuorum ${checkQuorum}) keeps election and state machine safety`, () => {
      const { committed } = run({ seed, steps: 3000, preVote, checkQuorum });
      expect(committed).toBeGreaterThan(0);
    });
  }
});
