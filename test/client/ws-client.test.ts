import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import { RaftwireClient, RaftwireWsClient } from '../../src/client/index.js';
import { type ClientReply, decodeFrame, encodedFrameSize, encodeFrameInto } from '../../src/codec/index.js';
import { type CacheNodeHandle, startCacheNode } from '../../src/server/index.js';
import { freePorts } from '../support/ports.js';

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

/** A server that answers every request `ok` (a get with the value 42), counting them. */
async function answeringServer(): Promise<{ url: string; requests: number }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(server);
  const counter = { url: '', requests: 0 };
  server.on('connection', (socket) =>
    socket.on('message', (data: Buffer) => {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      for (let offset = 0; offset < bytes.length; ) {
        const result = decodeFrame(bytes, offset);
        if (result.status !== 'ok') return socket.terminate();
        offset += result.consumed;
        counter.requests++;
        const reply: ClientReply = { type: 'ClientReply', status: 'ok', code: '', value: new Uint8Array([42]), leaderHint: null };
        const out = new Uint8Array(encodedFrameSize(reply));
        encodeFrameInto(reply, result.requestId, out, 0);
        socket.send(out);
      }
    }),
  );
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  counter.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return counter;
}

describe('RaftwireWsClient timeouts', () => {
  it('a node that does not answer within timeoutMs is left for the next endpoint, which answers', async () => {
    const answering = await answeringServer();
    const client = await RaftwireWsClient.connect([await silentServer(), answering.url], { timeoutMs: 50 });
    expect(await client.get('k')).toEqual(new Uint8Array([42]));
    expect(answering.requests).toBe(1);
    client.close();
  });

  it('fails every unanswered request with CLIENT_ERR_TIMEOUT, and times out later requests too', async () => {
    const client = await RaftwireWsClient.connect(await silentServer(), { timeoutMs: 20, maxRetries: 0 });
    const results = await Promise.allSettled([client.get('a'), client.set('b', new Uint8Array([1])), client.get('c')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'CLIENT_ERR_TIMEOUT', transient: true });
    // After an idle spell the sweep still runs for new requests.
    await expect(client.get('d')).rejects.toMatchObject({ code: 'CLIENT_ERR_TIMEOUT' });
    client.close();
  });
});

describe('RaftwireWsClient failover', () => {
  const dataRoot = mkdtempSync(join(tmpdir(), 'raftwire-ws-failover-'));
  const handles: CacheNodeHandle[] = [];
  afterAll(async () => {
    for (const handle of handles) await handle.stop();
    rmSync(dataRoot, { recursive: true, force: true });
  });

  it('replaces a dropped connection with one to another node and sends the unanswered requests again, each write once', async () => {
    const ports = await freePorts(6);
    const peers = Object.fromEntries(['n1', 'n2', 'n3'].map((id, i) => [id, { raft: `127.0.0.1:${ports[i]}`, client: `http://127.0.0.1:${ports[i + 3]}` }]));
    for (const id of Object.keys(peers)) handles.push(await startCacheNode({ id, peers, dataDir: join(dataRoot, id) }));
    await vi.waitFor(() => expect(handles.some((h) => h.node.isLeader())).toBe(true), { timeout: 10_000, interval: 20 });
    const leader = handles.find((h) => h.node.isLeader())!;
    const endpoints = [leader.id, ...Object.keys(peers).filter((id) => id !== leader.id)].map((id) => peers[id]!.client);
    const client = await RaftwireWsClient.connect(endpoints, { timeoutMs: 5_000 });
    const value = new Uint8Array([7]);

    // In flight when the node goes: each create-if-absent must come back true. One applied twice
    // (a replay without its sequence) would answer false, the key being there already.
    const created = Array.from({ length: 40 }, (_, i) => client.cas(`key${i}`, null, value));
    const stopping = leader.stop();
    handles.splice(handles.indexOf(leader), 1);
    expect(await Promise.all(created)).toEqual(Array(40).fill(true));
    await stopping;

    // The connection to the stopped node is gone; the client carries on with the others.
    await client.set('after', value);
    expect(await client.get('after')).toEqual(value);
    expect(await client.get('key39')).toEqual(value);
    client.close();
    await expect(client.get('after')).rejects.toMatchObject({ code: 'CLIENT_ERR_CLOSED' });
  }, 30_000);

  it('given one endpoint, both clients learn the other members and fail over to them when it stops', async () => {
    const ports = await freePorts(6);
    const peers = Object.fromEntries(['d1', 'd2', 'd3'].map((id, i) => [id, { raft: `127.0.0.1:${ports[i]}`, client: `http://127.0.0.1:${ports[i + 3]}` }]));
    const cluster: CacheNodeHandle[] = [];
    for (const id of Object.keys(peers)) cluster.push(await startCacheNode({ id, peers, dataDir: join(dataRoot, id) }));
    handles.push(...cluster);
    await vi.waitFor(() => expect(cluster.some((h) => h.node.isLeader())).toBe(true), { timeout: 10_000, interval: 20 });
    const leader = cluster.find((h) => h.node.isLeader())!;
    const only = peers[leader.id]!.client;
    const allClientUrls = Object.values(peers).map((p) => p.client).sort();

    const wsClient = await RaftwireWsClient.connect(only, { timeoutMs: 5_000 });
    const httpClient = new RaftwireClient({ endpoints: [only] });
    const undiscovering = await RaftwireWsClient.connect(only, { discoverMembers: false });
    await httpClient.put('before', 'v');
    await vi.waitFor(() => {
      expect([...wsClient.knownEndpoints].sort()).toEqual(allClientUrls);
      expect([...httpClient.knownEndpoints].sort()).toEqual(allClientUrls);
    }, { timeout: 5_000, interval: 10 });
    // The given endpoint stays first.
    expect(wsClient.knownEndpoints[0]).toBe(only);
    expect(undiscovering.knownEndpoints).toEqual([only]);
    undiscovering.close();

    await leader.stop();
    handles.splice(handles.indexOf(leader), 1);
    const value = new Uint8Array([9]);
    await wsClient.set('after-ws', value);
    await httpClient.put('after-http', 'w');
    expect(await wsClient.get('after-http')).toEqual(new TextEncoder().encode('w'));
    expect(await httpClient.getText('after-ws')).toBe('\t');
    wsClient.close();
  }, 30_000);

  it('fails what waits once no endpoint accepts within reconnectMs', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = await RaftwireWsClient.connect(url, { timeoutMs: 2_000, reconnectMs: 200 });
    const waiting = client.get('k');
    for (const socket of server.clients) socket.terminate();
    await new Promise((resolve) => server.close(resolve));
    await expect(waiting).rejects.toMatchObject({ code: 'CLIENT_ERR_UNREACHABLE' });
    client.close();
  });
});
