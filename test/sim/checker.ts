/**
 * The safety checker. The cluster calls it while it processes each Ready and after each event; a
 * broken invariant throws {@link SimViolation} at once, carrying the seed, the event number, the
 * invariant's name and a readable dump of the cluster.
 *
 * Invariants (Raft paper Figure 3, plus the client-facing ones):
 * - election safety: at most one leader per term;
 * - leader append-only: a leader never overwrites or deletes entries of its log in its term;
 * - log matching: an (index, term) pair identifies one entry (same type and data) and one
 *   predecessor term, so two logs that share it are equal up to it (checked incrementally, on
 *   every persisted entry);
 * - leader completeness: a new leader's log holds every entry known to be committed;
 * - state machine safety: no two nodes commit or apply different entries at one index, and a
 *   snapshot carries the state every node reached at its index;
 * - durable state: terms never go back, a vote is never changed within a term, commit never goes
 *   back and never passes the log;
 * - applied entries were proposed, each proposal lands at most once, and an entry at the index
 *   and term a leader returned from `propose` is that proposal;
 * - reads: a ReadState answers a read this node was asked for, and its index covers every entry
 *   committed before the read was invoked (so the value read reflects every acknowledged write).
 */
import type { Entry, HardState, NodeId, Snapshot } from '../../src/core/types.js';
import type { ReadState } from '../../src/core/ready.js';

/** A broken invariant, found by the simulator. */
export class SimViolation extends Error {
  readonly code = 'SIM_ERR_VIOLATION';
  constructor(
    readonly invariant: string,
    readonly detail: string,
    readonly seed: number,
    readonly event: number,
    readonly dump: string,
    readonly replay: string,
  ) {
    super(`invariant violated: ${invariant}\n  ${detail}\n  seed ${seed}, event ${event}\n  replay: ${replay}\n${dump}`);
    this.name = 'SimViolation';
  }
}

/** What the checker needs to know about a node (kept by the cluster). */
export interface CheckedNode {
  readonly id: NodeId;
  readonly incarnation: number;
  role: string;
  term: number;
  readonly durable: {
    hardState: HardState;
    snapshotIndex(): number;
    snapshotTerm(): number;
    lastIndex(): number;
    termAt(index: number): number | undefined;
    entryAt(index: number): Entry | undefined;
  };
  /** Highest index whose commit this checker has recorded from this node's durable state. */
  commitRecorded: number;
  readonly sm: { appliedIndex: number; hash: number } | null;
}

interface EntryRecord {
  term: number;
  type: Entry['type'];
  data: Uint8Array;
  prevTerm: number;
  /** For committed entries: an upper bound on the term of the leader that committed it. */
  commitTerm?: number;
}

interface Proposal {
  id: number;
  nodeId: NodeId;
  incarnation: number;
  index: number;
  term: number;
  acked: boolean;
}

export interface PendingRead {
  context: number;
  /** Highest index known committed when the read was invoked. */
  minIndex: number;
  lease: boolean;
}

/** Payloads the workload proposes: magic + a proposal id, optionally padded. */
export const payloadMagic = 0x53494d31; // "SIM1"

export function encodePayload(id: number, padBytes = 0): Uint8Array {
  const bytes = new Uint8Array(8 + padBytes);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, payloadMagic);
  view.setUint32(4, id);
  return bytes;
}

export function decodePayload(data: Uint8Array): number | undefined {
  if (data.length < 8) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint32(0) !== payloadMagic) return undefined;
  return view.getUint32(4);
}

export interface CheckerContext {
  seed: number;
  event(): number;
  dump(): string;
  replay(): string;
}

export class Checker {
  /** term → the leader of that term. */
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** term → voter → the candidate it voted for (every durable vote ever, across restarts). */
  private readonly votes = new Map<number, Map<NodeId, NodeId>>();
  /** index → records of (term → entry) seen in any durable log. */
  private readonly entriesByIndex = new Map<number, EntryRecord[]>();
  /** index → the committed entry's term, type and data. */
  private readonly committed: (EntryRecord | undefined)[] = [];
  /** index → the state machine hash after applying it (from the first node that did). */
  private readonly hashAt: number[] = [];
  private readonly proposals = new Map<number, Proposal>();
  /** index → (term → the proposal id a leader assigned there). */
  private readonly proposalAt = new Map<number, Map<number, number>>();
  /** proposal id → index it was applied at. */
  private readonly appliedAt = new Map<number, number>();
  maxCommittedIndex = 0;
  elections = 0;
  readsChecked = 0;
  proposalsAcked = 0;

  constructor(private readonly ctx: CheckerContext) {}

  fail(invariant: string, detail: string): never {
    throw new SimViolation(invariant, detail, this.ctx.seed, this.ctx.event(), this.ctx.dump(), this.ctx.replay());
  }

  // --- Ready processing hooks, in the order the cluster calls them -------------------------------

  /** Before persisting `entries`: a leader that stays leader in its term only appends. */
  checkLeaderAppendOnly(node: CheckedNode, wasLeaderInTerm: boolean, entries: readonly Entry[], snapshot: Snapshot | null): void {
    if (!wasLeaderInTerm) return;
    if (snapshot !== null) this.fail('leader append-only', `leader ${node.id} (term ${node.term}) installs a snapshot at ${snapshot.meta.lastIncludedIndex}`);
    if (entries.length > 0 && entries[0]!.index !== node.durable.lastIndex() + 1) {
      this.fail(
        'leader append-only',
        `leader ${node.id} (term ${node.term}) writes entries from ${entries[0]!.index} over its log ending at ${node.durable.lastIndex()}`,
      );
    }
  }

  /** After persisting entries: every entry is consistent with every other log's (log matching). */
  onEntriesPersisted(node: CheckedNode, entries: readonly Entry[]): void {
    for (const e of entries) {
      const prevTerm = node.durable.termAt(e.index - 1);
      if (prevTerm === undefined) this.fail('log matching', `${node.id} persisted ${e.index} with no entry before it`);
      if (prevTerm > e.term) this.fail('log matching', `${node.id}: entry ${e.index} has term ${e.term} below its predecessor's ${prevTerm}`);
      this.recordEntry(node.id, e, prevTerm);
    }
  }

  private recordEntry(nodeId: NodeId, e: Entry, prevTerm: number): void {
    let records = this.entriesByIndex.get(e.index);
    if (records === undefined) {
      records = [];
      this.entriesByIndex.set(e.index, records);
    }
    for (const r of records) {
      if (r.term !== e.term) continue;
      if (r.type !== e.type || !bytesEqual(r.data, e.data)) {
        this.fail('log matching', `${nodeId} holds a different entry at (${e.index}, term ${e.term}) than another log: ${describeEntry(e)} vs ${describeRecord(r)}`);
      }
      if (r.prevTerm !== prevTerm) {
        this.fail('log matching', `${nodeId}: entry (${e.index}, term ${e.term}) follows term ${prevTerm} here but term ${r.prevTerm} in another log`);
      }
      return;
    }
    records.push({ term: e.term, type: e.type, data: e.data, prevTerm });
  }

  /** A new hard state is about to be persisted over `previous`. */
  onHardState(node: CheckedNode, previous: HardState, next: HardState): void {
    if (next.term < previous.term) this.fail('durable term', `${node.id}: term goes back from ${previous.term} to ${next.term}`);
    if (next.term === previous.term && previous.vote !== null && next.vote !== previous.vote) {
      this.fail('one vote per term', `${node.id} changes its vote in term ${next.term} from ${previous.vote} to ${next.vote}`);
    }
    if (next.commit < previous.commit) this.fail('durable commit', `${node.id}: commit goes back from ${previous.commit} to ${next.commit}`);
    if (next.vote !== null) this.recordVote(node.id, next.term, next.vote);
  }

  /** A vote, once made durable, is the node's only vote in that term, even across restarts. */
  private recordVote(voter: NodeId, term: number, candidate: NodeId): void {
    let byVoter = this.votes.get(term);
    if (byVoter === undefined) {
      byVoter = new Map();
      this.votes.set(term, byVoter);
    }
    const earlier = byVoter.get(voter);
    if (earlier !== undefined && earlier !== candidate) {
      this.fail('one vote per term', `${voter} voted for ${earlier} and then for ${candidate} in term ${term} (a vote forgotten across a restart?)`);
    }
    byVoter.set(voter, candidate);
  }

  /**
   * A leader that stays leader in its term moves its commit index only to an entry of its own term
   * (§5.4.2, Figure 8): counting replicas of an older term's entry is not enough.
   */
  checkLeaderCommitRule(node: CheckedNode, wasLeaderInTerm: boolean, previousCommit: number): void {
    const commit = node.durable.hardState.commit;
    if (!wasLeaderInTerm || node.role !== 'leader' || commit <= previousCommit) return;
    const term = node.durable.termAt(commit);
    if (term !== node.term) {
      this.fail('leader commits only its own term (Figure 8)', `leader ${node.id} of term ${node.term} moved its commit from ${previousCommit} to ${commit}, an entry of term ${term}`);
    }
  }

  /** After the whole Ready is persisted: record what this node's commit index makes committed. */
  onCommitPersisted(node: CheckedNode): void {
    const d = node.durable;
    const commit = d.hardState.commit;
    if (commit > d.lastIndex()) this.fail('commit within log', `${node.id}: commit ${commit} is past its last index ${d.lastIndex()}`);
    if (commit <= node.commitRecorded) return;
    const from = Math.max(node.commitRecorded + 1, d.snapshotIndex() + 1);
    if (d.snapshotIndex() >= node.commitRecorded + 1 && d.snapshotIndex() <= commit) {
      this.checkCommittedTerm(node.id, d.snapshotIndex(), d.snapshotTerm());
    }
    for (let i = from; i <= commit; i++) {
      const e = d.entryAt(i)!;
      this.recordCommitted(node.id, e, node.term);
    }
    node.commitRecorded = commit;
  }

  private checkCommittedTerm(nodeId: NodeId, index: number, term: number): void {
    if (index === 0) return;
    const c = this.committed[index];
    if (c !== undefined && c.term !== term) {
      this.fail('state machine safety', `${nodeId}: snapshot at ${index} has term ${term} but the entry committed there has term ${c.term}`);
    }
  }

  /**
   * Records `e` as committed, seen by a node in `observerTerm`. The leader that committed it had a
   * term no higher than that, so `commitTerm` (the lowest observer term) bounds the commit's term
   * from above: leaders of later terms must hold the entry (leader completeness). A leader of an
   * earlier term elected late (its vote answers were delayed) need not.
   */
  private recordCommitted(nodeId: NodeId, e: Entry, observerTerm: number): void {
    const c = this.committed[e.index];
    if (c === undefined) {
      this.committed[e.index] = { term: e.term, type: e.type, data: e.data, prevTerm: 0, commitTerm: observerTerm };
      if (e.index > this.maxCommittedIndex) this.maxCommittedIndex = e.index;
      return;
    }
    if (observerTerm < c.commitTerm!) c.commitTerm = observerTerm;
    if (c.term !== e.term || c.type !== e.type || !bytesEqual(c.data, e.data)) {
      this.fail('state machine safety', `${nodeId} commits ${describeEntry(e)} at ${e.index} where ${describeRecord(c)} was committed`);
    }
  }

  /** The node became leader of `term` (after persisting the Ready that made it so). */
  onBecomeLeader(node: CheckedNode, term: number, voters?: readonly string[]): void {
    this.elections++;
    if (voters !== undefined && !voters.includes(node.id)) {
      this.fail('only voters lead', `${node.id} became leader of term ${term} but its configuration's voters are ${voters.join(',')}`);
    }
    if (voters !== undefined) {
      // Elected by a quorum of its own configuration's voters, each with a durable vote for it.
      const byVoter = this.votes.get(term);
      const granted = voters.filter((v) => byVoter?.get(v) === node.id);
      const quorum = Math.floor(voters.length / 2) + 1;
      if (granted.length < quorum) {
        this.fail(
          'elected by a quorum',
          `${node.id} became leader of term ${term} with durable votes from [${granted.join(',')}] of voters [${voters.join(',')}] (quorum ${quorum})`,
        );
      }
    }
    const other = this.leaderOfTerm.get(term);
    if (other !== undefined && other !== node.id) this.fail('election safety', `${node.id} and ${other} are both leaders of term ${term}`);
    this.leaderOfTerm.set(term, node.id);
    // Leader completeness: every entry known committed in an earlier term is in the new leader's log.
    const d = node.durable;
    const snapshotIndex = d.snapshotIndex();
    if (this.maxCommittedIndex > 0 && snapshotIndex > 0) this.checkCommittedTerm(node.id, snapshotIndex, d.snapshotTerm());
    for (let i = snapshotIndex + 1; i <= this.maxCommittedIndex; i++) {
      const c = this.committed[i];
      if (c === undefined || c.commitTerm! >= term) continue;
      const held = d.termAt(i);
      if (held !== c.term) {
        this.fail(
          'leader completeness',
          `new leader ${node.id} (term ${term}) has ${held === undefined ? 'no entry' : `term ${held}`} at ${i} where an entry of term ${c.term} was committed by term ${c.commitTerm} or earlier`,
        );
      }
    }
  }

  /** Before installing a snapshot from the leader into the state machine. */
  onSnapshotInstall(node: CheckedNode, snapshot: Snapshot, appliedIndex: number): void {
    const index = snapshot.meta.lastIncludedIndex;
    if (index <= appliedIndex) this.fail('snapshot', `${node.id} is told to install a snapshot at ${index} but has applied ${appliedIndex}`);
    this.checkCommittedTerm(node.id, index, snapshot.meta.lastIncludedTerm);
  }

  /** After installing a snapshot: the state equals what every node had at that index. */
  onSnapshotInstalled(node: CheckedNode, index: number, hash: number): void {
    this.recordHash(node.id, index, hash);
  }

  private recordHash(nodeId: NodeId, index: number, hash: number): void {
    const h = this.hashAt[index];
    if (h === undefined) this.hashAt[index] = hash;
    else if (h !== hash) this.fail('state machine safety', `${nodeId}'s state after index ${index} differs from another node's (hash ${hash.toString(16)} vs ${h.toString(16)})`);
  }

  /** Before applying `e` on a node whose state machine has applied `appliedIndex`. */
  /**
   * Before applying `e`. `coreCommit`: with asynchronous storage writes the commit index that lets
   * it apply is the core's, not yet the durable one; the entry itself must then be durable here.
   */
  onApply(node: CheckedNode, e: Entry, appliedIndex: number, coreCommit?: number): void {
    if (e.index !== appliedIndex + 1) {
      this.fail('apply order', `${node.id} is given entry ${e.index} to apply after applying ${appliedIndex} (entries come out once, in order)`);
    }
    if (coreCommit === undefined && e.index > node.durable.hardState.commit) {
      this.fail('apply only committed', `${node.id} applies ${e.index} but its durable commit is ${node.durable.hardState.commit}`);
    }
    if (coreCommit !== undefined && e.index > coreCommit) {
      this.fail('apply only committed', `${node.id} applies ${e.index} but its commit index is ${coreCommit}`);
    }
    if (coreCommit !== undefined && node.durable.termAt(e.index) !== e.term) {
      this.fail('apply only durable', `${node.id} applies (${e.index}, term ${e.term}) while its durable log has ${String(node.durable.termAt(e.index))} there`);
    }
    this.recordCommitted(node.id, e, node.term);
    if (e.type !== 'normal' || e.data.length === 0) return;
    const id = decodePayload(e.data);
    if (id === undefined) this.fail('applied was proposed', `${node.id} applies ${describeEntry(e)} that no client proposed`);
    const proposal = this.proposals.get(id);
    if (proposal === undefined) this.fail('applied was proposed', `${node.id} applies proposal #${id} at ${e.index}, never proposed`);
    const at = this.appliedAt.get(id);
    if (at === undefined) this.appliedAt.set(id, e.index);
    else if (at !== e.index) this.fail('applied once', `proposal #${id} is applied at ${at} and at ${e.index}`);
  }

  /** After applying `e`: record the state and acknowledge the proposer's write. */
  afterApply(node: CheckedNode, e: Entry, hash: number): void {
    this.recordHash(node.id, e.index, hash);
    const byTerm = this.proposalAt.get(e.index);
    const expected = byTerm?.get(e.term);
    if (expected !== undefined) {
      const id = e.type === 'normal' ? decodePayload(e.data) : undefined;
      if (id !== expected) this.fail('applied matches proposed', `entry (${e.index}, term ${e.term}) should be proposal #${expected}, is ${describeEntry(e)}`);
      const p = this.proposals.get(expected)!;
      if (!p.acked && p.nodeId === node.id && p.incarnation === node.incarnation) {
        p.acked = true;
        this.proposalsAcked++;
      }
    }
  }

  // --- client operations ---------------------------------------------------------------------------

  onPropose(node: CheckedNode, id: number, index: number): void {
    if (this.proposals.has(id)) this.fail('workload', `proposal id ${id} reused`);
    const term = node.term;
    this.proposals.set(id, { id, nodeId: node.id, incarnation: node.incarnation, index, term, acked: false });
    let byTerm = this.proposalAt.get(index);
    if (byTerm === undefined) {
      byTerm = new Map();
      this.proposalAt.set(index, byTerm);
    }
    if (byTerm.has(term)) this.fail('leader append-only', `${node.id} assigned index ${index} twice in term ${term}`);
    byTerm.set(term, id);
  }

  newRead(context: number, lease: boolean): PendingRead {
    return { context, minIndex: this.maxCommittedIndex, lease };
  }

  /** A ReadState released on a node whose state machine has applied `appliedIndex` ≥ rs.index. */
  onReadReleased(node: CheckedNode, rs: ReadState, pending: PendingRead | undefined, appliedIndex: number, hash: number): void {
    if (pending === undefined) this.fail('read', `${node.id} released a ReadState for context ${rs.context} it was never asked for (or already answered)`);
    if (rs.index < pending.minIndex) {
      this.fail(
        pending.lease ? 'lease read not stale' : 'ReadIndex read not stale',
        `${node.id} served read ${rs.context} at index ${rs.index}, but ${pending.minIndex} was committed before the read was invoked`,
      );
    }
    if (appliedIndex < rs.index) this.fail('read', `released read at ${rs.index} before applying it (applied ${appliedIndex})`);
    this.recordHash(node.id, appliedIndex, hash);
    this.readsChecked++;
  }

  /** Every acknowledged proposal is in the committed log (used at the end of a run). */
  checkAcknowledgedDurable(): void {
    for (const p of this.proposals.values()) {
      if (!p.acked) continue;
      const c = this.committed[p.index];
      if (c === undefined || decodePayload(c.data) !== p.id) {
        this.fail('acknowledged writes survive', `proposal #${p.id} was acknowledged at ${p.index} but the committed log has ${c ? describeRecord(c) : 'nothing'} there`);
      }
    }
  }

  isAcked(proposalId: number): boolean {
    return this.proposals.get(proposalId)?.acked ?? false;
  }

  proposalCount(): number {
    return this.proposals.size;
  }

  leaderOf(term: number): NodeId | undefined {
    return this.leaderOfTerm.get(term);
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function describeEntry(e: Entry): string {
  return describeRecord(e);
}

function describeRecord(e: { term: number; type: Entry['type']; data: Uint8Array }): string {
  if (e.type === 'confChange') return `confChange(term ${e.term}, ${e.data.length} bytes)`;
  if (e.data.length === 0) return `noop(term ${e.term})`;
  const id = decodePayload(e.data);
  return id === undefined ? `data(term ${e.term}, ${e.data.length} bytes)` : `#${id}(term ${e.term})`;
}
