/**
 * The transport contract: {@link NetworkInterface}, the handlers a node registers, and the RPC
 * parameter types.
 *
 * Parameters are accepted in two shapes, so raftwire is a drop-in for the original HTTP/JSON network
 * layer: the full core message (`{ type, from, to, term, ... }`, what the core's `Ready` carries),
 * or the paper-only body older callers build (`{ term, candidateId, lastLogIndex, lastLogTerm }`).
 * The transport fills `type`, `from` (the candidate or leader), `to` (the target) and the defaults
 * before the request leaves, so handlers and callers always see full core messages.
 *
 * @example
 * ```ts
 * net.registerHandlers({
 *   onRequestVote: (req) => ({ term: req.term, voteGranted: true }),
 *   onAppendEntries: (req) => ({ term: req.term, success: true, lastLogIndex: req.prevLogIndex + req.entries.length }),
 *   onInstallSnapshot: (req) => ({ term: req.term, success: true, bytesReceived: req.offset + req.data.length }),
 * });
 * await net.start();
 * const res = await net.sendRequestVote('n2', { term: 3, candidateId: 'n1', lastLogIndex: 9, lastLogTerm: 2 });
 * res.voteGranted; res.type === 'RequestVoteResponse';
 * ```
 * @module
 */
import type {
  AppendEntriesRequest,
  AppendEntriesResponse,
  ClusterConfig,
  Entry,
  EntryType,
  InstallSnapshotRequest,
  InstallSnapshotResponse,
  NodeId,
  RequestVoteRequest,
  RequestVoteResponse,
  TimeoutNowRequest,
} from '../core/types.js';
import type { PeerAddress } from './addresses.js';

export type {
  AppendEntriesRequest,
  AppendEntriesResponse,
  InstallSnapshotRequest,
  InstallSnapshotResponse,
  NodeId,
  RequestVoteRequest,
  RequestVoteResponse,
  TimeoutNowRequest,
};

/** An entry as older callers build it: `type` defaults to `'normal'`. */
export type EntryParams = Omit<Entry, 'type'> & { type?: EntryType };

/** RequestVote as the paper writes it; the core's extra fields are optional. */
export type RequestVoteParams = Pick<RequestVoteRequest, 'term' | 'candidateId' | 'lastLogIndex' | 'lastLogTerm'> &
  Partial<Omit<RequestVoteRequest, 'term' | 'candidateId' | 'lastLogIndex' | 'lastLogTerm'>>;

/** AppendEntries as the paper writes it; `context` (ReadIndex round) defaults to 0. */
export type AppendEntriesParams = Pick<AppendEntriesRequest, 'term' | 'leaderId' | 'prevLogIndex' | 'prevLogTerm' | 'leaderCommit'> &
  Partial<Omit<AppendEntriesRequest, 'term' | 'leaderId' | 'prevLogIndex' | 'prevLogTerm' | 'leaderCommit' | 'entries'>> & {
    entries: EntryParams[];
  };

/** One InstallSnapshot chunk as the paper writes it; `config` defaults to an empty configuration. */
export type InstallSnapshotParams = Pick<
  InstallSnapshotRequest,
  'term' | 'leaderId' | 'lastIncludedIndex' | 'lastIncludedTerm' | 'offset' | 'data' | 'done'
> &
  Partial<Pick<InstallSnapshotRequest, 'type' | 'from' | 'to' | 'config'>>;

/** TimeoutNow (leadership transfer). */
export type TimeoutNowParams = Pick<TimeoutNowRequest, 'term' | 'leaderId'> & Partial<Pick<TimeoutNowRequest, 'type' | 'from' | 'to'>>;

/** What a RequestVote handler may return: the paper's fields at least. */
export type RequestVoteReply = Pick<RequestVoteResponse, 'term' | 'voteGranted'> & Partial<RequestVoteResponse>;
/** What an AppendEntries handler may return: the paper's fields at least. */
export type AppendEntriesReply = Pick<AppendEntriesResponse, 'term' | 'success'> & Partial<AppendEntriesResponse>;
/** What an InstallSnapshot handler may return: the paper's field at least. */
export type InstallSnapshotReply = Pick<InstallSnapshotResponse, 'term'> & Partial<InstallSnapshotResponse>;

type MaybePromise<T> = T | Promise<T>;

/**
 * What a node answers with. Requests reach handlers as full core messages. A handler that throws
 * or rejects makes the caller's promise reject with `TRANSPORT_ERR_HANDLER`.
 */
export interface RaftRpcHandlers {
  onRequestVote(req: RequestVoteRequest): MaybePromise<RequestVoteReply>;
  onAppendEntries(req: AppendEntriesRequest): MaybePromise<AppendEntriesReply>;
  onInstallSnapshot(req: InstallSnapshotRequest): MaybePromise<InstallSnapshotReply>;
  /** Leadership transfer: start an election now. Optional; without it TimeoutNow fails with `TRANSPORT_ERR_HANDLER`. */
  onTimeoutNow?(req: TimeoutNowRequest): MaybePromise<void>;
}

/**
 * How a Raft node talks to its peers. Every implementation (in-memory, reliable wrapper, HTTP/JSON,
 * uWebSockets.js) passes the same conformance suite (`test/transport/conformance.ts`).
 *
 * Contract: every returned promise settles (answer, error or timeout); `stop()` rejects what is in
 * flight with `TRANSPORT_ERR_STOPPED` and releases the port; errors are {@link TransportError}s.
 */
export interface NetworkInterface {
  sendRequestVote(target: NodeId, req: RequestVoteParams): Promise<RequestVoteResponse>;
  sendAppendEntries(target: NodeId, req: AppendEntriesParams): Promise<AppendEntriesResponse>;
  sendInstallSnapshot(target: NodeId, req: InstallSnapshotParams): Promise<InstallSnapshotResponse>;
  /** Leadership transfer: asks `target` to campaign at once. Resolves when the target accepted it. */
  sendTimeoutNow(target: NodeId, req: TimeoutNowParams): Promise<void>;
  registerHandlers(handlers: RaftRpcHandlers): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A network whose peer addresses can change at run time (membership changes). `HttpNetwork`,
 * `UwsNetwork` and `InMemoryNetwork` (where addresses mean nothing: it accepts and ignores them)
 * implement it; `ReliableNetwork` does when the network it wraps does.
 *
 * @example
 * ```ts
 * if (hasPeerAddressBook(net)) net.setNodeAddress('n4', '10.0.0.4:4004');
 * await net.sendAppendEntries('n4', req); // reaches n4 at its new address
 * if (hasPeerAddressBook(net)) net.removeNodeAddress('n4'); // n4 left: later sends fail with NoAddressError
 * ```
 */
export interface PeerAddressBook {
  /** Adds or changes `nodeId`'s address; later requests (and dials) use it. */
  setNodeAddress(nodeId: NodeId, address: PeerAddress): void;
  /** Forgets `nodeId`: fails its in-flight requests with a transient error, closes its connection. */
  removeNodeAddress(nodeId: NodeId): void;
}

/** True when `n` can change its peer addresses at run time (see {@link PeerAddressBook}). */
export function hasPeerAddressBook(n: NetworkInterface): n is NetworkInterface & PeerAddressBook {
  const candidate = n as Partial<PeerAddressBook>;
  return typeof candidate.setNodeAddress === 'function' && typeof candidate.removeNodeAddress === 'function';
}

const emptyConfig = (): ClusterConfig => ({ voters: [], learners: [] });

/** Fills the core fields of a RequestVote. */
export function toRequestVote(target: NodeId, req: RequestVoteParams): RequestVoteRequest {
  return {
    type: 'RequestVote',
    from: req.from ?? req.candidateId,
    to: target,
    term: req.term,
    candidateId: req.candidateId,
    lastLogIndex: req.lastLogIndex,
    lastLogTerm: req.lastLogTerm,
    preVote: req.preVote ?? false,
    leadershipTransfer: req.leadershipTransfer ?? false,
  };
}

/** Fills the core fields of an AppendEntries (entries keep their payload bytes, not copied). */
export function toAppendEntries(target: NodeId, req: AppendEntriesParams): AppendEntriesRequest {
  const entries = req.entries as Entry[];
  // Entries from older callers may lack `type`; fill it without copying when all already have one.
  let full = true;
  for (let i = 0; i < entries.length; i++) if (entries[i]!.type === undefined) { full = false; break; }
  return {
    type: 'AppendEntries',
    from: req.from ?? req.leaderId,
    to: target,
    term: req.term,
    leaderId: req.leaderId,
    prevLogIndex: req.prevLogIndex,
    prevLogTerm: req.prevLogTerm,
    entries: full ? entries : entries.map((e) => ({ index: e.index, term: e.term, type: e.type ?? 'normal', data: e.data })),
    leaderCommit: req.leaderCommit,
    context: req.context ?? 0,
  };
}

/** Fills the core fields of an InstallSnapshot chunk. */
export function toInstallSnapshot(target: NodeId, req: InstallSnapshotParams): InstallSnapshotRequest {
  return {
    type: 'InstallSnapshot',
    from: req.from ?? req.leaderId,
    to: target,
    term: req.term,
    leaderId: req.leaderId,
    lastIncludedIndex: req.lastIncludedIndex,
    lastIncludedTerm: req.lastIncludedTerm,
    offset: req.offset,
    data: req.data,
    done: req.done,
    config: req.config ?? emptyConfig(),
  };
}

/** Fills the core fields of a TimeoutNow. */
export function toTimeoutNow(target: NodeId, req: TimeoutNowParams): TimeoutNowRequest {
  return { type: 'TimeoutNow', from: req.from ?? req.leaderId, to: target, term: req.term, leaderId: req.leaderId };
}

/** Completes a handler's RequestVote answer to `req` into the core response. */
export function toRequestVoteResponse(req: RequestVoteRequest, reply: RequestVoteReply): RequestVoteResponse {
  return {
    type: 'RequestVoteResponse',
    from: reply.from ?? req.to,
    to: reply.to ?? req.from,
    term: reply.term,
    voteGranted: reply.voteGranted,
    preVote: reply.preVote ?? req.preVote,
  };
}

/** Completes a handler's AppendEntries answer to `req` into the core response. */
export function toAppendEntriesResponse(req: AppendEntriesRequest, reply: AppendEntriesReply): AppendEntriesResponse {
  return {
    type: 'AppendEntriesResponse',
    from: reply.from ?? req.to,
    to: reply.to ?? req.from,
    term: reply.term,
    success: reply.success,
    lastLogIndex: reply.lastLogIndex ?? (reply.success ? req.prevLogIndex + req.entries.length : 0),
    conflictIndex: reply.conflictIndex ?? 0,
    conflictTerm: reply.conflictTerm ?? 0,
    context: reply.context ?? req.context,
  };
}

/** Completes a handler's InstallSnapshot answer to `req` into the core response. */
export function toInstallSnapshotResponse(req: InstallSnapshotRequest, reply: InstallSnapshotReply): InstallSnapshotResponse {
  return {
    type: 'InstallSnapshotResponse',
    from: reply.from ?? req.to,
    to: reply.to ?? req.from,
    term: reply.term,
    lastIncludedIndex: reply.lastIncludedIndex ?? req.lastIncludedIndex,
    bytesReceived: reply.bytesReceived ?? req.offset + req.data.length,
    success: reply.success ?? true,
  };
}

/** Any RPC request, full core shape. */
export type RpcRequest = RequestVoteRequest | AppendEntriesRequest | InstallSnapshotRequest | TimeoutNowRequest;
/** Any RPC response, full core shape; TimeoutNow is answered with `undefined`. */
export type RpcResponse = RequestVoteResponse | AppendEntriesResponse | InstallSnapshotResponse | undefined;
