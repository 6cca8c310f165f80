/**
 * Transport errors. Every one has a stable `code` and a `transient` flag: `transient` says whether
 * sending the same request again may succeed (a timeout, a lost connection, a full queue), so
 * {@link ReliableNetwork} decides what to retry without matching on messages.
 *
 * The messages keep the wording users of the original HTTP/JSON network layer grep for:
 * "No address configured for node X", "Target node X not available",
 * "Network partition between X and Y", "Node X is failed".
 *
 * @example
 * ```ts
 * try { await net.sendAppendEntries('n2', req) } catch (e) {
 *   if (isTransportError(e) && e.transient) scheduleRetry()
 * }
 * ```
 * @module
 */
import { RaftwireError, isRaftwireError } from '../core/errors.js';
import type { NodeId } from '../core/types.js';

/** Root of every transport error. */
export class TransportError extends RaftwireError {
  /** True when the same request may succeed if sent again. */
  readonly transient: boolean;

  constructor(code: string, message: string, transient: boolean, options?: { cause?: unknown }) {
    super(code, message, options);
    this.transient = transient;
  }
}

/** True for a {@link TransportError} (by brand and shape, so it works across package copies). */
export function isTransportError(value: unknown): value is TransportError {
  return isRaftwireError(value) && typeof (value as TransportError).transient === 'boolean' && (value as TransportError).code.startsWith('TRANSPORT_ERR_');
}

/** True when `error` is a transport error worth retrying. Anything else (bugs, handler errors) is not. */
export function isTransientError(error: unknown): boolean {
  return isTransportError(error) && error.transient;
}

/** The target has no address in `nodeAddresses`. Permanent: retrying cannot help. */
export class NoAddressError extends TransportError {
  readonly nodeId: NodeId;
  constructor(nodeId: NodeId) {
    super('TRANSPORT_ERR_NO_ADDRESS', `No address configured for node ${nodeId}`, false);
    this.nodeId = nodeId;
  }
}

/**
 * The target cannot be reached now. From `InMemoryNetwork` (not registered, or stopped) it is
 * permanent for this call; from `UwsNetwork` (no connection to a peer that dials us) it is
 * transient: the peer may connect a moment later.
 */
export class TargetUnavailableError extends TransportError {
  readonly nodeId: NodeId;
  constructor(nodeId: NodeId, transient = false) {
    super('TRANSPORT_ERR_TARGET_UNAVAILABLE', `Target node ${nodeId} not available`, transient);
    this.nodeId = nodeId;
  }
}

/** A (simulated) partition separates the two nodes. Transient: partitions heal. */
export class PartitionError extends TransportError {
  readonly from: NodeId;
  readonly to: NodeId;
  constructor(from: NodeId, to: NodeId) {
    super('TRANSPORT_ERR_PARTITION', `Network partition between ${from} and ${to}`, true);
    this.from = from;
    this.to = to;
  }
}

/** A (simulated) node crash. Transient: failed nodes recover. */
export class NodeFailedError extends TransportError {
  readonly nodeId: NodeId;
  constructor(nodeId: NodeId) {
    super('TRANSPORT_ERR_NODE_FAILED', `Node ${nodeId} is failed`, true);
    this.nodeId = nodeId;
  }
}

/** No answer within the per-request (or per-attempt) timeout. */
export class NetworkTimeoutError extends TransportError {
  readonly timeoutMs: number;
  constructor(target: NodeId, timeoutMs: number, what = 'request') {
    super('TRANSPORT_ERR_TIMEOUT', `${what} to node ${target} timed out after ${timeoutMs} ms`, true);
    this.timeoutMs = timeoutMs;
  }
}

/** Every attempt failed; `lastError` is the failure of the last one. */
export class NetworkRetryExhaustedError extends TransportError {
  readonly lastError: unknown;
  readonly attempts: number;
  constructor(target: NodeId, attempts: number, lastError: unknown) {
    const last = lastError instanceof Error ? lastError.message : String(lastError);
    super('TRANSPORT_ERR_RETRY_EXHAUSTED', `request to node ${target} failed after ${attempts} attempts: ${last}`, false, { cause: lastError });
    this.lastError = lastError;
    this.attempts = attempts;
  }
}

/** The per-peer send queue is at its bound: the peer or the link is slower than the sender. */
export class QueueFullError extends TransportError {
  constructor(target: NodeId, bound: string, limit: number) {
    super('TRANSPORT_ERR_QUEUE_FULL', `send queue to node ${target} is full (${bound} = ${limit})`, true);
  }
}

/** The connection (or the attempt to make one) failed; requests in flight on it fail with this. */
export class ConnectionLostError extends TransportError {
  constructor(target: NodeId, reason: string, options?: { cause?: unknown }) {
    super('TRANSPORT_ERR_CONNECTION_LOST', `connection to node ${target} lost: ${reason}`, true, options);
  }
}

/** The network was stopped (or not started): nothing more is sent or answered. */
export class NetworkStoppedError extends TransportError {
  constructor(nodeId: NodeId, what = 'network') {
    super('TRANSPORT_ERR_STOPPED', `${what} of node ${nodeId} is stopped`, false);
  }
}

/** The remote handler threw or rejected (or no handler is registered there). Permanent for this request. */
export class RemoteHandlerError extends TransportError {
  /** The remote error's code when it had one, else undefined. */
  readonly remoteCode: string | undefined;
  constructor(target: NodeId, message: string, remoteCode?: string) {
    super('TRANSPORT_ERR_HANDLER', `handler on node ${target} failed: ${message}`, false);
    this.remoteCode = remoteCode;
  }
}

/** A peer sent something we cannot parse, or a request broke a named bound. */
export class ProtocolError extends TransportError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TRANSPORT_ERR_PROTOCOL', message, false, options);
  }
}
