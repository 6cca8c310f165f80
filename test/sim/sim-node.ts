/** One simulated node: its core (null while crashed), durable store and state machine. */
import type { RawNode } from '../../src/core/index.js';
import type { ReadState, Ready } from '../../src/core/ready.js';
import type { Message, NodeId } from '../../src/core/types.js';
import type { CheckedNode, PendingRead } from './checker.js';
import type { SimStateMachine } from './state-machine.js';
import { DurableStore } from './store.js';

/** A Ready whose write is in flight: what to persist, and what waits for it. */
export interface PendingWrite {
  ready: Ready;
  /** The node led in the Ready's term when it was handed out (checker: append-only, Figure 8). */
  wasLeaderInTerm: boolean;
  /** The Ready made the node leader: the checker hears of it once the Ready is durable. */
  becameLeader: boolean;
  voters: readonly string[];
  /** Messages that may leave only once this write is durable. */
  held: Message[];
}

export class SimNode implements CheckedNode {
  raw: RawNode | null = null;
  sm: SimStateMachine | null = null;
  readonly durable = new DurableStore();
  role = 'down';
  term = 0;
  leaderId: NodeId | null = null;
  incarnation = 0;
  commitRecorded = 0;
  readonly pendingReads = new Map<number, PendingRead>();
  waitingReads: ReadState[] = [];
  /** Crash in the middle of processing the next Ready (see Cluster.crashDuringNextReady). */
  tornCrash = false;
  /**
   * With asynchronous storage writes (ready-processing.ts): Readies handed out whose writes are not
   * yet durable, oldest first, and the term as of the last Ready handed out.
   */
  pendingWrites: PendingWrite[] = [];
  handoutTerm = 0;
  /**
   * Paused (a stopped process, a long GC pause): no ticks, no deliveries, volatile state kept.
   * Messages that arrive meanwhile wait in `held`; ticks missed are counted in `missedTicks`.
   */
  paused = false;
  held: Message[] = [];
  missedTicks = 0;
  /**
   * How fast this node's clock runs against the simulation's: it ticks `clockRate` times per
   * simulated tick on average (1: no drift; 0.9: 10% slow). `tickCredit` carries the fraction.
   */
  clockRate = 1;
  tickCredit = 0;
  /** Ticks this node has been leader after applying its own removal (see Cluster). */
  removedLeaderTicks = 0;

  constructor(readonly id: NodeId) {}

  get up(): boolean {
    return this.raw !== null;
  }
}
