/**
 * An in-process cluster of real `RaftNode`s for tests: `InMemoryNetwork` on one hub, a virtual
 * clock, memory log stores that survive a node's "crash", and the cache state machine. Time only
 * moves when the test says so, and between steps every promise is allowed to settle.
 */
import { CacheStateMachine, encodeCacheCommand, type CacheRequest, type CacheResult } from '../../src/cache/index.js';
import { MemorySnapshotPersistence, RaftNode, type RaftNodeOptions } from '../../src/node/index.js';
import { MemoryLogStore } from '../../src/storage/memory-log-store.js';
import { InMemoryHub, InMemoryNetwork } from '../../src/transport/in-memory.js';
import type { NetworkInterface } from '../../src/transport/types.js';
import { type Clock, type TimerHandle, VirtualClock } from '../../src/util/clock.js';
import { Prng } from '../../src/util/prng.js';

/**
 * One node's view of the shared virtual clock that can be paused, as SIGSTOP or a long GC pause
 * would: time goes on, but the node's timers do not fire until it resumes (then the due ones fire
 * once each, as a real event loop catching up would).
 */
export class PausableClock implements Clock {
  private paused = false;
  private held: (() => void)[] = [];

  constructor(private readonly base: VirtualClock) {}

  now(): number {
    return this.base.now();
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    return this.base.setTimeout(() => (this.paused ? this.held.push(callback) : callback()), delayMs);
  }

  clearTimeout(handle: TimerHandle): void {
    this.base.clearTimeout(handle);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const callback of this.held.splice(0)) callback();
  }
}

export const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

interface Member {
  node: RaftNode<CacheResult>;
  cache: CacheStateMachine;
  logStore: MemoryLogStore;
  snapshots: MemorySnapshotPersistence;
  network: InMemoryNetwork;
}

export class TestCluster {
  readonly clock = new VirtualClock();
  readonly hub: InMemoryHub;
  readonly members = new Map<string, Member>();
  readonly clocks = new Map<string, PausableClock>();
  private readonly rand: Prng;
  private sequence = 0;
  /** Wraps each node's network as it starts (tests that need a transport with more behaviour). */
  wrapNetwork: ((id: string, network: InMemoryNetwork) => NetworkInterface) | undefined;

  constructor(
    readonly ids: string[],
    private readonly raft: RaftNodeOptions<CacheResult>['raft'] = {},
    seed = 1,
  ) {
    this.rand = new Prng(seed);
    this.hub = new InMemoryHub({ clock: this.clock, seed });
  }

  async startAll(): Promise<void> {
    for (const id of this.ids) await this.start(id);
  }

  /**
   * Starts (or restarts, keeping its durable log and snapshot) node `id`. `overrides` change the
   * node's options, e.g. a node joining a running cluster starts with the existing `voters`.
   */
  async start(id: string, overrides: Partial<RaftNodeOptions<CacheResult>> = {}): Promise<RaftNode<CacheResult>> {
    const previous = this.members.get(id);
    const logStore = previous?.logStore ?? new MemoryLogStore();
    const snapshots = previous?.snapshots ?? new MemorySnapshotPersistence();
    const cache = new CacheStateMachine();
    const network = new InMemoryNetwork(id, { hub: this.hub, baseDelay: 1, jitter: 1, timeout: 200 });
    const random = this.rand.fork();
    const node = new RaftNode<CacheResult>({
      id,
      voters: this.ids,
      logStore,
      snapshots,
      network: this.wrapNetwork?.(id, network) ?? network,
      stateMachine: cache,
      clock: this.clockOf(id),
      random: () => random.next(),
      raft: { tickMs: 10, electionTimeoutMinMs: 150, electionTimeoutMaxMs: 300, heartbeatIntervalMs: 50, ...this.raft },
      ...overrides,
    });
    this.members.set(id, { node, cache, logStore, snapshots, network });
    this.hub.recoverNode(id);
    await node.start();
    return node;
  }

  clockOf(id: string): PausableClock {
    let clock = this.clocks.get(id);
    if (clock === undefined) this.clocks.set(id, (clock = new PausableClock(this.clock)));
    return clock;
  }

  /** Stops node `id` as a crash would: its memory is gone, its log store and snapshot stay. */
  async crash(id: string): Promise<void> {
    this.hub.failNode(id);
    await this.members.get(id)!.node.stop();
  }

  async stopAll(): Promise<void> {
    for (const member of this.members.values()) await member.node.stop();
  }

  node(id: string): RaftNode<CacheResult> {
    return this.members.get(id)!.node;
  }

  cache(id: string): CacheStateMachine {
    return this.members.get(id)!.cache;
  }

  /** Advances virtual time by `ms`, 1 ms at a time, letting promises settle in between. */
  async run(ms: number): Promise<void> {
    for (let t = 0; t < ms; t++) {
      this.clock.advance(1);
      await settle();
    }
  }

  /** Runs until `predicate` holds, at most `ms` of virtual time; throws if it never does. */
  async runUntil(predicate: () => boolean, ms: number, what: string): Promise<void> {
    for (let t = 0; t < ms; t++) {
      if (predicate()) return;
      this.clock.advance(1);
      await settle();
    }
    if (!predicate()) throw new Error(`timed out after ${ms} virtual ms waiting for ${what}`);
  }

  leader(exclude: string[] = []): string | undefined {
    const leaders = [...this.members].filter(([id, m]) => !exclude.includes(id) && m.node.isLeader()).map(([id]) => id);
    return leaders[0];
  }

  async awaitLeader(exclude: string[] = []): Promise<string> {
    await this.runUntil(() => this.leader(exclude) !== undefined, 5_000, 'a leader');
    return this.leader(exclude)!;
  }

  /** Proposes a cache request on `id` and runs the clock until it settles. */
  async write(id: string, request: CacheRequest, ms = 2_000): Promise<CacheResult> {
    const data = encodeCacheCommand(request, { nowMs: this.clock.now(), clientId: 'test', sequence: ++this.sequence });
    return this.settleWith(this.node(id).propose(data), ms);
  }

  /** Runs the clock until `promise` settles; returns its value or throws its error. */
  async settleWith<T>(promise: Promise<T>, ms = 2_000): Promise<T> {
    let done = false;
    promise.then(
      () => (done = true),
      () => (done = true),
    );
    await this.runUntil(() => done, ms, 'the operation to settle');
    return promise;
  }
}
