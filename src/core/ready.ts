/**
 * The I/O boundary of the core, as in etcd-io/raft: the core never performs effects, it returns
 * them in a {@link Ready} batch, and the caller acknowledges the batch with `advance()`.
 *
 * Ordering rules the caller must follow for each Ready, in this order:
 * 1. Persist `snapshot` (if any: it replaces the whole stored log, which restarts after it), then
 *    `entries` (the first entry's index may be ≤ the last stored index: truncate the stored log
 *    from that index first), then `hardState` (if any). Make them
 *    durable when `mustSync` is true. One atomic write is best; if a crash tears it (entries
 *    durable, hard state not), the restore adopts the last log term with no vote, which is safe
 *    because rule 2 kept every vote and acknowledgement of this Ready from leaving.
 * 2. Send `messages`. Exception: messages of type `AppendEntries` and `InstallSnapshot` from a
 *    leader may be sent before step 1 completes (thesis §10.2.1); every vote and every
 *    acknowledgement must wait for step 1, or a crash could forget a promise already made.
 * 3. Install `snapshot` into the state machine, then apply `committedEntries` in order.
 * 4. Release `readStates` whose `index` ≤ the applied index.
 * 5. Call `advance()`. Only then does a leader count its own new entries as replicated.
 *
 * With `asyncStorageWrites` (config.ts) the caller may take the next Ready before this one is
 * durable. The rules then become, per Ready, in the order the Readies were handed out:
 * 1. Start persisting (as above); writes of successive Readies must become durable in order.
 * 2. A leader's `AppendEntries`/`InstallSnapshot` may go at once; every other message waits until
 *    this Ready's writes, and every earlier Ready's, are durable.
 * 3. `committedEntries` are already durable here (the core holds back the rest): apply them at
 *    once and call `appliedTo(index)`; release `readStates` as above.
 * 4. When this Ready's writes are durable, call `persisted(logLastIndex, logLastTerm)`.
 * A Ready carrying a `snapshot` is best handled alone: wait for the earlier writes first.
 *
 * @module
 */
import type { Entry, HardState, Message, NodeId, Role, Snapshot } from './types.js';

/** A linearizable read that may be served once the state machine has applied `index`. */
export interface ReadState {
  /** The caller's context from `readIndex(context)`. */
  context: number;
  /** The commit index at the time the read was confirmed. */
  index: number;
}

/** Volatile state worth telling the caller about when it changes (not persisted). */
export interface SoftState {
  role: Role;
  leaderId: NodeId | null;
}

export interface Ready {
  /** Changed hard state to persist, or null if unchanged since the last Ready. */
  hardState: HardState | null;
  /** Soft state, or null if unchanged since the last Ready. */
  softState: SoftState | null;
  /** Entries to append to stable storage (possibly overwriting a conflicting suffix). */
  entries: Entry[];
  /** A snapshot received from the leader, to persist (discarding the stored log) and install; or null. */
  snapshot: Snapshot | null;
  /** Messages to send (see the ordering rules above). */
  messages: Message[];
  /** Committed entries to apply to the state machine, in index order. */
  committedEntries: Entry[];
  /** Confirmed linearizable reads. */
  readStates: ReadState[];
  /** True when entries or hard state must be fsync'ed before messages are sent. */
  mustSync: boolean;
  /**
   * Index and term of the log's last entry when this Ready was made: once its writes are durable,
   * an `asyncStorageWrites` caller reports `persisted(logLastIndex, logLastTerm)`.
   */
  logLastIndex: number;
  logLastTerm: number;
}
