/**
 * A tiny in-process cluster for the core's unit tests: memory storage that follows the Ready
 * ordering rules, an instant network with partitions, and a stabilize loop. (The full fault
 * simulator lives in test/sim.)
 */
import { Prng } from '../../src/util/prng.js';
import { RawNode, type RaftConfig } from '../../src/core/index.js';
import type { ClusterConfig, Entry, HardState, Message, NodeId, Snapshot } from '../../src/core/index.js';
import type { ReadState } from '../../src/core/index.js';

export interface Stored {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
}

export interface TestNode {
  id: NodeId;
  node: RawNode;
  stored: Stored;
  applied: Entry[];
  readStates: ReadState[];
  /** Snapshot data the test state machine would hold: here just the applied count. */
  appliedIndex: number;
}

export type ConfigOverrides = Partial<Omit<RaftConfig, 'id' | 'random'>>;

export class TestCluster {
  readonly nodes = new Map<NodeId, TestNode>();
  queue: Message[] = [];
  private readonly cut = new Set<string>();
  readonly prng: Prng;
  readonly overrides: ConfigOverrides;
  readonly initialConfig: ClusterConfig;
  delivered = 0;

  constructor(ids: NodeId[], overrides: ConfigOverrides = {}, seed = 1, learners: NodeId[] = []) {
    this.prng = new Prng(seed);
    this.overrides = overrides;
    this.initialConfig = { voters: ids.slice(), learners: learners.slice() };
    for (const id of [...ids, ...learners]) this.add(id);
  }

  add(id: NodeId, config: ClusterConfig = this.initialConfig): TestNode {
    const stored: Stored = { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] };
    const t: TestNode = { id, node: this.makeNode(id, stored, config), stored, applied: [], readStates: [], appliedIndex: 0 };
    this.nodes.set(id, t);
    return t;
  }

  private makeNode(id: NodeId, stored: Stored, config: ClusterConfig): RawNode {
    const prng = this.prng.fork();
    return new RawNode(
      { tickMs: 10, electionTimeoutMinMs: 100, electionTimeoutMaxMs: 200, heartbeatIntervalMs: 20, ...this.overrides, id, random: () => prng.next() },
      { hardState: { ...stored.hardState }, snapshot: stored.snapshot, entries: stored.entries.slice(), config },
    );
  }

  /** Crash and restart from exactly what was persisted. */
  restart(id: NodeId): void {
    const t = this.get(id);
    t.node = this.makeNode(id, t.stored, this.initialConfig);
    t.applied = [];
    t.appliedIndex = t.stored.snapshot?.meta.lastIncludedIndex ?? 0;
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
  }

  get(id: NodeId): TestNode {
    const t = this.nodes.get(id);
    if (t === undefined) throw new Error(`no node ${id}`);
    return t;
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) if (other !== id) this.partition(id, other);
  }

  partition(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}|${b}`);
    this.cut.add(`${b}|${a}`);
  }

  heal(): void {
    this.cut.clear();
  }

  processReady(t: TestNode): boolean {
    if (!t.node.hasReady()) return false;
    const rd = t.node.ready();
    const s = t.stored;
    if (rd.snapshot !== null) {
      s.snapshot = rd.snapshot;
      s.entries = []; // a snapshot from the leader replaces the whole log
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0].index;
      s.entries = s.entries.filter((e) => e.index < first);
      s.entries.push(...rd.entries);
    }
    if (rd.hardState !== null) s.hardState = { ...rd.hardState };
    for (const m of rd.messages) {
      expect(m.from).toBe(t.id);
      if (!this.cut.has(`${m.from}|${m.to}`)) this.queue.push(m);
    }
    if (rd.snapshot !== null) t.appliedIndex = rd.snapshot.meta.lastIncludedIndex;
    for (const e of rd.committedEntries) {
      expect(e.index).toBe(t.appliedIndex + 1);
      t.appliedIndex = e.index;
      t.applied.push(e);
    }
    t.readStates.push(...rd.readStates);
    t.node.advance();
    return true;
  }

  /** Delivers every queued message once (and what answering them produces), until quiet. */
  stabilize(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      let busy = false;
      for (const t of this.nodes.values()) busy = this.processReady(t) || busy;
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) {
        const to = this.nodes.get(m.to);
        if (to === undefined || this.cut.has(`${m.from}|${m.to}`)) continue;
        this.delivered++;
        to.node.step(m);
        busy = true;
      }
      if (!busy) return;
    }
    throw new Error('cluster did not stabilize');
  }

  tick(ids: NodeId[] = [...this.nodes.keys()]): void {
    for (const id of ids) this.get(id).node.tick();
  }

  /** Ticks every node until some node is leader (stabilizing in between). */
  electLeader(maxTicks = 500): TestNode {
    for (let i = 0; i < maxTicks; i++) {
      this.tick();
      this.stabilize();
      const leader = this.leader();
      if (leader !== undefined) return leader;
    }
    throw new Error('no leader elected');
  }

  leader(): TestNode | undefined {
    const leaders = [...this.nodes.values()].filter((t) => t.node.status().role === 'leader');
    let best: TestNode | undefined;
    for (const t of leaders) if (best === undefined || t.node.status().term > best.node.status().term) best = t;
    return best;
  }

  /** Makes `id` campaign now by ticking only it past its election timeout. */
  campaign(id: NodeId): void {
    const t = this.get(id);
    for (let i = 0; i < 1000 && !['candidate', 'preCandidate', 'leader'].includes(t.node.status().role); i++) t.node.tick();
  }
}

import { expect } from 'vitest';

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
