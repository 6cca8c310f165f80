/**
 * The simulated network: messages travel on the simulator's virtual time. Each message gets a
 * delay drawn from a seeded {@link Prng}, may be dropped or duplicated, and is delivered only if,
 * at the moment it arrives, no partition separates sender and receiver and the receiver is up.
 * Reordering falls out of independent delays.
 *
 * Partitions are kept as a set of blocked directed links, so symmetric splits, one-way blocks and
 * isolating a node are the same mechanism.
 *
 * @example
 * ```ts
 * const net = new SimNetwork(new Prng(1), { ...reliableNetwork });
 * net.send(message, 0);
 * net.partition(['n1'], ['n2', 'n3']);
 * const due = net.popDue(100); // undefined: n1 is cut off
 * ```
 */
import type { Message, NodeId } from '../../src/core/types.js';
import type { Prng } from '../../src/util/prng.js';
import { MinHeap } from '../../src/util/min-heap.js';

/** The fault knobs of the network. Probabilities are per message. */
export interface NetworkProfile {
  /** Smallest one-way delay. */
  delayMinMs: number;
  /** Largest one-way delay of a normal message. */
  delayMaxMs: number;
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a message is delivered twice (with independent delays). */
  duplicateRate: number;
  /** Probability that a message is held back for up to `tailDelayMaxMs` (a long tail). */
  tailRate: number;
  tailDelayMaxMs: number;
}

/** Nothing lost, duplicated or held back; small delays. */
export const reliableNetwork: NetworkProfile = {
  delayMinMs: 1,
  delayMaxMs: 5,
  dropRate: 0,
  duplicateRate: 0,
  tailRate: 0,
  tailDelayMaxMs: 0,
};

/** Lossy, duplicating, reordering: the etcd/MIT "unreliable" network. */
export const unreliableNetwork: NetworkProfile = {
  delayMinMs: 1,
  delayMaxMs: 30,
  dropRate: 0.1,
  duplicateRate: 0.05,
  tailRate: 0.05,
  tailDelayMaxMs: 300,
};

/** A message on the wire. */
export interface InFlight {
  at: number;
  seq: number;
  message: Message;
  /** Set by {@link SimNetwork.popDue} when the message arrived at a partition or a down node. */
  blocked?: boolean;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  /** Messages that arrived at a partition or a down node. */
  blocked: number;
}

/** How many recently sent messages the network remembers for stale replays. */
export const recentMessagesMax = 256;

/** Largest number of messages in flight; more means a message storm (a bug), not a slow network. */
export const inFlightMessagesMax = 1_000_000;

export class SimNetwork {
  profile: NetworkProfile;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, blocked: 0 };
  // By arrival time, ties in send order: a run is a pure function of its seed.
  private readonly queue = new MinHeap<InFlight>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
  private readonly blockedLinks = new Set<string>();
  private readonly downNodes = new Set<NodeId>();
  private seq = 0;
  /** The last {@link recentMessagesMax} messages sent, for stale replays. */
  private readonly recent: Message[] = [];
  private recentNext = 0;

  constructor(
    private readonly prng: Prng,
    profile: NetworkProfile,
  ) {
    this.profile = { ...profile };
  }

  /** Puts `message` on the wire at virtual time `nowMs`. */
  send(message: Message, nowMs: number): void {
    this.stats.sent++;
    if (this.recent.length < recentMessagesMax) this.recent.push(message);
    else this.recent[this.recentNext] = message;
    this.recentNext = (this.recentNext + 1) % recentMessagesMax;
    const p = this.profile;
    if (p.dropRate > 0 && this.prng.chance(p.dropRate)) {
      this.stats.dropped++;
      return;
    }
    this.enqueue(message, nowMs);
    if (p.duplicateRate > 0 && this.prng.chance(p.duplicateRate)) {
      this.stats.duplicated++;
      this.enqueue(message, nowMs);
    }
  }

  private enqueue(message: Message, nowMs: number): void {
    const p = this.profile;
    let delay = p.delayMinMs + this.prng.int(Math.max(1, p.delayMaxMs - p.delayMinMs + 1));
    if (p.tailRate > 0 && this.prng.chance(p.tailRate)) delay += this.prng.int(p.tailDelayMaxMs + 1);
    this.queue.push({ at: nowMs + delay, seq: this.seq++, message });
    if (this.queue.size > inFlightMessagesMax) {
      throw new Error(`message storm: more than ${inFlightMessagesMax} messages in flight`);
    }
  }

  /** Puts one of the recently sent messages on the wire again (a stale duplicate). */
  replayOld(nowMs: number): Message | undefined {
    if (this.recent.length === 0) return undefined;
    const message = this.recent[this.prng.int(this.recent.length)]!;
    this.stats.duplicated++;
    this.enqueue(message, nowMs);
    return message;
  }

  /** Virtual time of the next arrival, or undefined when nothing is in flight. */
  nextArrivalAt(): number | undefined {
    return this.queue.peek()?.at;
  }

  /** Number of messages in flight. */
  inFlight(): number {
    return this.queue.size;
  }

  /**
   * Takes the next message off the wire if it arrives at or before `untilMs` (else undefined).
   * `blocked` is set when it arrived at a partition or a down node and must not be delivered.
   */
  popDue(untilMs: number): InFlight | undefined {
    const next = this.queue.peek();
    if (next === undefined || next.at > untilMs) return undefined;
    this.queue.pop();
    const m = next.message;
    if (this.downNodes.has(m.to) || this.blockedLinks.has(linkKey(m.from, m.to))) {
      this.stats.blocked++;
      next.blocked = true;
      return next;
    }
    this.stats.delivered++;
    return next;
  }

  /** True when a message from `from` would reach `to` now. */
  connected(from: NodeId, to: NodeId): boolean {
    return !this.downNodes.has(to) && !this.blockedLinks.has(linkKey(from, to));
  }

  setDown(id: NodeId, down: boolean): void {
    if (down) this.downNodes.add(id);
    else this.downNodes.delete(id);
  }

  /** Cuts every link between the two groups, both ways. */
  partition(groupA: readonly NodeId[], groupB: readonly NodeId[]): void {
    for (const a of groupA) {
      for (const b of groupB) {
        if (a === b) continue;
        this.blockedLinks.add(linkKey(a, b));
        this.blockedLinks.add(linkKey(b, a));
      }
    }
  }

  /** Cuts `from → to` only: `to` still reaches `from`. */
  blockOneWay(from: NodeId, to: NodeId): void {
    this.blockedLinks.add(linkKey(from, to));
  }

  /** Cuts `id` off from every other node in `all`, both ways. */
  isolate(id: NodeId, all: readonly NodeId[]): void {
    this.partition([id], all);
  }

  /** Restores every link of `id`. */
  reconnect(id: NodeId, all: readonly NodeId[]): void {
    for (const other of all) {
      this.blockedLinks.delete(linkKey(id, other));
      this.blockedLinks.delete(linkKey(other, id));
    }
  }

  /** Restores every link (down nodes stay down). */
  heal(): void {
    this.blockedLinks.clear();
  }

  /** Number of blocked directed links. */
  blockedLinkCount(): number {
    return this.blockedLinks.size;
  }

  /** A readable list of blocked links, for state dumps. */
  describePartitions(): string {
    return this.blockedLinks.size === 0 ? 'none' : [...this.blockedLinks].map((k) => k.replace('\u0000', '->')).join(' ');
  }
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${from}\u0000${to}`;
}
