/**
 * Peer addresses as users configure them: `'http://127.0.0.1:3002'`, `'127.0.0.1:3002'` or
 * `{ host, port }`, in a plain object or a Map keyed by node id.
 * @module
 */
import { InvalidConfigError } from '../core/errors.js';
import type { NodeId } from '../core/types.js';

export type PeerAddress = string | { host: string; port: number };
export type NodeAddresses = Record<NodeId, PeerAddress> | Map<NodeId, PeerAddress>;

export interface ResolvedAddress {
  host: string;
  port: number;
}

/** Parses one address; throws {@link InvalidConfigError} saying which node's address is wrong. */
export function resolveAddress(nodeId: NodeId, address: PeerAddress): ResolvedAddress {
  if (typeof address === 'object') {
    checkPort(nodeId, address.port);
    return { host: address.host, port: address.port };
  }
  const withScheme = /^[a-z]+:\/\//i.test(address) ? address : `http://${address}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new InvalidConfigError(`address of node ${nodeId} is not host:port or a URL: ${address}`);
  }
  const port = Number(url.port);
  checkPort(nodeId, port);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port };
}

/** Parses every address once, at construction, so a bad one fails early. */
export function resolveAddresses(addresses: NodeAddresses | undefined): Map<NodeId, ResolvedAddress> {
  const out = new Map<NodeId, ResolvedAddress>();
  if (addresses === undefined) return out;
  const entries = addresses instanceof Map ? [...addresses.entries()] : Object.entries(addresses);
  for (const [nodeId, address] of entries) out.set(nodeId, resolveAddress(nodeId, address));
  return out;
}

function checkPort(nodeId: NodeId, port: number): void {
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new InvalidConfigError(`address of node ${nodeId} needs a port in [1, 65535] (got ${port})`);
  }
}
