/** Harness helpers shared by the transport tests: free ports, and conformance harnesses for the socket transports. */
import net from 'node:net';
import type { NetworkInterface } from '../../src/transport/types.js';
import type { ConformanceHarness } from './conformance.js';

/** A port that was free a moment ago (the OS picks it; we release it at once). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

type Factory = (id: string, port: number, addresses: Record<string, string>, timeoutMs: number) => NetworkInterface;

/** Resolves once `condition()` holds (checked every few ms): for connection set-up, not for timing. */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

/**
 * A harness for a transport that listens on a port and reaches peers by address. `connected(a, b)`,
 * when given, says whether `a` has its connection to `b`; `create` waits until every pair that
 * knows each other's address is connected (UwsNetwork: only the lower id dials, and until it has,
 * the higher id's requests fail fast).
 */
export function socketHarness(factory: Factory, deadPeerCodes: string[], connected?: (a: NetworkInterface, b: string) => boolean): ConformanceHarness {
  let created: NetworkInterface[] = [];
  let ports = new Map<string, number>();
  let addresses: Record<string, string> = {};
  return {
    async create(ids, { timeoutMs, withoutAddresses = {} }) {
      ports = new Map();
      for (const id of ids) ports.set(id, await freePort());
      addresses = Object.fromEntries(ids.map((id) => [id, `http://127.0.0.1:${ports.get(id)}`]));
      const known = (id: string): Record<string, string> =>
        Object.fromEntries(Object.entries(addresses).filter(([peer]) => !(withoutAddresses[id] ?? []).includes(peer)));
      created = ids.map((id) => factory(id, ports.get(id)!, known(id), timeoutMs));
      for (const n of created) await n.start();
      if (connected !== undefined) {
        const pairs = ids.flatMap((id, i) => ids.filter((peer) => peer !== id && peer in known(id) && id in known(peer)).map((peer) => [created[i]!, peer] as const));
        await until(() => pairs.every(([n, peer]) => connected(n, peer)));
      }
      return created;
    },
    ...(connected !== undefined ? { waitConnected: (n: NetworkInterface, peer: string) => until(() => connected(n, peer)) } : {}),
    addressOf(id) {
      return addresses[id]!;
    },
    recreate(id, { timeoutMs }) {
      const n = factory(id, ports.get(id)!, addresses, timeoutMs);
      created.push(n);
      return n;
    },
    async cleanup() {
      for (const n of created) await n.stop();
      created = [];
    },
    unknownTargetCode: 'TRANSPORT_ERR_NO_ADDRESS',
    deadPeerCodes,
  };
}
