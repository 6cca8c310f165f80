/** One simulated node: its core (null while crashed), durable store and state machine. */
import type { RawNode } from '../../src/core/index.js';
import type { ReadState } from '../../src/core/ready.js';
import type { Message, NodeId } from '../../src/core/types.js';
import type { CheckedNode, PendingRead } from './checker.js';
import type { SimStateMachine } from './state-machine.js';
import { DurableStore } from './store.js';

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
