/**
 * Options and named bounds of `UwsNetwork`. Every size a peer can influence has a bound here.
 * @module
 */
import { InvalidConfigError } from '../../core/errors.js';
import type { NodeAddresses } from '../addresses.js';

/** TLS for the server (uWS `SSLApp`) and for dialing peers (`wss://`). */
export interface UwsTlsOptions {
  /** PEM private key file of this node. */
  keyFile: string;
  /** PEM certificate file of this node. */
  certFile: string;
  /** Passphrase of the key, if it has one. */
  passphrase?: string;
  /** PEM CA file that signed the peers' certificates (self-signed clusters: the shared cert). */
  caFile?: string;
  /** Check peers' certificates when dialing. Default true. */
  rejectUnauthorized?: boolean;
}

export interface UwsNetworkOptions {
  /** Port to listen on; 0 picks a free one (read it from `network.port` after start). */
  port: number;
  /** Interface to listen on. Default `'127.0.0.1'`. */
  host?: string;
  /** Where the peers listen (`'http://10.0.0.2:3002'`, `'host:port'` or `{ host, port }`). */
  nodeAddresses?: NodeAddresses;
  /** Per-request timeout, ms. Default 5000. */
  timeout?: number;
  /** Shared cluster secret. When set, peers must prove they hold it at upgrade or are refused. */
  clusterSecret?: string;
  tls?: UwsTlsOptions;
  /** Largest WebSocket message accepted, bytes (one frame or one coalesced batch). Default 16 MiB. */
  payloadBytesMax?: number;
  /** Seconds without traffic before the server closes a connection (uWS pings first). Default 60. */
  idleTimeoutSeconds?: number;
  /** A coalesced batch stops growing at this many bytes. Default 256 KiB. */
  batchBytesMax?: number;
  /** A coalesced batch stops growing at this many frames. Default 512. */
  batchMessagesMax?: number;
  /** Bound on queued (unsent) messages per peer; past it sends fail with `TRANSPORT_ERR_QUEUE_FULL`. Default 16384. */
  queueMessagesMax?: number;
  /** Bound on queued (unsent) bytes per peer. Default 64 MiB. */
  queueBytesMax?: number;
  /** Bound on requests awaiting an answer per peer. Default 65536. */
  inflightMax?: number;
  /** Stop handing batches to a socket whose buffered amount is above this, bytes. Default 4 MiB. */
  backpressureBytesMax?: number;
  /** First reconnect delay, ms; doubles up to `reconnectDelayMaxMs`, with jitter. Default 50. */
  reconnectDelayMs?: number;
  /** Cap on the reconnect delay, ms. Default 2000. */
  reconnectDelayMaxMs?: number;
}

export interface ResolvedUwsOptions {
  port: number;
  host: string;
  timeoutMs: number;
  clusterSecret: string | undefined;
  tls: UwsTlsOptions | undefined;
  payloadBytesMax: number;
  idleTimeoutSeconds: number;
  batchBytesMax: number;
  batchMessagesMax: number;
  queueMessagesMax: number;
  queueBytesMax: number;
  inflightMax: number;
  backpressureBytesMax: number;
  reconnectDelayMs: number;
  reconnectDelayMaxMs: number;
}

function positiveInteger(name: string, value: number, min = 1): number {
  if (!Number.isSafeInteger(value) || value < min) throw new InvalidConfigError(`${name} must be an integer >= ${min} (got ${value})`);
  return value;
}

/** Fills defaults and checks how the bounds relate. */
export function resolveUwsOptions(options: UwsNetworkOptions): ResolvedUwsOptions {
  const resolved: ResolvedUwsOptions = {
    port: options.port,
    host: options.host ?? '127.0.0.1',
    timeoutMs: options.timeout ?? 5000,
    clusterSecret: options.clusterSecret,
    tls: options.tls,
    payloadBytesMax: positiveInteger('payloadBytesMax', options.payloadBytesMax ?? 16 * 1024 * 1024, 1024),
    idleTimeoutSeconds: positiveInteger('idleTimeoutSeconds', options.idleTimeoutSeconds ?? 60, 0),
    batchBytesMax: positiveInteger('batchBytesMax', options.batchBytesMax ?? 256 * 1024),
    batchMessagesMax: positiveInteger('batchMessagesMax', options.batchMessagesMax ?? 512),
    queueMessagesMax: positiveInteger('queueMessagesMax', options.queueMessagesMax ?? 16_384),
    queueBytesMax: positiveInteger('queueBytesMax', options.queueBytesMax ?? 64 * 1024 * 1024),
    inflightMax: positiveInteger('inflightMax', options.inflightMax ?? 65_536),
    backpressureBytesMax: positiveInteger('backpressureBytesMax', options.backpressureBytesMax ?? 4 * 1024 * 1024),
    reconnectDelayMs: positiveInteger('reconnectDelayMs', options.reconnectDelayMs ?? 50),
    reconnectDelayMaxMs: positiveInteger('reconnectDelayMaxMs', options.reconnectDelayMaxMs ?? 2000),
  };
  if (!Number.isInteger(resolved.port) || resolved.port < 0 || resolved.port > 65535) throw new InvalidConfigError(`port must be in [0, 65535] (got ${resolved.port})`);
  if (!(resolved.timeoutMs > 0)) throw new InvalidConfigError(`timeout must be > 0 ms (got ${resolved.timeoutMs})`);
  if (resolved.batchBytesMax > resolved.payloadBytesMax) {
    throw new InvalidConfigError(`batchBytesMax (${resolved.batchBytesMax}) must not exceed payloadBytesMax (${resolved.payloadBytesMax}): a batch is one WebSocket message`);
  }
  if (resolved.reconnectDelayMs > resolved.reconnectDelayMaxMs) {
    throw new InvalidConfigError(`reconnectDelayMs (${resolved.reconnectDelayMs}) must not exceed reconnectDelayMaxMs (${resolved.reconnectDelayMaxMs})`);
  }
  if (resolved.clusterSecret !== undefined && resolved.clusterSecret.length < 16) {
    throw new InvalidConfigError('clusterSecret must be at least 16 characters');
  }
  return resolved;
}
