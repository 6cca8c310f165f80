/**
 * The receiving side shared by every transport: route a full request to the registered handler and
 * complete its answer into the core response type.
 * @module
 */
import { assertNever } from '../core/errors.js';
import { TransportError } from './errors.js';
import {
  toAppendEntriesResponse,
  toInstallSnapshotResponse,
  toRequestVoteResponse,
  type RaftRpcHandlers,
  type RpcRequest,
  type RpcResponse,
} from './types.js';

/** Raised on the receiving node when no handler is registered for a request; the sender sees `TRANSPORT_ERR_HANDLER`. */
export class NoHandlerError extends TransportError {
  constructor(nodeId: string, what: string) {
    super('TRANSPORT_ERR_NO_HANDLER', `node ${nodeId} has no handler for ${what}`, false);
  }
}

/**
 * Calls the handler for `req` and completes its answer. Rejects with what the handler threw, or
 * {@link NoHandlerError}; the transport turns either into the sender's `TRANSPORT_ERR_HANDLER`.
 */
export async function dispatchRequest(nodeId: string, handlers: RaftRpcHandlers | undefined, req: RpcRequest): Promise<RpcResponse> {
  if (handlers === undefined) throw new NoHandlerError(nodeId, req.type);
  switch (req.type) {
    case 'RequestVote':
      return toRequestVoteResponse(req, await handlers.onRequestVote(req));
    case 'AppendEntries':
      return toAppendEntriesResponse(req, await handlers.onAppendEntries(req));
    case 'InstallSnapshot':
      return toInstallSnapshotResponse(req, await handlers.onInstallSnapshot(req));
    case 'TimeoutNow':
      if (handlers.onTimeoutNow === undefined) throw new NoHandlerError(nodeId, req.type);
      await handlers.onTimeoutNow(req);
      return undefined;
    default:
      return assertNever(req, 'request type');
  }
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * Like {@link dispatchRequest}, but answers synchronously when the handler does (no promise, no
 * microtask hop: the hot path of a transport that batches answers per turn). Throws what a
 * synchronous handler throws; returns a promise only when the handler returned one.
 */
export function dispatchRequestFast(nodeId: string, handlers: RaftRpcHandlers | undefined, req: RpcRequest): RpcResponse | Promise<RpcResponse> {
  if (handlers === undefined) throw new NoHandlerError(nodeId, req.type);
  switch (req.type) {
    case 'RequestVote': {
      const reply = handlers.onRequestVote(req);
      return isThenable(reply) ? Promise.resolve(reply).then((r) => toRequestVoteResponse(req, r)) : toRequestVoteResponse(req, reply);
    }
    case 'AppendEntries': {
      const reply = handlers.onAppendEntries(req);
      return isThenable(reply) ? Promise.resolve(reply).then((r) => toAppendEntriesResponse(req, r)) : toAppendEntriesResponse(req, reply);
    }
    case 'InstallSnapshot': {
      const reply = handlers.onInstallSnapshot(req);
      return isThenable(reply) ? Promise.resolve(reply).then((r) => toInstallSnapshotResponse(req, r)) : toInstallSnapshotResponse(req, reply);
    }
    case 'TimeoutNow': {
      if (handlers.onTimeoutNow === undefined) throw new NoHandlerError(nodeId, req.type);
      const done = handlers.onTimeoutNow(req);
      return isThenable(done) ? Promise.resolve(done).then(() => undefined) : undefined;
    }
    default:
      return assertNever(req, 'request type');
  }
}

/** The code of a thrown value, if it has a string one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The message of a thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
