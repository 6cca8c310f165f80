/**
 * Cluster membership as the CLI takes it: a JSON object `{"n1": {"raft": "127.0.0.1:7001",
 * "client": "http://127.0.0.1:8001"}, …}` or the compact form `n1=127.0.0.1:7001/8001,…` (raft
 * address, then the client port on the same host).
 */
import { InvalidConfigError } from '../core/errors.js';
import type { PeerEndpoints } from '../server/index.js';

export function parsePeers(text: string): Record<string, PeerEndpoints> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new InvalidConfigError('--peers is not valid JSON');
    }
    const peers: Record<string, PeerEndpoints> = {};
    for (const [id, value] of Object.entries(parsed as Record<string, unknown>)) {
      const p = value as Partial<PeerEndpoints>;
      if (typeof p?.raft !== 'string' || typeof p?.client !== 'string') throw new InvalidConfigError(`--peers: node ${id} needs "raft" and "client" addresses`);
      peers[id] = { raft: p.raft, client: p.client };
    }
    return peers;
  }
  const peers: Record<string, PeerEndpoints> = {};
  for (const part of trimmed.split(',').filter(Boolean)) {
    const match = /^([^=]+)=([^:/]+):(\d+)\/(\d+)$/.exec(part.trim());
    if (!match) throw new InvalidConfigError(`--peers: '${part}' is not id=host:raftPort/clientPort`);
    const [, id, host, raftPort, clientPort] = match;
    peers[id!] = { raft: `${host}:${raftPort}`, client: `http://${host}:${clientPort}` };
  }
  if (Object.keys(peers).length === 0) throw new InvalidConfigError('--peers names no node');
  return peers;
}

/** The endpoints of a local cluster of `count` nodes on consecutive ports. */
export function localPeers(count: number, host: string, raftPortBase: number, clientPortBase: number): Record<string, PeerEndpoints> {
  const peers: Record<string, PeerEndpoints> = {};
  for (let i = 1; i <= count; i++) peers[`n${i}`] = { raft: `${host}:${raftPortBase + i - 1}`, client: `http://${host}:${clientPortBase + i - 1}` };
  return peers;
}
