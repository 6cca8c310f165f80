/**
 * What a leader knows about each follower's log (etcd's tracker.Progress), and the window of
 * AppendEntries in flight to it.
 *
 * States:
 * - `probe`: the leader does not know where the follower's log matches; it sends one AppendEntries
 *   at a time and waits for the answer (or the next heartbeat answer) before sending another.
 * - `replicate`: the follower is known to match at `matchIndex`; the leader streams entries
 *   optimistically (nextIndex moves on send), up to `maxInflightMessages` messages in flight.
 * - `snapshot`: the follower needs entries the leader compacted; the leader streams an
 *   InstallSnapshot in chunks, one chunk in flight.
 *
 * Invariant: 0 ≤ matchIndex < nextIndex.
 *
 * @module
 */
import { assert } from './errors.js';
import type { Snapshot } from './types.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/**
 * A ring buffer of the last entry index of each AppendEntries in flight, oldest first (undici's
 * fixed-queue idea): adding and freeing never allocate.
 *
 * ```
 *   start          start+count
 *     v                v
 * [ . a b c . . . . . ]   capacity slots, wraps around
 * ```
 */
export class Inflights {
  private readonly buffer: Float64Array;
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    assert(Number.isSafeInteger(capacity) && capacity > 0, () => `Inflights capacity ${capacity}`);
    this.buffer = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  full(): boolean {
    return this.count === this.capacity;
  }

  /** Records a message whose last entry is `lastIndex`. Invariant: indices added only grow. */
  add(lastIndex: number): void {
    if (this.full()) assert(false, () => `Inflights.add(${lastIndex}) when full (${this.capacity})`);
    if (this.count > 0) {
      const newest = this.buffer[(this.start + this.count - 1) % this.capacity];
      if (lastIndex < newest) assert(false, () => `Inflights.add(${lastIndex}) below newest ${newest}`);
    }
    this.buffer[(this.start + this.count) % this.capacity] = lastIndex;
    this.count++;
  }

  /** Frees every message whose last index is ≤ `index` (they were acknowledged). */
  freeLE(index: number): void {
    while (this.count > 0 && this.buffer[this.start] <= index) {
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
    if (this.count === 0) this.start = 0;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
  }
}

export class Progress {
  matchIndex = 0;
  nextIndex: number;
  state: ProgressState = 'probe';
  /** Probe state: an AppendEntries was sent and no answer has come back yet. */
  probeSent = false;
  /**
   * The leader's round (read-only.ts) when this progress last changed state, and when the last
   * probe left. Answers carry the round of the message they answer, so an answer from before the
   * last state change, or a stale answer to an old probe, does not move the flow control (without
   * this, every stale answer would release another probe: a message storm).
   */
  stateRound = 0;
  probeSentRound = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** Highest commit index this follower was told (so an empty AppendEntries carries news only when needed). */
  sentCommit = 0;
  /** Highest read/lease round this follower acknowledged (see read-only.ts). */
  ackedRound = 0;
  /** Heartbeat rounds in a row without matchIndex moving while messages were in flight. */
  stalledRounds = 0;
  matchAtLastHeartbeat = 0;
  /** Snapshot state: tick at which the last chunk was sent (for resending a lost one). */
  snapshotSentTick = 0;
  /**
   * Replicate state: how many appends may be in flight now (≤ maxInflightMessages). It starts at 1
   * on entering replicate and grows by one per acknowledged append — TCP's slow start — so a
   * follower behind a reordering network is not sent a full window that arrives out of order,
   * is mostly rejected and sent again (a message storm).
   */
  window = 1;
  /** Snapshot state: the snapshot being sent, the bytes the follower holds, and whether a chunk is unanswered. */
  snapshot: Snapshot | null = null;
  snapshotOffset = 0;
  readonly inflights: Inflights;

  constructor(nextIndex: number, maxInflightMessages: number) {
    this.nextIndex = nextIndex;
    this.inflights = new Inflights(maxInflightMessages);
    this.checkInvariant();
  }

  checkInvariant(): void {
    if (!(this.matchIndex >= 0 && this.matchIndex < this.nextIndex)) assert(false, () => `Progress invariant 0 ≤ match < next broken: match=${this.matchIndex} next=${this.nextIndex} state=${this.state}`);
  }

  /** True when nothing more may be sent until an answer arrives. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.size >= this.window;
      case 'snapshot':
        return true;
    }
  }

  becomeProbe(): void {
    // After a snapshot the follower holds at least the snapshot's entries.
    if (this.state === 'snapshot' && this.snapshot !== null) {
      this.nextIndex = Math.max(this.matchIndex + 1, this.snapshot.meta.lastIncludedIndex + 1);
    } else {
      this.nextIndex = this.matchIndex + 1;
    }
    this.resetState('probe');
  }

  becomeReplicate(): void {
    this.nextIndex = this.matchIndex + 1;
    this.resetState('replicate');
    this.window = 1;
  }

  /** An append was acknowledged in replicate state: one more may be in flight. */
  growWindow(): void {
    if (this.window < this.inflights.capacity) this.window++;
  }

  becomeSnapshot(snapshot: Snapshot): void {
    this.resetState('snapshot');
    this.snapshot = snapshot;
  }

  private resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.snapshot = null;
    this.snapshotOffset = 0;
    this.stalledRounds = 0;
    this.inflights.reset();
    this.checkInvariant();
  }

  /**
   * The follower acknowledged entries up to `index`. Returns true when matchIndex moved.
   */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (index > this.matchIndex) {
      this.matchIndex = index;
      this.probeSent = false;
      updated = true;
    }
    if (this.nextIndex < index + 1) this.nextIndex = index + 1;
    this.checkInvariant();
    return updated;
  }

  /** Replicate state: entries up to `lastIndex` were just sent. */
  sentEntries(lastIndex: number): void {
    if (this.state !== 'replicate') assert(false, () => `sentEntries in state ${this.state}`);
    this.nextIndex = lastIndex + 1;
    this.inflights.add(lastIndex);
  }
}
