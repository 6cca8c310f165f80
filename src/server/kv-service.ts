/**
 * The cache as clients see it, independent of the protocol (HTTP or WebSocket): reads at the
 * consistency asked for, writes proposed through Raft, and every failure mapped to a stable code.
 *
 * Consistency: `linearizable` (default) confirms leadership with a quorum (ReadIndex) before
 * reading; `lease` skips that round trip while the leader's lease holds (needs check-quorum);
 * `stale` reads this node's state machine as it is, on any node. Writes and non-stale reads on a
 * follower fail with `RAFT_ERR_NOT_LEADER` carrying the leader's id; the HTTP server turns that into
 * a redirect to the leader.
 *
 * While no leader is known (an election), writes and non-stale reads wait up to `leaderWaitMs`
 * (default 1,000) for one: served here if this node won, `RAFT_ERR_NOT_LEADER` with the winner
 * otherwise, and with no leader id (503) only if none emerged in time. An election takes about
 * one election timeout (150-300 ms by default); failing at once sent every client away to retry
 * after `Retry-After: 1`, longer than the election it was waiting out.
 */
import { type CacheRequest, type CacheResult, CacheStateMachine, encodeCacheCommand, CacheError } from '../cache/index.js';
import { NotLeaderError, isRaftwireError } from '../core/errors.js';
import type { ProposalCallback, RaftNode } from '../node/index.js';

export type Consistency = 'linearizable' | 'lease' | 'stale';
export const CONSISTENCIES: readonly Consistency[] = ['linearizable', 'lease', 'stale'];

export interface WriteSession {
  clientId: string;
  sequence: number;
  /** The client's writes up to this sequence are all answered (see docs/cache.md). */
  ackedThrough?: number;
}

/** Wall clock for TTLs: the leader stamps each write with it (see docs/cache.md). */
export type WallClock = () => number;

/** How long a request waits for an election to end by default: the `Retry-After` it used to get. */
export const LEADER_WAIT_MS_DEFAULT = 1_000;

/** Told once how a read ended: `error` null and the value (undefined when the key is absent), or the error. */
export type GetCallback = (error: Error | null, value?: Uint8Array) => void;

const LEASE = Object.freeze({ lease: true });
const NO_LEASE = Object.freeze({ lease: false });

/** A write outside any client session (no exactly-once bookkeeping). */
const NO_SESSION: WriteSession = Object.freeze({ clientId: '', sequence: 0 });

export class KvService {
  constructor(
    readonly node: RaftNode<CacheResult>,
    readonly cache: CacheStateMachine,
    private readonly wallClock: WallClock = Date.now,
    private readonly leaderWaitMs: number = LEADER_WAIT_MS_DEFAULT,
  ) {}

  /** Reads `key`; undefined when absent. Throws NotLeaderError on a follower unless `stale`. */
  get(key: string, consistency: Consistency = 'linearizable'): Promise<Uint8Array | undefined> {
    // The servers' hot paths call getThen; this is the same path behind a promise.
    return new Promise((resolve, reject) => this.getThen(key, consistency, (error, value) => (error === null ? resolve(value) : reject(error))));
  }

  /**
   * {@link get} telling `done` once, with the error or the value (undefined when absent), instead of
   * returning a promise: no promise per read (RaftNode.readIndex with a callback). A stale read, a
   * lease read that needs no wait, and a read the leader refuses at once (stopped, too many reads
   * waiting) are told before this returns; on a follower the answer comes after the leader wait.
   * Never throws.
   *
   * @example
   * ```ts
   * kv.getThen('greeting', 'linearizable', (error, value) => (error ? fail(error) : answer(value)));
   * ```
   */
  getThen(key: string, consistency: Consistency, done: GetCallback): void {
    if (consistency === 'stale') done(null, this.cache.get(key, this.wallClock()));
    else if (this.node.isLeader()) this.readThen(key, consistency, done);
    else this.leaderOrThrow().then(() => this.readThen(key, consistency, done), done);
  }

  private readThen(key: string, consistency: Consistency, done: GetCallback): void {
    try {
      this.node.readIndex(consistency === 'lease' ? LEASE : NO_LEASE, (error) => (error === null ? done(null, this.cache.get(key, this.wallClock())) : done(error)));
    } catch (error) {
      done(error as Error);
    }
  }

  /** Proposes a write; resolves with the state machine's result once applied on this node. */
  write(request: CacheRequest, session: WriteSession = NO_SESSION): Promise<CacheResult> {
    // The servers' hot paths call writeThen; this is the same path behind a promise.
    return new Promise((resolve, reject) => this.writeThen(request, session, (error, result) => (error === null ? resolve(result!) : reject(error))));
  }

  /**
   * {@link write} telling `done` once, with the error or the result, instead of returning a
   * promise: no promise per write (RaftNode.propose with a callback), for servers answering many
   * writes per turn. Never throws.
   */
  writeThen(request: CacheRequest, session: WriteSession | undefined, done: ProposalCallback<CacheResult>): void {
    session ??= NO_SESSION;
    if (this.node.isLeader()) this.proposeThen(request, session, done);
    else this.leaderOrThrow().then(() => this.proposeThen(request, session, done), done);
  }

  private proposeThen(request: CacheRequest, session: WriteSession, done: ProposalCallback<CacheResult>): void {
    try {
      this.node.propose(this.command(request, session), done);
    } catch (error) {
      done(error as Error);
    }
  }

  private command(request: CacheRequest, session: WriteSession): Uint8Array {
    return encodeCacheCommand(request, { nowMs: this.wallClock(), clientId: session.clientId, sequence: session.sequence, ackedThrough: session.ackedThrough });
  }

  /** On a node that does not lead: waits out an election if there is no leader, then throws NotLeaderError unless this node won it. */
  private async leaderOrThrow(): Promise<void> {
    if (this.node.getLeader() === null && this.leaderWaitMs > 0) await this.node.awaitLeader(this.leaderWaitMs);
    if (!this.node.isLeader()) throw new NotLeaderError(this.node.getLeader());
  }
}

/** The HTTP status for an error from the service. */
export function statusOf(error: unknown): number {
  if (error instanceof CacheError) {
    switch (error.code) {
      case 'CACHE_ERR_KEY_TOO_LARGE':
      case 'CACHE_ERR_VALUE_TOO_LARGE':
        return 413;
      default:
        return 400;
    }
  }
  if (!isRaftwireError(error)) return 500;
  switch (error.code) {
    case 'RAFT_ERR_NOT_LEADER':
    case 'RAFT_ERR_PROPOSAL_DROPPED':
    case 'RAFT_ERR_NODE_STOPPED':
    case 'RAFT_ERR_NODE_FATAL':
      return 503;
    case 'RAFT_ERR_INVALID_CONFIG':
      return 400;
    case 'RAFT_ERR_CONF_CHANGE_REJECTED':
      return 409;
    case 'RAFT_ERR_MEMBERSHIP_TIMEOUT':
      return 504;
    case 'STORAGE_ERR_FULL':
      return 507;
    default:
      return 500;
  }
}

/** The HTTP status for an unsuccessful cache result. */
export function statusOfResult(result: CacheResult): number {
  switch (result.code) {
    case 'CACHE_ERR_CAS_MISMATCH':
    case 'CACHE_ERR_NOT_A_NUMBER':
    case 'CACHE_ERR_STALE_SEQUENCE':
      return 409;
    default:
      return 400;
  }
}
