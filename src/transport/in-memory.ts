/**
 * `InMemoryNetwork`: nodes in one process linked through an {@link InMemoryHub}, with the faults a
 * real network has (delay, jitter, drops, duplicates, reordering, one-way and two-way partitions,
 * crashed nodes). The hub runs on any {@link Clock} and a seeded {@link Prng}, so with a
 * `VirtualClock` a whole cluster is a pure function of its seed.
 *
 * @example
 * ```ts
 * const hub = new InMemoryHub({ clock: new VirtualClock(), seed: 7 });
 * const n1 = new InMemoryNetwork('n1', { baseDelay: 5, jitter: 2, dropRate: 0.01, hub });
 * const n2 = new InMemoryNetwork('n2', { hub });
 * n2.registerHandlers(handlers); await n1.start(); await n2.start();
 * const answer = n1.sendRequestVote('n2', { term: 1, candidateId: 'n1', lastLogIndex: 0, lastLogTerm: 0 });
 * hub.clock.advance(20); // delivers the request and the answer
 * n1.partition('n1', 'n2'); InMemoryNetwork.failNode('n3'); // (static: the default hub)
 * ```
 * @module
 */
import { InvalidConfigError } from '../core/errors.js';
import type { NodeId } from '../core/types.js';
import type { PeerAddress } from './addresses.js';
import { type Clock, type TimerHandle, systemClock } from '../util/clock.js';
import { Prng } from '../util/prng.js';
import { dispatchRequest, errorCode, errorMessage } from './dispatch.js';
import {
  ConnectionLostError,
  NetworkStoppedError,
  NetworkTimeoutError,
  NodeFailedError,
  PartitionError,
  RemoteHandlerError,
  TargetUnavailableError,
  TransportError,
} from './errors.js';
import {
  toAppendEntries,
  toInstallSnapshot,
  toRequestVote,
  toTimeoutNow,
  type AppendEntriesParams,
  type AppendEntriesResponse,
  type InstallSnapshotParams,
  type InstallSnapshotResponse,
  type NetworkInterface,
  type PeerAddressBook,
  type RaftRpcHandlers,
  type RequestVoteParams,
  type RequestVoteResponse,
  type RpcRequest,
  type RpcResponse,
  type TimeoutNowParams,
} from './types.js';

/** Faults applied by the hub to every message, on top of each network's delay and drop rate. */
export interface InMemoryChaos {
  /** Probability that a request is delivered twice (the second answer is discarded). */
  duplicateRate: number;
  /** Probability that a message is held back by up to `reorderDelayMaxMs` extra, overtaking order. */
  reorderRate: number;
  reorderDelayMaxMs: number;
}

export interface InMemoryHubOptions extends Partial<InMemoryChaos> {
  /** Time source for delays and timeouts. Default: the system clock. */
  clock?: Clock;
  /** Seed of the generator behind jitter, drops, duplicates and reordering. Default 1. */
  seed?: number;
}

/**
 * The medium in-memory networks share: who is registered, who is failed, which links are cut.
 * A partition is directional: `partitionOneWay(a, b)` loses what `a` sends to `b` only.
 */
export class InMemoryHub {
  readonly clock: Clock;
  readonly prng: Prng;
  chaos: InMemoryChaos;
  private readonly nodes = new Map<NodeId, InMemoryNetwork>();
  private readonly failed = new Set<NodeId>();
  // Keys "from\0to" of cut directions.
  private readonly cut = new Set<string>();

  private static defaultHub: InMemoryHub | undefined;

  /** The hub networks join when none is given, and the one the static methods act on. */
  static get default(): InMemoryHub {
    return (InMemoryHub.defaultHub ??= new InMemoryHub());
  }

  /** Forgets the default hub (tests call this between cases). Networks on the old one keep it. */
  static resetDefault(): void {
    InMemoryHub.defaultHub = undefined;
  }

  constructor(options: InMemoryHubOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.prng = new Prng(options.seed ?? 1);
    this.chaos = {
      duplicateRate: options.duplicateRate ?? 0,
      reorderRate: options.reorderRate ?? 0,
      reorderDelayMaxMs: options.reorderDelayMaxMs ?? 0,
    };
    checkRate('duplicateRate', this.chaos.duplicateRate);
    checkRate('reorderRate', this.chaos.reorderRate);
  }

  /** Crashes `nodeId`: it neither sends nor receives until {@link recoverNode}. */
  failNode(nodeId: NodeId): void {
    this.failed.add(nodeId);
  }

  recoverNode(nodeId: NodeId): void {
    this.failed.delete(nodeId);
  }

  isFailed(nodeId: NodeId): boolean {
    return this.failed.has(nodeId);
  }

  /** Cuts both directions between `a` and `b`. */
  partition(a: NodeId, b: NodeId): void {
    this.cut.add(linkKey(a, b));
    this.cut.add(linkKey(b, a));
  }

  /** Cuts only what `from` sends to `to` (answers from `to` to `from` still flow). */
  partitionOneWay(from: NodeId, to: NodeId): void {
    this.cut.add(linkKey(from, to));
  }

  /** Restores both directions between `a` and `b`. */
  healPartition(a: NodeId, b: NodeId): void {
    this.cut.delete(linkKey(a, b));
    this.cut.delete(linkKey(b, a));
  }

  /** Restores every link and recovers every node. */
  healAll(): void {
    this.cut.clear();
    this.failed.clear();
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cut.size > 0 && this.cut.has(linkKey(from, to));
  }

  /** The started network of `nodeId`, if any. */
  lookup(nodeId: NodeId): InMemoryNetwork | undefined {
    return this.nodes.get(nodeId);
  }

  /** @internal Called by {@link InMemoryNetwork.start}. */
  register(network: InMemoryNetwork): void {
    if (this.nodes.has(network.nodeId)) {
      throw new TransportError('TRANSPORT_ERR_ADDRESS_IN_USE', `node ${network.nodeId} is already started on this hub`, false);
    }
    this.nodes.set(network.nodeId, network);
  }

  /** @internal Called by {@link InMemoryNetwork.stop}. */
  unregister(network: InMemoryNetwork): void {
    if (this.nodes.get(network.nodeId) === network) this.nodes.delete(network.nodeId);
  }

  /** Extra delay for one message from the reordering fault, in ms. */
  reorderDelay(): number {
    const { reorderRate, reorderDelayMaxMs } = this.chaos;
    if (reorderRate === 0 || !this.prng.chance(reorderRate)) return 0;
    return this.prng.next() * reorderDelayMaxMs;
  }
}

export interface InMemoryNetworkOptions {
  /** Delay of each leg (request, answer), ms. Default 0 (delivered on the next microtask). */
  baseDelay?: number;
  /** Up to this much extra delay per leg, uniformly drawn, ms. Default 0. */
  jitter?: number;
  /** Probability that a leg is lost; the caller then sees a timeout. Default 0. */
  dropRate?: number;
  /** How long a request may wait for its answer, ms. Default 5000. */
  timeout?: number;
  /** The hub to join. Default {@link InMemoryHub.default}. */
  hub?: InMemoryHub;
}

/** One outstanding request of this node. */
interface Pending {
  owner: InMemoryNetwork;
  target: NodeId;
  resolve(value: RpcResponse): void;
  reject(error: unknown): void;
  timer: TimerHandle;
  settled: boolean;
}

/** A simulated network endpoint; see the module comment. */
export class InMemoryNetwork implements NetworkInterface, PeerAddressBook {
  readonly nodeId: NodeId;
  readonly hub: InMemoryHub;
  baseDelay: number;
  jitter: number;
  dropRate: number;
  readonly timeoutMs: number;
  private handlers: RaftRpcHandlers | undefined;
  private started = false;
  // Requests this node sent that are not settled yet.
  private readonly outgoing = new Set<Pending>();
  // Requests other nodes sent to this node that are not answered yet (failed at once on stop).
  private readonly incoming = new Set<Pending>();

  constructor(nodeId: NodeId, options: InMemoryNetworkOptions = {}) {
    this.nodeId = nodeId;
    this.hub = options.hub ?? InMemoryHub.default;
    this.baseDelay = options.baseDelay ?? 0;
    this.jitter = options.jitter ?? 0;
    this.dropRate = options.dropRate ?? 0;
    this.timeoutMs = options.timeout ?? 5000;
    if (!(this.baseDelay >= 0 && this.jitter >= 0)) throw new InvalidConfigError(`baseDelay and jitter must be >= 0 (got ${this.baseDelay}, ${this.jitter})`);
    checkRate('dropRate', this.dropRate);
    if (!(this.timeoutMs > 0)) throw new InvalidConfigError(`timeout must be > 0 ms (got ${this.timeoutMs})`);
  }

  /** Crashes `nodeId` on the default hub. */
  static failNode(nodeId: NodeId): void {
    InMemoryHub.default.failNode(nodeId);
  }

  /** Recovers `nodeId` on the default hub. */
  static recoverNode(nodeId: NodeId): void {
    InMemoryHub.default.recoverNode(nodeId);
  }

  /** Cuts both directions between `a` and `b` (with one argument: between this node and `a`). */
  partition(a: NodeId, b?: NodeId): void {
    if (b === undefined) this.hub.partition(this.nodeId, a);
    else this.hub.partition(a, b);
  }

  /** Restores both directions between `a` and `b` (with one argument: between this node and `a`). */
  healPartition(a: NodeId, b?: NodeId): void {
    if (b === undefined) this.hub.healPartition(this.nodeId, a);
    else this.hub.healPartition(a, b);
  }

  /**
   * Accepts and ignores an address: nodes on a hub reach each other by id, so code written for any
   * {@link PeerAddressBook} (membership changes) runs unchanged on the simulation.
   */
  setNodeAddress(_nodeId: NodeId, _address: PeerAddress): void {}

  /** Accepts and ignores the removal: on a hub a node is reachable while it is started (see {@link InMemoryHub}). */
  removeNodeAddress(_nodeId: NodeId): void {}

  registerHandlers(handlers: RaftRpcHandlers): void {
    this.handlers = handlers;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.hub.register(this);
    this.started = true;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.hub.unregister(this);
    for (const pending of [...this.outgoing]) this.settle(pending, new NetworkStoppedError(this.nodeId));
    for (const pending of [...this.incoming]) pending.owner.settle(pending, new ConnectionLostError(this.nodeId, 'target stopped'));
  }

  sendRequestVote(target: NodeId, req: RequestVoteParams): Promise<RequestVoteResponse> {
    return this.call(target, toRequestVote(target, req)) as Promise<RequestVoteResponse>;
  }

  sendAppendEntries(target: NodeId, req: AppendEntriesParams): Promise<AppendEntriesResponse> {
    return this.call(target, toAppendEntries(target, req)) as Promise<AppendEntriesResponse>;
  }

  sendInstallSnapshot(target: NodeId, req: InstallSnapshotParams): Promise<InstallSnapshotResponse> {
    return this.call(target, toInstallSnapshot(target, req)) as Promise<InstallSnapshotResponse>;
  }

  async sendTimeoutNow(target: NodeId, req: TimeoutNowParams): Promise<void> {
    await this.call(target, toTimeoutNow(target, req));
  }

  /** @internal Whether this endpoint takes requests. */
  get isStarted(): boolean {
    return this.started;
  }

  private call(target: NodeId, req: RpcRequest): Promise<RpcResponse> {
    const hub = this.hub;
    if (!this.started) return Promise.reject(new NetworkStoppedError(this.nodeId));
    if (hub.isFailed(this.nodeId)) return Promise.reject(new NodeFailedError(this.nodeId));
    if (hub.isFailed(target)) return Promise.reject(new NodeFailedError(target));
    if (hub.isCut(this.nodeId, target)) return Promise.reject(new PartitionError(this.nodeId, target));
    if (hub.lookup(target) === undefined) return Promise.reject(new TargetUnavailableError(target));
    return new Promise<RpcResponse>((resolve, reject) => {
      const pending: Pending = { owner: this, target, resolve, reject, settled: false, timer: undefined as unknown as TimerHandle };
      pending.timer = hub.clock.setTimeout(() => this.settle(pending, new NetworkTimeoutError(target, this.timeoutMs)), this.timeoutMs);
      this.outgoing.add(pending);
      this.deliverRequest(pending, req);
      if (hub.chaos.duplicateRate > 0 && hub.prng.chance(hub.chaos.duplicateRate)) this.deliverRequest(undefined, req);
    });
  }

  /** Carries `req` to its target after one leg's delay; `pending` undefined for a duplicate. */
  private deliverRequest(pending: Pending | undefined, req: RpcRequest): void {
    if (this.dropRate > 0 && this.hub.prng.chance(this.dropRate)) return; // lost: the caller times out
    this.afterLeg(() => {
      const hub = this.hub;
      const receiver = hub.lookup(req.to);
      // Conditions are checked again on arrival: a partition or crash that happens while the message
      // is on the wire loses it, as on a real network.
      if (receiver === undefined || hub.isFailed(req.to) || hub.isFailed(this.nodeId) || hub.isCut(this.nodeId, req.to)) return;
      if (pending !== undefined) {
        if (pending.settled) return;
        receiver.incoming.add(pending);
      }
      dispatchRequest(receiver.nodeId, receiver.handlers, req).then(
        (response) => {
          if (pending !== undefined) receiver.deliverAnswer(pending, this, response, undefined);
        },
        (error: unknown) => {
          if (pending !== undefined) {
            receiver.deliverAnswer(pending, this, undefined, new RemoteHandlerError(req.to, errorMessage(error), errorCode(error)));
          }
        },
      );
    });
  }

  /** Carries an answer from this (receiving) node back to `sender`. */
  private deliverAnswer(pending: Pending, sender: InMemoryNetwork, response: RpcResponse, error: TransportError | undefined): void {
    this.incoming.delete(pending);
    if (pending.settled || !this.started) return;
    if (this.dropRate > 0 && this.hub.prng.chance(this.dropRate)) return;
    this.afterLeg(() => {
      const hub = this.hub;
      if (hub.isFailed(this.nodeId) || hub.isFailed(sender.nodeId) || hub.isCut(this.nodeId, sender.nodeId)) return;
      sender.settle(pending, error, response);
    });
  }

  private afterLeg(deliver: () => void): void {
    const delay = this.baseDelay + (this.jitter > 0 ? this.hub.prng.next() * this.jitter : 0) + this.hub.reorderDelay();
    if (delay <= 0) queueMicrotask(deliver);
    else this.hub.clock.setTimeout(deliver, delay);
  }

  private settle(pending: Pending, error: unknown, response?: RpcResponse): void {
    if (pending.settled) return;
    pending.settled = true;
    this.hub.clock.clearTimeout(pending.timer);
    this.outgoing.delete(pending);
    if (error !== undefined) pending.reject(error);
    else pending.resolve(response);
  }
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${from}\u0000${to}`;
}

function checkRate(name: string, rate: number): void {
  if (!(rate >= 0 && rate <= 1)) throw new InvalidConfigError(`${name} must be in [0, 1] (got ${rate})`);
}
