import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { RaftwireWsClient } from '../../src/client/index.js';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    for (const socket of server.clients) socket.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server that accepts the WebSocket and never answers a request. */
async function silentServer(): Promise<string> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(server);
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('RaftwireWsClient timeouts', () => {
  it('fails every unanswered request with CLIENT_ERR_TIMEOUT, and times out later requests too', async () => {
    const client = await RaftwireWsClient.connect(await silentServer(), { timeoutMs: 20 });
    const results = await Promise.allSettled([client.get('a'), client.set('b', new Uint8Array([1])), client.get('c')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'CLIENT_ERR_TIMEOUT', transient: true });
    // After an idle spell the sweep still runs for new requests.
    await expect(client.get('d')).rejects.toMatchObject({ code: 'CLIENT_ERR_TIMEOUT' });
    client.close();
  });
});
