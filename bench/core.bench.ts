/**
 * Raft core throughput, in one process with an instant network and memory storage:
 * - committed entries per second of 100-byte proposals in a 3-node cluster, with batching (many
 *   proposals per Ready round) beside the same cluster without it (one proposal per round, driven
 *   to commit before the next);
 * - ticks per second of an idle 5-node cluster (every node ticks, heartbeats flow), beside the
 *   rate a 5-node cluster needs at the default 10 ms tick.
 *
 * Prints a table and writes bench/results/core.json. Medians are quoted. The machine may be shared
 * (2 cores, other work running): treat the figures as noisy.
 *
 * Run: `npm run bench:core`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { Bench } from 'tinybench';
import { RawNode } from '../src/core/index.js';
import type { Ready } from '../src/core/ready.js';
import type { Message, NodeId, Snapshot } from '../src/core/types.js';
import { Prng } from '../src/util/prng.js';
import { machineInfo } from './machine.js';
import { exitWithHelpIfAsked } from './help.js';

exitWithHelpIfAsked(`
npm run bench:core
Raft core throughput in one process (instant network, memory storage): committed 100-byte entries
per second with and without batching, and idle ticks per second of a 5-node cluster. Prints a table
and writes bench/results/core.json. No options.
`);

const payloadBytes = 100;
const batchEntries = 1_000;
/** Entries committed per benchmark iteration, in both modes: enough that every sample includes its
 * share of garbage collection and log compaction, so medians are sustained rates. */
const entriesPerIteration = 20_000;
const idleTicksPerIteration = 100;

interface BenchNode {
  id: NodeId;
  raw: RawNode;
  /** Memory storage: the last persisted index and the entries since the last snapshot. */
  stored: number;
  applied: number;
  appliedTerm: number;
  snapshotIndex: number;
}

/** A cluster whose messages are delivered at once, in order, within the same call. */
class InstantCluster {
  readonly nodes = new Map<NodeId, BenchNode>();
  private readonly queue: Message[] = [];
  /** Entries the leader has applied (a commit is counted once, on the leader). */
  committed = 0;
  private leaderNode: BenchNode | undefined;

  constructor(size: number, seed: number) {
    const prng = new Prng(seed);
    const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`);
    for (const id of ids) {
      const r = prng.fork();
      const raw = new RawNode(
        { id, random: () => r.next(), snapshotThreshold: 20_000, maxUncommittedEntries: 1_000_000, maxInflightMessages: 4_096 },
        { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [], config: { voters: ids, learners: [] } },
      );
      this.nodes.set(id, { id, raw, stored: 0, applied: 0, appliedTerm: 0, snapshotIndex: 0 });
    }
  }

  electLeader(): BenchNode {
    for (let t = 0; t < 10_000; t++) {
      for (const n of this.nodes.values()) n.raw.tick();
      this.drive();
      for (const n of this.nodes.values()) if (n.raw.status().role === 'leader') return (this.leaderNode = n);
    }
    throw new Error('no leader elected in 10,000 ticks');
  }

  tickAll(): void {
    for (const n of this.nodes.values()) n.raw.tick();
    this.drive();
  }

  /** Processes every Ready and delivers every message until the cluster is quiet. */
  drive(): void {
    for (let progress = true; progress; ) {
      progress = false;
      for (const n of this.nodes.values()) {
        while (n.raw.hasReady()) {
          progress = true;
          this.handleReady(n, n.raw.ready());
          n.raw.advance();
          if (n.raw.snapshotDue()) this.snapshot(n);
        }
      }
      const q = this.queue;
      for (let i = 0; i < q.length; i++) {
        progress = true;
        const m = q[i]!;
        this.nodes.get(m.to)!.raw.step(m);
      }
      q.length = 0;
    }
  }

  private handleReady(n: BenchNode, rd: Ready): void {
    if (rd.entries.length > 0) n.stored = rd.entries[rd.entries.length - 1]!.index;
    for (const m of rd.messages) this.queue.push(m);
    const ce = rd.committedEntries;
    if (ce.length > 0) {
      const last = ce[ce.length - 1]!;
      n.applied = last.index;
      n.appliedTerm = last.term;
      if (n === this.leaderNode) this.committed += ce.length;
    }
  }

  private snapshot(n: BenchNode): void {
    if (n.applied <= n.snapshotIndex) return;
    const snapshot: Snapshot = {
      meta: { lastIncludedIndex: n.applied, lastIncludedTerm: n.appliedTerm, config: n.raw.status().config },
      data: new Uint8Array(8),
    };
    n.raw.snapshotTaken(snapshot);
    n.snapshotIndex = n.applied;
  }
}

const payload = new Uint8Array(payloadBytes).fill(7);

const batched = new InstantCluster(3, 1);
const batchedLeader = batched.electLeader();
const unbatched = new InstantCluster(3, 2);
const unbatchedLeader = unbatched.electLeader();
const idle = new InstantCluster(5, 3);
idle.electLeader();

const bench = new Bench({ time: 3_000, warmupTime: 500 });
bench
  .add(`3 nodes, ${batchEntries} proposals per Ready round (batched)`, () => {
    const before = batched.committed;
    for (let round = 0; round < entriesPerIteration / batchEntries; round++) {
      for (let i = 0; i < batchEntries; i++) batchedLeader.raw.propose(payload);
      batched.drive();
    }
    if (batched.committed - before !== entriesPerIteration) throw new Error('batch did not commit');
  })
  .add('3 nodes, one proposal per Ready round (unbatched)', () => {
    const before = unbatched.committed;
    for (let round = 0; round < entriesPerIteration; round++) {
      unbatchedLeader.raw.propose(payload);
      unbatched.drive();
    }
    if (unbatched.committed - before !== entriesPerIteration) throw new Error('proposal did not commit');
  })
  .add(`idle 5-node cluster, ${idleTicksPerIteration} cluster ticks`, () => {
    for (let t = 0; t < idleTicksPerIteration; t++) idle.tickAll();
  });

await bench.run();

function latencyMs(name: string): { p50: number; mean: number } {
  const task = bench.tasks.find((t) => t.name.startsWith(name));
  const result = task?.result as { latency?: { p50: number; mean: number } } | undefined;
  if (result?.latency === undefined) throw new Error(`no result for ${name}`);
  return result.latency;
}

function medianMs(name: string): number {
  return latencyMs(name).p50;
}

// Garbage collection makes the distribution heavy-tailed; the mean-based rate (total entries over
// total time) is shown beside the median so nobody reads the median as a sustained rate.
const batchedPerSecondMean = (entriesPerIteration * 1000) / latencyMs('3 nodes, 1000').mean;
const unbatchedPerSecondMean = (entriesPerIteration * 1000) / latencyMs('3 nodes, one').mean;

const batchedPerSecond = (entriesPerIteration * 1000) / medianMs('3 nodes, 1000');
const unbatchedPerSecond = (entriesPerIteration * 1000) / medianMs('3 nodes, one');
const clusterTicksPerSecond = (idleTicksPerIteration * 1000) / medianMs('idle');
const neededTicksPerSecond = 1000 / 10; // one 5-node cluster at the default tickMs

console.table(bench.table());
const rows = [
  { figure: 'committed entries/s, 100-byte, 3 nodes, batched (median)', median: Math.round(batchedPerSecond), versus: 'unbatched', alternative: Math.round(unbatchedPerSecond), ratio: +(batchedPerSecond / unbatchedPerSecond).toFixed(1) },
  { figure: 'committed entries/s, batched (mean: total/time)', median: Math.round(batchedPerSecondMean), versus: 'unbatched (mean)', alternative: Math.round(unbatchedPerSecondMean), ratio: +(batchedPerSecondMean / unbatchedPerSecondMean).toFixed(1) },
  { figure: 'cluster ticks/s, idle 5 nodes (×5 node ticks)', median: Math.round(clusterTicksPerSecond), versus: 'needed at tickMs 10', alternative: neededTicksPerSecond, ratio: +(clusterTicksPerSecond / neededTicksPerSecond).toFixed(1) },
];
console.table(rows);
console.log(
  `target ≥ 1,000,000 committed entries/s batched: ${batchedPerSecond >= 1_000_000 ? 'met' : 'NOT met'} by the median ` +
    `(${Math.round(batchedPerSecond).toLocaleString('en-US')}/s), ${batchedPerSecondMean >= 1_000_000 ? 'met' : 'NOT met'} by the mean ` +
    `(${Math.round(batchedPerSecondMean).toLocaleString('en-US')}/s). Noisy: 2 shared cores.`,
);

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/core.json', import.meta.url),
  `${JSON.stringify(
    {
      name: 'core',
      date: new Date().toISOString(),
      machine: machineInfo(),
      node: process.version,
      note: 'medians; shared 2-core machine, figures are noisy',
      results: {
        committedEntriesPerSecondBatched: Math.round(batchedPerSecond),
        committedEntriesPerSecondUnbatched: Math.round(unbatchedPerSecond),
        committedEntriesPerSecondBatchedMean: Math.round(batchedPerSecondMean),
        committedEntriesPerSecondUnbatchedMean: Math.round(unbatchedPerSecondMean),
        batchedOverUnbatched: batchedPerSecond / unbatchedPerSecond,
        batchEntries,
        entriesPerIteration,
        payloadBytes,
        idleClusterTicksPerSecond5Nodes: Math.round(clusterTicksPerSecond),
        idleNodeTicksPerSecond: Math.round(clusterTicksPerSecond * 5),
        headroomOverDefaultTickRate: clusterTicksPerSecond / neededTicksPerSecond,
      },
      tasks: bench.tasks.map((t) => {
        const r = t.result as { latency?: { p50: number; mean: number }; throughput?: { p50: number } } | undefined;
        return { name: t.name, latencyMedianMs: r?.latency?.p50, latencyMeanMs: r?.latency?.mean, opsPerSecondMedian: r?.throughput?.p50 };
      }),
    },
    null,
    2,
  )}\n`,
);
console.log('wrote bench/results/core.json');
