/**
 * N Raft cores in one process on a virtual clock: the simulator's world.
 *
 * Each {@link SimNode} has a RawNode (null while crashed), a {@link DurableStore} changed only by
 * processing Ready in the documented order, and a {@link SimStateMachine}. The cluster drives them
 * one event at a time; an event is one of:
 * - a tick: virtual time moves to the next tick boundary and every live node ticks once;
 * - a delivery: the next message on the wire arrives (or is lost to a partition or a down node);
 * - a fault: crash, restart, partition, heal, network profile change (see workload.ts);
 * - a client operation: propose, read, conf change, leadership transfer (see workload.ts).
 *
 * After every event the node(s) it touched have their Ready processed to quiescence, and the
 * {@link Checker} asserts the safety invariants along the way.
 *
 * @example
 * ```ts
 * const cluster = new Cluster({ seed: 7, nodes: 3 });
 * cluster.runUntil(() => cluster.leader() !== undefined, 5_000);
 * cluster.propose(cluster.leader()!.id);
 * ```
 */
import { RawNode } from '../../src/core/index.js';
import { RAFT_CONFIG_DEFAULTS, type RaftConfig } from '../../src/core/config.js';
import { isRaftwireError } from '../../src/core/errors.js';
import type { ClusterConfig, ConfChange, Message, NodeId } from '../../src/core/types.js';
import { catchUpTicksMax } from '../../src/node/ticker.js';
import { Prng } from '../../src/util/prng.js';
import { Checker, encodePayload, SimViolation } from './checker.js';
import { type NetworkProfile, reliableNetwork, SimNetwork } from './network.js';
export { SimNode } from './sim-node.js';
import { SimStateMachine } from './state-machine.js';
import { healAndCheckLiveness, type LivenessResult } from './liveness.js';
import { SimNode } from './sim-node.js';
import { checkConfig, processReady } from './ready-processing.js';
import { dumpCluster, TraceRing } from './trace.js';
import { type ClusterOptions, type ClusterStats, removedLeaderTicksMax, stormMessagesMax, stormWindowMs, traceEventsMax } from './cluster-options.js';

export type { ClusterOptions, ClusterStats } from './cluster-options.js';
export { removedLeaderTicksMax, stormMessagesMax, stormWindowMs, traceEventsMax } from './cluster-options.js';
export { readyRoundsMax } from './ready-processing.js';

/** Error codes the core may legitimately answer a client operation with. */
const expectedClientErrors = new Set(['RAFT_ERR_NOT_LEADER', 'RAFT_ERR_PROPOSAL_DROPPED', 'RAFT_ERR_CONF_CHANGE_REJECTED']);

export type ClientResult = { ok: true; index: number; proposalId: number } | { ok: false; code: string };

export class Cluster {
  readonly seed: number;
  readonly prng: Prng;
  readonly network: SimNetwork;
  readonly checker: Checker;
  readonly ids: NodeId[];
  readonly nodes = new Map<NodeId, SimNode>();
  readonly initialConfig: ClusterConfig;
  readonly snapshots: boolean;
  readonly tickMs: number;
  /** The nodes run with `asyncStorageWrites` (ready-processing.ts models writes finishing later). */
  readonly asyncWrites: boolean;
  readonly stats: ClusterStats = {
    ticks: 0, deliveries: 0, crashes: 0, restarts: 0, partitions: 0, proposals: 0, proposalsRejected: 0,
    reads: 0, readsRejected: 0, confChanges: 0, transfers: 0, snapshotsTaken: 0, snapshotsInstalled: 0, messagesSent: 0,
  };
  nowMs = 0;
  events = 0;
  replay: string;
  /** Most messages sent in any one {@link stormWindowMs} bucket of virtual time so far. */
  messagesPerWindowMax = 0;
  private windowStart = 0;
  private windowMessages = 0;
  /** Called with every message a node sends (tests count them). */
  onSend: ((m: Message) => void) | undefined;
  private nextTickAt: number;
  private readonly nodePrng: Prng;
  private readonly raftOptions: Partial<Omit<RaftConfig, 'id' | 'random'>>;
  private nextProposalId = 1;
  private nextReadContext = 1;
  private readonly trace: TraceRing;
  readonly amnesia: ClusterOptions['amnesia'];
  private readonly resumeWithoutCatchUp: boolean;
  /** Drives the fault choices made inside the cluster (torn crashes, unreachable reports). */
  readonly faultPrng: Prng;

  constructor(options: ClusterOptions) {
    this.seed = options.seed;
    this.prng = new Prng(options.seed);
    this.network = new SimNetwork(this.prng.fork(), options.network ?? reliableNetwork);
    this.nodePrng = this.prng.fork();
    this.faultPrng = this.prng.fork();
    this.ids = options.nodeIds ?? Array.from({ length: options.nodes ?? 3 }, (_, i) => `n${i + 1}`);
    this.initialConfig = { voters: options.voters ?? this.ids.slice(), learners: options.learners ?? [] };
    this.snapshots = options.snapshots ?? false;
    this.raftOptions = { ...options.raft };
    if (!this.snapshots && this.raftOptions.snapshotThreshold === undefined) this.raftOptions.snapshotThreshold = 1_000_000_000;
    this.tickMs = this.raftOptions.tickMs ?? 10;
    this.asyncWrites = this.raftOptions.asyncStorageWrites === true;
    this.nextTickAt = this.tickMs;
    this.replay = options.replay ?? `(seed ${options.seed})`;
    this.amnesia = options.amnesia;
    this.trace = new TraceRing(options.traceEvents ?? traceEventsMax);
    this.resumeWithoutCatchUp = options.resumeWithoutCatchUp ?? false;
    this.checker = new Checker({
      seed: options.reportSeed ?? options.seed,
      event: () => this.events,
      dump: () => this.dump(),
      replay: () => this.replay,
    });
    const startDown = new Set(options.startDown ?? []);
    for (const id of this.ids) {
      const node = new SimNode(id);
      this.nodes.set(id, node);
      if (startDown.has(id)) this.network.setDown(id, true);
    }
    for (const id of this.ids) if (!startDown.has(id)) this.guard(() => this.start(this.node(id)));
  }

  node(id: NodeId): SimNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /** The live leader with the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const node of this.nodes.values()) {
      if (node.up && node.role === 'leader' && (best === undefined || node.term > best.term)) best = node;
    }
    return best;
  }

  upNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  // --- timed events ----------------------------------------------------------------------------------

  /** Runs the next timed event: the next message arrival or the next tick, whichever comes first. */
  step(): void {
    const arrival = this.network.nextArrivalAt();
    if (arrival !== undefined && arrival <= this.nextTickAt) this.deliverNext();
    else this.tick();
  }

  /** Virtual time of the next timed event. */
  nextEventAt(): number {
    const arrival = this.network.nextArrivalAt();
    return arrival !== undefined && arrival <= this.nextTickAt ? arrival : this.nextTickAt;
  }

  tick(): void {
    this.events++;
    this.nowMs = this.nextTickAt;
    this.nextTickAt += this.tickMs;
    this.stats.ticks++;
    this.record('tick', '');
    this.guard(() => {
      for (const node of this.nodes.values()) {
        if (node.raw === null) continue;
        if (node.paused) {
          node.missedTicks++;
          continue;
        }
        // A drifting clock ticks more or less often than the others (see setClockRate).
        node.tickCredit += node.clockRate;
        const raw = node.raw;
        for (; node.tickCredit >= 1 && node.raw === raw; node.tickCredit--) {
          raw.tick();
          processReady(this, node);
        }
        if (node.role === 'leader') this.checkRemovedLeader(node);
      }
    });
  }

  /**
   * A leader whose removal has committed steps down (docs/membership.md): once the leader has
   * applied a configuration without itself, and has appended no change that adds it back, it
   * may stay leader for at most {@link removedLeaderTicksMax} more ticks.
   */
  private checkRemovedLeader(node: SimNode): void {
    if (node.sm === null || node.sm.config.voters.includes(node.id) || node.raw!.status().config.voters.includes(node.id)) {
      node.removedLeaderTicks = 0;
      return;
    }
    if (++node.removedLeaderTicks > removedLeaderTicksMax) {
      this.checker.fail('a removed leader steps down', `${node.id} is still leader of term ${node.term} ${removedLeaderTicksMax} ticks after applying its own removal`);
    }
  }

  private deliverNext(): void {
    this.events++;
    const inFlight = this.network.popDue(Number.POSITIVE_INFINITY);
    if (inFlight === undefined) return;
    if (inFlight.blocked) {
      this.record('lost', inFlight.message);
      // Sometimes the sender's transport notices (connection refused, timeout) and says so.
      const sender = this.nodes.get(inFlight.message.from);
      if (sender?.raw != null && this.faultPrng.chance(0.2)) {
        const raw = sender.raw;
        this.guard(() => {
          raw.reportUnreachable(inFlight.message.to);
          processReady(this, sender);
        });
      }
      return;
    }
    this.nowMs = Math.max(this.nowMs, inFlight.at);
    const m = inFlight.message;
    const node = this.nodes.get(m.to);
    if (node === undefined || node.raw === null) return;
    if (node.paused) {
      node.held.push(m);
      return;
    }
    this.stats.deliveries++;
    this.record('deliver', m);
    this.guard(() => {
      node.raw!.step(m);
      processReady(this, node);
    });
  }

  /** Runs timed events for `ms` of virtual time. */
  runFor(ms: number): void {
    const until = this.nowMs + ms;
    while (this.nextEventAt() <= until) this.step();
  }

  /** Runs timed events until `done()` holds (true) or `ms` of virtual time pass (false). */
  runUntil(done: () => boolean, ms: number): boolean {
    const until = this.nowMs + ms;
    while (!done()) {
      if (this.nextEventAt() > until) return false;
      this.step();
    }
    return true;
  }

  /** Like {@link runUntil}, calling `action` before every timed event (e.g. a client's load). */
  runUntilWith(action: () => void, done: () => boolean, ms: number): boolean {
    const until = this.nowMs + ms;
    while (!done()) {
      if (this.nextEventAt() > until) return false;
      action();
      if (done()) return true;
      this.step();
    }
    return true;
  }

  // --- faults ----------------------------------------------------------------------------------------

  /** Crashes `id`: it keeps only its durable store. */
  crash(id: NodeId): void {
    const node = this.node(id);
    this.events++;
    if (node.raw === null) return;
    this.record('crash', id);
    node.raw = null;
    node.sm = null;
    node.role = 'down';
    node.leaderId = null;
    node.pendingReads.clear();
    node.waitingReads = [];
    node.tornCrash = false;
    node.pendingWrites = []; // writes in flight are lost with the process
    node.paused = false;
    node.held = [];
    node.missedTicks = 0;
    this.network.setDown(id, true);
    this.stats.crashes++;
  }

  /**
   * Makes `id` crash part-way through its next Ready: before persisting anything, between the
   * entries and the hard state, or after persisting but before sending. A leader may already have
   * sent its AppendEntries/InstallSnapshot (the one exception the Ready rules allow).
   */
  crashDuringNextReady(id: NodeId): void {
    const node = this.node(id);
    this.events++;
    if (node.raw === null) return;
    this.record('torn crash armed', id);
    node.tornCrash = true;
  }

  /** Pauses `id`: it stops ticking and receiving, keeping its volatile state (SIGSTOP, GC pause). */
  pause(id: NodeId): void {
    const node = this.node(id);
    this.events++;
    if (node.raw === null || node.paused) return;
    this.record('pause', id);
    node.paused = true;
  }

  /**
   * Resumes a paused node. Its driver first catches up on the ticks it missed (a tick driver that
   * measures elapsed time does this; one that does not would let a paused leader believe its lease
   * still holds), then the messages that arrived meanwhile are delivered.
   */
  resume(id: NodeId): void {
    const node = this.node(id);
    this.events++;
    if (node.raw === null || !node.paused) return;
    this.record('resume', `${id} after ${node.missedTicks} ticks, ${node.held.length} messages held`);
    node.paused = false;
    const raw = node.raw;
    // As the node's Ticker does (src/node/ticker.ts): at most two election timeouts of the ticks
    // missed. All of them let a leader without check-quorum paused for 8.5 s send 851 heartbeat
    // rounds at once (seed 2028703 with async writes: a message storm no real node makes).
    const missed = this.resumeWithoutCatchUp ? 0 : Math.min(node.missedTicks, catchUpTicksMax(this.tickMs, this.raftOptions.electionTimeoutMaxMs ?? RAFT_CONFIG_DEFAULTS.electionTimeoutMaxMs));
    const held = node.held;
    node.missedTicks = 0;
    node.held = [];
    this.guard(() => {
      for (let t = 0; t < missed && node.raw === raw; t++) {
        raw.tick();
        processReady(this, node);
      }
      for (const m of held) {
        if (node.raw !== raw) break;
        raw.step(m);
        processReady(this, node);
      }
    });
  }

  /**
   * Makes `id`'s clock run at `rate` times the simulation's (clock drift: 0.95 is 5% slow). Leases
   * assume bounded drift; the scenarios show how much the lease's margin absorbs.
   */
  setClockRate(id: NodeId, rate: number): void {
    this.record('clockRate', `${id} ${rate}`);
    this.node(id).clockRate = rate;
  }

  /** Delivers once more a message sent a while ago (a stale duplicate from the network's past). */
  replayOldMessage(): void {
    this.events++;
    const m = this.network.replayOld(this.nowMs);
    if (m !== undefined) this.record('replay', m);
  }

  /** Restarts `id` from its durable store (or starts it for the first time). */
  restart(id: NodeId): void {
    const node = this.node(id);
    this.events++;
    if (node.raw !== null) return;
    this.record('restart', id);
    this.stats.restarts++;
    this.guard(() => this.start(node));
  }

  private start(node: SimNode): void {
    const random = this.nodePrng.fork();
    const config: RaftConfig = { ...this.raftOptions, id: node.id, random: () => random.next() };
    if (node.incarnation > 0) this.forget(node);
    node.raw = new RawNode(config, node.durable.restoredState(this.initialConfig));
    node.incarnation++;
    node.role = 'follower';
    node.leaderId = null;
    node.term = node.durable.hardState.term;
    node.handoutTerm = node.term;
    const snapshot = node.durable.snapshot;
    node.sm = snapshot === null ? new SimStateMachine(this.initialConfig) : SimStateMachine.fromSnapshot(snapshot);
    if (snapshot !== null) this.checker.onSnapshotInstalled(node, snapshot.meta.lastIncludedIndex, node.sm.hash);
    checkConfig(this, node);
    this.network.setDown(node.id, false);
    processReady(this, node);
  }

  /** The planted bug of {@link ClusterOptions.amnesia}. */
  private forget(node: SimNode): void {
    const d = node.durable;
    if (this.amnesia === 'vote') d.hardState = { ...d.hardState, vote: null };
    if (this.amnesia === 'lastEntry' && d.entries.length > 0) {
      d.entries.pop();
      d.hardState = { ...d.hardState, commit: Math.min(d.hardState.commit, d.lastIndex()) };
      node.commitRecorded = Math.min(node.commitRecorded, d.hardState.commit);
    }
  }

  partition(groupA: NodeId[], groupB: NodeId[]): void {
    this.events++;
    this.record('partition', `${groupA.join(',')} | ${groupB.join(',')}`);
    this.stats.partitions++;
    this.network.partition(groupA, groupB);
  }

  isolate(id: NodeId): void {
    this.partition([id], this.ids.filter((x) => x !== id));
  }

  blockOneWay(from: NodeId, to: NodeId): void {
    this.events++;
    this.record('block', `${from}->${to}`);
    this.stats.partitions++;
    this.network.blockOneWay(from, to);
  }

  reconnect(id: NodeId): void {
    this.events++;
    this.record('reconnect', id);
    this.network.reconnect(id, this.ids);
  }

  heal(): void {
    this.events++;
    this.record('heal', '');
    this.network.heal();
  }

  setNetwork(profile: NetworkProfile): void {
    this.events++;
    this.record('network', JSON.stringify(profile));
    this.network.profile = { ...profile };
  }

  // --- client operations -----------------------------------------------------------------------------

  /** Proposes a fresh, uniquely identified write on `id`. */
  propose(id: NodeId, padBytes = 0): ClientResult {
    let proposalId = 0;
    return this.clientOp(
      id,
      () => {
        proposalId = this.nextProposalId++;
        this.stats.proposals++;
        this.record('propose', `${id} #${proposalId}`);
      },
      (raw, node) => {
        const index = raw.propose(encodePayload(proposalId, padBytes));
        this.checker.onPropose(node, proposalId, index);
        return { ok: true, index, proposalId };
      },
    );
  }

  /** Starts a linearizable read on `id` (ReadIndex, or a lease read). */
  read(id: NodeId, lease: boolean): ClientResult {
    let context = 0;
    return this.clientOp(
      id,
      () => {
        context = this.nextReadContext++;
        this.stats.reads++;
        this.record('read', `${id} ctx ${context}${lease ? ' lease' : ''}`);
      },
      (raw, node) => {
        node.pendingReads.set(context, this.checker.newRead(context, lease));
        try {
          if (lease) raw.leaseRead(context);
          else raw.readIndex(context);
        } catch (e) {
          node.pendingReads.delete(context);
          this.stats.readsRejected++;
          throw e;
        }
        return { ok: true, index: 0, proposalId: context };
      },
    );
  }

  proposeConfChange(id: NodeId, change: ConfChange): ClientResult {
    return this.clientOp(
      id,
      () => {
        this.stats.confChanges++;
        this.record('confChange', `${id} ${change.type} ${change.nodeId}`);
      },
      (raw) => ({ ok: true, index: raw.proposeConfChange(change), proposalId: 0 }),
    );
  }

  transferLeader(id: NodeId, target: NodeId): ClientResult {
    return this.clientOp(
      id,
      () => {
        this.stats.transfers++;
        this.record('transfer', `${id} -> ${target}`);
      },
      (raw) => {
        raw.transferLeader(target);
        return { ok: true, index: 0, proposalId: 0 };
      },
    );
  }

  /**
   * One client operation on `id`: refused on a down or paused node; else `begin` (counts, trace),
   * then `run` on its core. An error the core may legitimately answer with is the operation's
   * result; any other is a violation. Then the node's Ready is processed.
   */
  private clientOp(id: NodeId, begin: () => void, run: (raw: RawNode, node: SimNode) => ClientResult): ClientResult {
    const node = this.node(id);
    this.events++;
    if (node.raw === null || node.paused) return { ok: false, code: node.paused ? 'SIM_NODE_PAUSED' : 'SIM_NODE_DOWN' };
    begin();
    const raw = node.raw;
    return this.guard(() => {
      let result: ClientResult;
      try {
        result = run(raw, node);
      } catch (e) {
        return this.rejected(e);
      }
      processReady(this, node);
      return result;
    });
  }

  private rejected(e: unknown): ClientResult {
    if (isRaftwireError(e) && expectedClientErrors.has(e.code)) {
      this.stats.proposalsRejected++;
      return { ok: false, code: e.code };
    }
    throw e;
  }

  /** Runs `fn`; anything it throws that is not already a violation becomes one, with the dump. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof SimViolation) throw e;
      const err = e as Error;
      const code = isRaftwireError(e) ? `${e.code}: ` : '';
      return this.checker.fail('core or harness threw', `${code}${err.message}\n${err.stack ?? ''}`);
    }
  }

  /** See {@link healAndCheckLiveness}. */
  healAndCheckLiveness(boundMs: number): LivenessResult {
    return healAndCheckLiveness(this, boundMs);
  }

  // --- trace and dump ----------------------------------------------------------------------------------

  /** Counts sent messages per window; an amplification storm is a violation. */
  countSent(count: number): void {
    if (this.nowMs >= this.windowStart + stormWindowMs) {
      this.windowStart = this.nowMs - (this.nowMs % stormWindowMs);
      this.windowMessages = 0;
    }
    this.windowMessages += count;
    if (this.windowMessages > this.messagesPerWindowMax) this.messagesPerWindowMax = this.windowMessages;
    if (this.windowMessages > stormMessagesMax) {
      this.checker.fail('no message storm', `${this.windowMessages} messages sent within ${stormWindowMs} ms of virtual time (from ${this.windowStart} ms); bound ${stormMessagesMax}`);
    }
  }

  /** Adds an event to the trace shown in violation reports. */
  record(kind: string, what: Message | string): void {
    this.trace.record({ n: this.events, at: this.nowMs, kind, what });
  }

  /** A readable state of the whole cluster and the last events, for violation reports. */
  dump(): string {
    return dumpCluster(this, this.trace.ordered());
  }
}
