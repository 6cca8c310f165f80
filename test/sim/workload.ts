/**
 * Randomised runs: one seed picks the run's parameters (snapshots, membership changes, fault and
 * client rates, network profile) and drives every choice, so `runRandom({ seed, events })` is a
 * pure function of its arguments and a failure replays from the printed command.
 *
 * An event is one tick, one message arrival, one fault or one client operation (cluster.ts).
 * After the last event every fault is healed and liveness is asserted: a leader is elected and a
 * proposal commits on every member within {@link livenessBoundMs} of virtual time.
 */
import type { RaftConfig } from '../../src/core/config.js';
import type { ConfChange, NodeId } from '../../src/core/types.js';
import { Prng } from '../../src/util/prng.js';
import { Cluster } from './cluster.js';
import { type NetworkProfile, reliableNetwork, unreliableNetwork } from './network.js';

/** Virtual time a healed cluster gets to elect a leader and commit a proposal everywhere. */
export const livenessBoundMs = 10_000;

export interface RandomRunOptions extends RunOverrides {
  seed: number;
  events: number;
  /** Cluster size; by default the seed picks 3, 5 or 7. */
  nodes?: number;
  /** A planted storage bug (harness self-test only). */
  amnesia?: 'vote' | 'lastEntry';
  /** Events kept for the violation dump. */
  traceEvents?: number;
}

export interface RunSummary {
  seed: number;
  /** Most messages sent in one 100 ms window (storm headroom). */
  messagesPerWindowMax: number;
  nodes: number;
  events: number;
  virtualMs: number;
  snapshots: boolean;
  membership: boolean;
  elections: number;
  commits: number;
  proposals: number;
  acked: number;
  crashes: number;
  restarts: number;
  partitions: number;
  reads: number;
  readsChecked: number;
  confChanges: number;
  transfers: number;
  snapshotsTaken: number;
  snapshotsInstalled: number;
  messages: number;
  electedAfterMs: number;
  committedAfterMs: number;
}

/** Forced choices (otherwise the seed decides); they are part of the replay command. */
export interface RunOverrides {
  nodes?: number;
  snapshots?: boolean;
  membership?: boolean;
  /** The nodes run with `asyncStorageWrites` (writes finish later, ready-processing.ts). */
  asyncWrites?: boolean;
}

export function replayCommand(seed: number, events: number, overrides: RunOverrides = {}): string {
  const flags = [`--seed ${seed}`, `--events ${events}`];
  if (overrides.nodes !== undefined) flags.push(`--nodes ${overrides.nodes}`);
  if (overrides.snapshots !== undefined) flags.push(`--snapshots ${overrides.snapshots ? 'on' : 'off'}`);
  if (overrides.membership !== undefined) flags.push(`--membership ${overrides.membership ? 'on' : 'off'}`);
  if (overrides.asyncWrites) flags.push('--async-writes on');
  return `npm run sim -- ${flags.join(' ')}`;
}

interface RunParams {
  raft: Partial<Omit<RaftConfig, 'id' | 'random'>>;
  snapshots: boolean;
  membership: boolean;
  faultRate: number;
  clientRate: number;
  network: NetworkProfile;
}

export function pickParams(prng: Prng): RunParams {
  const snapshots = prng.chance(0.5);
  const membership = prng.chance(0.3);
  const faultRate = 0.005 + prng.next() * 0.03;
  const clientRate = 0.03 + prng.next() * 0.15;
  const network = prng.chance(0.4) ? reliableNetwork : mixNetwork(prng);
  return { raft: pickRaftConfig(prng, snapshots), snapshots, membership, faultRate, clientRate, network };
}

/** Timeouts, flow-control bounds and protocol options vary per seed; defaults half the time. */
function pickRaftConfig(prng: Prng, snapshots: boolean): Partial<Omit<RaftConfig, 'id' | 'random'>> {
  const raft: Partial<Omit<RaftConfig, 'id' | 'random'>> = {};
  if (snapshots) {
    raft.snapshotThreshold = prng.between(5, 40);
    raft.maxSnapshotChunkBytes = prng.between(4, 64);
  }
  if (prng.chance(0.5)) return raft;
  const heartbeatTicks = prng.between(1, 5);
  const electionMinTicks = prng.between(heartbeatTicks * 2 + 1, 30);
  raft.heartbeatIntervalMs = heartbeatTicks * 10;
  raft.electionTimeoutMinMs = electionMinTicks * 10;
  raft.electionTimeoutMaxMs = (electionMinTicks + prng.between(2, 20)) * 10;
  if (prng.chance(0.3)) raft.maxInflightMessages = prng.between(1, 4);
  if (prng.chance(0.3)) raft.maxBatchBytes = prng.between(8, 256);
  if (prng.chance(0.2)) raft.maxUncommittedEntries = prng.between(1, 20);
  if (prng.chance(0.2)) raft.preVote = false;
  if (prng.chance(0.2)) raft.checkQuorum = false;
  return raft;
}

function mixNetwork(prng: Prng): NetworkProfile {
  const u = unreliableNetwork;
  return {
    delayMinMs: 1,
    delayMaxMs: prng.between(2, u.delayMaxMs),
    dropRate: prng.next() * u.dropRate * 2,
    duplicateRate: prng.next() * u.duplicateRate * 2,
    tailRate: prng.next() * u.tailRate,
    tailDelayMaxMs: u.tailDelayMaxMs,
  };
}

/** Runs one seed; throws SimViolation (with the replay command) on a broken invariant. */
export function runRandom(options: RandomRunOptions): RunSummary {
  const prng = new Prng(options.seed);
  const params = pickParams(prng.fork());
  if (options.snapshots !== undefined && options.snapshots !== params.snapshots) {
    params.snapshots = options.snapshots;
    if (options.snapshots) params.raft = { ...params.raft, snapshotThreshold: 20, maxSnapshotChunkBytes: 8 };
    else params.raft = { ...params.raft, snapshotThreshold: undefined, maxSnapshotChunkBytes: undefined };
  }
  if (options.membership !== undefined) params.membership = options.membership;
  if (options.asyncWrites) params.raft = { ...params.raft, asyncStorageWrites: true };
  const sizes = [3, 3, 3, 3, 5, 5, 5, 5, 5, 7];
  const nodes = options.nodes ?? sizes[prng.int(sizes.length)]!;
  const work = prng.fork();
  const cluster = new Cluster({
    seed: prng.nextU32(),
    reportSeed: options.seed,
    nodes,
    network: params.network,
    snapshots: params.snapshots,
    raft: params.raft,
    replay: replayCommand(options.seed, options.events, options),
    amnesia: options.amnesia,
    traceEvents: options.traceEvents,
  });
  const driver = new RandomDriver(cluster, work, params);
  while (cluster.events < options.events) driver.next();
  const live = cluster.healAndCheckLiveness(livenessBoundMs);
  checkQuiet(cluster, params, nodes);
  const s = cluster.stats;
  return {
    seed: options.seed,
    messagesPerWindowMax: cluster.messagesPerWindowMax,
    nodes,
    events: options.events,
    virtualMs: cluster.nowMs,
    snapshots: params.snapshots,
    membership: params.membership,
    elections: cluster.checker.elections,
    commits: cluster.checker.maxCommittedIndex,
    proposals: s.proposals,
    acked: cluster.checker.proposalsAcked,
    crashes: s.crashes,
    restarts: s.restarts,
    partitions: s.partitions,
    reads: s.reads,
    readsChecked: cluster.checker.readsChecked,
    confChanges: s.confChanges,
    transfers: s.transfers,
    snapshotsTaken: s.snapshotsTaken,
    snapshotsInstalled: s.snapshotsInstalled,
    messages: s.messagesSent,
    ...live,
  };
}

/** Virtual time a healed, idle cluster is watched for message storms... */
export const quietWatchMs = 2_000;
/** ...after this long to settle. */
export const quietSettleMs = 1_000;

/**
 * No storms: a healed, idle cluster sends about one heartbeat and one answer per peer per heartbeat
 * interval. Nodes outside the configuration (removed ones keep running) may still start an
 * election round now and then; the bound leaves room for that and nothing else.
 */
function checkQuiet(cluster: Cluster, params: RunParams, nodes: number): void {
  const heartbeatMs = params.raft.heartbeatIntervalMs ?? 50;
  const electionMinMs = params.raft.electionTimeoutMinMs ?? 150;
  cluster.runFor(quietSettleMs); // let catch-up traffic after the liveness check finish
  const before = cluster.stats.messagesSent;
  cluster.runFor(quietWatchMs);
  const sent = cluster.stats.messagesSent - before;
  const config = cluster.leader()?.sm?.config;
  const members = config === undefined ? nodes : config.voters.length + config.learners.length;
  const heartbeats = (quietWatchMs / heartbeatMs + 2) * (nodes - 1) * 2;
  const outsiders = (nodes - members) * (quietWatchMs / electionMinMs + 1) * (nodes - 1) * 4;
  const bound = Math.ceil(heartbeats * 1.25 + outsiders + 50);
  if (sent > bound) {
    cluster.checker.fail('no message storm', `a healed idle cluster of ${nodes} sent ${sent} messages in ${quietWatchMs} ms (bound ${bound}, heartbeat every ${heartbeatMs} ms)`);
  }
}

/** Chooses each event: a fault, a client operation, or the next timed event. */
export class RandomDriver {
  constructor(
    private readonly cluster: Cluster,
    private readonly prng: Prng,
    private readonly params: RunParams,
  ) {}

  next(): void {
    const r = this.prng.next();
    if (r < this.params.faultRate) this.fault();
    else if (r < this.params.faultRate + this.params.clientRate) this.client();
    else this.cluster.step();
  }

  private fault(): void {
    const c = this.cluster;
    const p = this.prng;
    const down = c.ids.filter((id) => !c.node(id).up);
    const paused = c.ids.filter((id) => c.node(id).paused);
    if (paused.length > 0 && p.chance(0.3)) return c.resume(p.pick(paused));
    const r = p.next();
    // Keep faults recoverable often enough that something happens between them.
    if (down.length > 0 && (r < 0.25 || down.length * 2 >= c.ids.length)) return c.restart(p.pick(down));
    if (r < 0.35) return c.crash(p.pick(c.ids));
    if (r < 0.45) return c.crashDuringNextReady(p.chance(0.5) ? (c.leader()?.id ?? p.pick(c.ids)) : p.pick(c.ids));
    if (r < 0.55) {
      const leader = c.leader();
      return c.isolate(leader !== undefined && p.chance(0.7) ? leader.id : p.pick(c.ids));
    }
    if (r < 0.65) {
      const shuffled = shuffle(p, c.ids);
      const cut = p.between(1, shuffled.length - 1);
      return c.partition(shuffled.slice(0, cut), shuffled.slice(cut));
    }
    if (r < 0.72) {
      const from = p.pick(c.ids);
      const to = p.pick(c.ids.filter((id) => id !== from));
      return c.blockOneWay(from, to);
    }
    if (r < 0.82) return c.heal();
    if (r < 0.88) {
      for (let k = p.int(8); k >= 0; k--) c.replayOldMessage();
      return;
    }
    if (r < 0.94) return c.pause(p.chance(0.6) ? (c.leader()?.id ?? p.pick(c.ids)) : p.pick(c.ids));
    return c.setNetwork(p.chance(0.5) ? reliableNetwork : mixNetwork(p));
  }

  private client(): void {
    const c = this.cluster;
    const p = this.prng;
    const leader = c.leader();
    const target = leader !== undefined && p.chance(0.85) ? leader.id : p.pick(c.ids);
    const r = p.next();
    if (r < 0.7) {
      // Now and then a burst (many clients at once): exercises batching, pipelining and the
      // uncommitted-entries bound. The burst is one event.
      const burst = p.chance(0.1) ? p.between(2, 30) : 1;
      for (let k = 0; k < burst; k++) {
        c.propose(target, p.chance(0.1) ? p.int(200) : 0);
        if (k > 0) c.events--;
      }
      return;
    }
    if (r < 0.82) {
      c.read(target, false);
      return;
    }
    if (r < 0.9) {
      c.read(target, true);
      return;
    }
    if (r < 0.95) {
      c.transferLeader(target, p.pick(c.ids.filter((id) => id !== target)));
      return;
    }
    if (this.params.membership && leader !== undefined) {
      const change = this.pickConfChange(leader.sm!.config);
      if (change !== undefined) c.proposeConfChange(leader.id, change);
      return;
    }
    c.step();
  }

  private pickConfChange(config: { voters: NodeId[]; learners: NodeId[] }): ConfChange | undefined {
    const c = this.cluster;
    const p = this.prng;
    const members = new Set([...config.voters, ...config.learners]);
    const outside = c.ids.filter((id) => !members.has(id));
    if (config.learners.length > 0 && p.chance(0.5)) return { type: 'promoteLearner', nodeId: p.pick(config.learners) };
    if (outside.length > 0 && (config.voters.length <= 3 || p.chance(0.5))) {
      return { type: p.chance(0.5) ? 'addVoter' : 'addLearner', nodeId: p.pick(outside) };
    }
    if (config.voters.length > 3) return { type: 'removeNode', nodeId: p.pick(config.voters) };
    return undefined;
  }
}

function shuffle<T>(prng: Prng, items: readonly T[]): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = prng.int(i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}
