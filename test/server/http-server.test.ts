import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/resilience/index.js';
import { type CacheNodeHandle, HttpServer, KvService, type PeerEndpoints, startCacheNode } from '../../src/server/index.js';
import { VirtualClock } from '../../src/util/clock.js';
import { freePorts } from '../support/ports.js';
import WebSocket from 'ws';
import { RaftwireClient, RaftwireWsClient } from '../../src/client/index.js';

const dataRoot = mkdtempSync(join(tmpdir(), 'raftwire-server-'));
const nodes: CacheNodeHandle[] = [];
let peers: Record<string, PeerEndpoints>;
let leaderUrl: string;
let followerUrl: string;
const TOKEN = 'secret-token';

async function waitForLeader(): Promise<CacheNodeHandle> {
  for (let i = 0; i < 200; i++) {
    const leader = nodes.find((n) => n.node.isLeader());
    if (leader && nodes.every((n) => n.node.getLeader() === leader.id)) return leader;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('no leader elected');
}

beforeAll(async () => {
  const ports = await freePorts(6);
  peers = Object.fromEntries(['n1', 'n2', 'n3'].map((id, i) => [id, { raft: `127.0.0.1:${ports[i]}`, client: `http://127.0.0.1:${ports[i + 3]}` }]));
  for (const id of Object.keys(peers)) {
    nodes.push(
      await startCacheNode({ id, peers, dataDir: join(dataRoot, id), authToken: TOKEN, corsOrigin: 'https://app.example', bodyBytesMax: 64 * 1024, requestsPerSecond: 2_000, raft: { electionTimeoutMinMs: 1000, electionTimeoutMaxMs: 2000, heartbeatIntervalMs: 100 } }),
    );
  }
  const leader = await waitForLeader();
  leaderUrl = peers[leader.id]!.client;
  followerUrl = peers[nodes.find((n) => n !== leader)!.id]!.client;
});

afterAll(async () => {
  for (const n of nodes) await n.stop();
  rmSync(dataRoot, { recursive: true, force: true });
});

const auth = { authorization: `Bearer ${TOKEN}` };
const call = (url: string, init: RequestInit = {}) => fetch(url, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) }, redirect: 'manual' });

describe('client HTTP API', () => {
  it('stores, reads, compares-and-sets, increments and deletes a key', async () => {
    expect((await call(`${leaderUrl}/v1/kv/a`, { method: 'PUT', body: 'one' })).status).toBe(200);
    const read = await call(`${leaderUrl}/v1/kv/a`);
    expect(read.status).toBe(200);
    expect(await read.text()).toBe('one');
    const casFail = await call(`${leaderUrl}/v1/kv/a/cas`, { method: 'POST', body: JSON.stringify({ expected: 'two', value: 'three' }) });
    expect(casFail.status).toBe(409);
    expect(await casFail.json()).toMatchObject({ code: 'CACHE_ERR_CAS_MISMATCH', value: 'one' });
    expect((await call(`${leaderUrl}/v1/kv/a/cas`, { method: 'POST', body: JSON.stringify({ expected: 'one', value: 'three' }) })).status).toBe(200);
    expect(await (await call(`${leaderUrl}/v1/kv/n/increment`, { method: 'POST', body: JSON.stringify({ delta: 5 }) })).json()).toEqual({ ok: true, value: 5 });
    expect(await (await call(`${leaderUrl}/v1/kv/a`, { method: 'DELETE' })).json()).toEqual({ ok: true, deleted: true });
    const gone = await call(`${leaderUrl}/v1/kv/a`);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { code: string }).code).toBe('KV_ERR_NOT_FOUND');
  });

  it('a follower redirects writes and linearizable reads to the leader, and serves stale reads itself', async () => {
    await call(`${leaderUrl}/v1/kv/f`, { method: 'PUT', body: 'x' });
    const write = await call(`${followerUrl}/v1/kv/f`, { method: 'PUT', body: 'y' });
    expect(write.status).toBe(307);
    expect(write.headers.get('location')).toBe(`${leaderUrl}/v1/kv/f`);
    const read = await call(`${followerUrl}/v1/kv/f?consistency=linearizable`);
    expect(read.status).toBe(307);
    expect(read.headers.get('location')).toBe(`${leaderUrl}/v1/kv/f?consistency=linearizable`);
    // The client follows the 307 to the leader with method, body and credentials kept.
    const client = new RaftwireClient({ endpoints: [followerUrl], authToken: TOKEN });
    await client.put('f', 'z');
    expect(await client.getText('f')).toBe('z');
    let stale = '';
    for (let i = 0; i < 100 && stale !== 'z'; i++) {
      stale = await (await call(`${followerUrl}/v1/kv/f?consistency=stale`)).text();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(stale).toBe('z');
  });

  it('lease reads on the leader see the latest write', async () => {
    await call(`${leaderUrl}/v1/kv/l`, { method: 'PUT', body: 'lease' });
    const read = await call(`${leaderUrl}/v1/kv/l?consistency=lease`);
    expect(await read.text()).toBe('lease');
  });

  it('a retried write with the same client id and sequence is applied once', async () => {
    const headers = { 'x-raftwire-client-id': 'c-1', 'x-raftwire-sequence': '1' };
    const first = await (await call(`${leaderUrl}/v1/kv/once/increment`, { method: 'POST', body: '{"delta":1}', headers })).json();
    const retry = await (await call(`${leaderUrl}/v1/kv/once/increment`, { method: 'POST', body: '{"delta":1}', headers })).json();
    expect(first).toEqual({ ok: true, value: 1 });
    expect(retry).toEqual({ ok: true, value: 1 });
  });
});

describe('client HTTP API refuses bad input with typed errors and keeps serving', () => {
  it('missing or wrong bearer token: 401', async () => {
    const none = await fetch(`${leaderUrl}/v1/kv/a`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { code: string }).code).toBe('HTTP_ERR_UNAUTHORIZED');
    expect((await fetch(`${leaderUrl}/v1/kv/a`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(`${leaderUrl}/health`)).status).toBe(200); // health stays open
  });

  it('oversized body: 413, and an oversized key: 413', async () => {
    const big = await call(`${leaderUrl}/v1/kv/big`, { method: 'PUT', body: new Uint8Array(64 * 1024 + 1) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { code: string }).code).toBe('HTTP_ERR_BODY_TOO_LARGE');
    const key = await call(`${leaderUrl}/v1/kv/${'k'.repeat(2000)}`, { method: 'PUT', body: 'v' });
    expect(key.status).toBe(413);
    expect(((await key.json()) as { code: string }).code).toBe('CACHE_ERR_KEY_TOO_LARGE');
  });

  it('malformed requests: 400 with a code', async () => {
    const cases: [string, RequestInit][] = [
      [`${leaderUrl}/v1/kv/a/cas`, { method: 'POST', body: '{not json' }],
      [`${leaderUrl}/v1/kv/a/cas`, { method: 'POST', body: '{"value": 5}' }],
      [`${leaderUrl}/v1/kv/a/increment`, { method: 'POST', body: '{"delta": 1.5}' }],
      [`${leaderUrl}/v1/kv/a?ttl=-4`, { method: 'PUT', body: 'v' }],
      [`${leaderUrl}/v1/kv/a?consistency=eventual`, {}],
      [`${leaderUrl}/v1/kv/%E0%A4%A`, {}],
    ];
    for (const [url, init] of cases) {
      const response = await call(url, init);
      expect(response.status, url).toBe(400);
      expect(((await response.json()) as { code: string }).code).toMatch(/^(HTTP|CACHE)_ERR_/);
    }
  });

  it('unknown route: 404 JSON', async () => {
    const response = await call(`${leaderUrl}/v2/nothing`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { code: string }).code).toBe('HTTP_ERR_NOT_FOUND');
  });

  it('a client that disconnects mid-body costs only its own request', async () => {
    const { port, hostname } = new URL(leaderUrl);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(`PUT /v1/kv/half HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 1000\r\n\r\nonly-part`);
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
    });
    expect((await call(`${leaderUrl}/v1/kv/half`)).status).toBe(404); // never written
    expect((await call(`${leaderUrl}/v1/kv/after`, { method: 'PUT', body: 'ok' })).status).toBe(200);
  });

  it('a slow reader of a large response does not stall other clients', async () => {
    await call(`${leaderUrl}/v1/kv/large`, { method: 'PUT', body: new Uint8Array(60 * 1024).fill(65) });
    const { port, hostname } = new URL(leaderUrl);
    const slow = connect(Number(port), hostname);
    slow.pause(); // never reads
    await new Promise<void>((resolve) => slow.once('connect', () => resolve()));
    for (let i = 0; i < 20; i++) slow.write(`GET /v1/kv/large?consistency=stale HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
    const started = await call(`${leaderUrl}/v1/kv/after`);
    expect(await started.text()).toBe('ok');
    slow.destroy();
  });

  it('CORS headers for the allowed origin, and preflight answered', async () => {
    const preflight = await fetch(`${leaderUrl}/v1/kv/a`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
  });

  it('health, readiness, cluster view and Prometheus metrics', async () => {
    expect(await (await fetch(`${followerUrl}/health/ready`)).json()).toMatchObject({ ready: true, running: true });
    const cluster = (await (await call(`${leaderUrl}/v1/cluster`)).json()) as { role: string; progress: Record<string, unknown> };
    expect(cluster.role).toBe('leader');
    expect(Object.keys(cluster.progress).sort()).toHaveLength(2);
    const metrics = await (await fetch(`${leaderUrl}/metrics`)).text();
    expect(metrics).toMatch(/^raft_is_leader\{node="n\d"\} 1$/m);
    expect(metrics).toMatch(/^raft_commit_index\{node="n\d"\} \d+$/m);
    expect(metrics).toContain('raftwire_http_request_seconds_bucket');
    // From the node: fsync latency and batch sizes, RPC round trips, apply batches (earlier tests wrote).
    const count = (pattern: RegExp) => Number(pattern.exec(metrics)?.[1] ?? 0);
    expect(count(/^raft_log_save_seconds_count\{node="n\d"\} (\d+)$/m)).toBeGreaterThan(0);
    expect(count(/^raft_log_save_entries_count\{node="n\d"\} (\d+)$/m)).toBeGreaterThan(0);
    expect(count(/^raft_rpc_seconds_count\{node="n\d",type="AppendEntries",outcome="ok"\} (\d+)$/m)).toBeGreaterThan(0);
    expect(count(/^raft_apply_batch_entries_count\{node="n\d"\} (\d+)$/m)).toBeGreaterThan(0);
  });

  it('counts requests by route and status, and proposals by outcome, as they happen (published at scrape time)', async () => {
    const scrape = async () => {
      const text = await (await fetch(`${leaderUrl}/metrics`)).text();
      const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
      return {
        puts: value(/^raftwire_http_requests_total\{route="kv.put",status="200",node="n\d"\} (\d+)$/m),
        casConflicts: value(/^raftwire_http_requests_total\{route="kv.cas",status="409",node="n\d"\} (\d+)$/m),
        ok: value(/^raftwire_proposals_total\{result="ok",node="n\d"\} (\d+)$/m),
        mismatches: value(/^raftwire_proposals_total\{result="CACHE_ERR_CAS_MISMATCH",node="n\d"\} (\d+)$/m),
      };
    };
    const before = await scrape();
    for (let i = 0; i < 3; i++) expect((await call(`${leaderUrl}/v1/kv/counted`, { method: 'PUT', body: `v${i}` })).status).toBe(200);
    expect((await call(`${leaderUrl}/v1/kv/counted/cas`, { method: 'POST', body: JSON.stringify({ expected: 'nope', value: 'x' }) })).status).toBe(409);
    const after = await scrape();
    expect(after.puts - before.puts).toBe(3);
    expect(after.ok - before.ok).toBe(3);
    expect(after.casConflicts - before.casConflicts).toBe(1);
    expect(after.mismatches - before.mismatches).toBe(1);
    expect(await scrape()).toEqual(after); // a scrape publishes the counts, it does not add to them
  });
});

describe('rate limiting', () => {
  it('answers 429 with Retry-After once the limiter is out of permits, and health stays open', async () => {
    const limiter = new RateLimiter({ requestsPerSecond: 1, burstSize: 2, clock: new VirtualClock() });
    const server = new HttpServer({ kv: new KvService(nodes[0]!.node, nodes[0]!.cache), port: 0, rateLimiter: limiter });
    await server.listen();
    try {
      const url = `http://127.0.0.1:${server.port}/v1/kv/rl?consistency=stale`;
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await fetch(url)).status);
      expect(statuses).toEqual([404, 404, 429, 429]);
      const limited = await fetch(url);
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(((await limited.json()) as { code: string }).code).toBe('HTTP_ERR_RATE_LIMITED');
      expect((await fetch(`http://127.0.0.1:${server.port}/health`)).status).toBe(200);
    } finally {
      server.close();
    }
  });
});

describe('request timeout', () => {
  it('answers 504 to a request the node never answers, and keeps serving others', async () => {
    const kv = new KvService(nodes[0]!.node, nodes[0]!.cache);
    kv.getThen = () => undefined; // a read that never completes
    const server = new HttpServer({ kv, port: 0, requestTimeoutMs: 20 });
    await server.listen();
    try {
      const stuck = await fetch(`http://127.0.0.1:${server.port}/v1/kv/never`);
      expect(stuck.status).toBe(504);
      expect(((await stuck.json()) as { code: string }).code).toBe('HTTP_ERR_TIMEOUT');
      expect((await fetch(`http://127.0.0.1:${server.port}/health`)).status).toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      expect(metrics).toMatch(/^raftwire_http_requests_total\{route="kv.get",status="504",node="n\d"\} 1$/m);
      // The timed-out request no longer counts; /metrics itself is answered within its callback.
      expect(metrics).toMatch(/^raftwire_http_inflight_requests\{node="n\d"\} 0$/m);
    } finally {
      server.close();
    }
  });
});

describe('binary WebSocket protocol', () => {
  const bytes = (t: string) => new TextEncoder().encode(t);

  it('pipelines many requests on one connection, following notLeader to the leader', async () => {
    const client = await RaftwireWsClient.connect(followerUrl, { authToken: TOKEN });
    try {
      await Promise.all(Array.from({ length: 200 }, (_, i) => client.set(`ws${i}`, bytes(`v${i}`))));
      const values = await Promise.all(Array.from({ length: 200 }, (_, i) => client.get(`ws${i}`)));
      values.forEach((v, i) => expect(new TextDecoder().decode(v)).toBe(`v${i}`));
      expect(await client.cas('ws0', bytes('v0'), bytes('w0'))).toBe(true);
      expect(await client.cas('ws0', bytes('v0'), bytes('x0'))).toBe(false);
      expect(await client.delete('ws1')).toBe(true);
      expect(await client.get('ws1')).toBeUndefined();
    } finally {
      client.close();
    }
  });

  it('refuses an upgrade without the token, and closes a connection sending garbage while serving others', async () => {
    const wsUrl = `${leaderUrl.replace('http', 'ws')}/v1/ws`;
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(wsUrl);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    expect(refused).toBe(401);
    const code = await new Promise<number>((resolve) => {
      const ws = new WebSocket(wsUrl, { headers: auth });
      ws.on('open', () => ws.send(Buffer.from('this is not a frame at all')));
      ws.on('close', (closeCode) => resolve(closeCode));
    });
    expect(code).toBe(1002);
    const healthy = await RaftwireWsClient.connect(leaderUrl, { authToken: TOKEN });
    expect(new TextDecoder().decode(await healthy.get('ws2'))).toBe('v2');
    healthy.close();
  });
});

describe('WebSocket connection limit', () => {
  it('refuses upgrades past webSocketConnectionsMax with 503, serves the open ones, and admits again once one closes', async () => {
    const server = new HttpServer({ kv: new KvService(nodes[0]!.node, nodes[0]!.cache), port: 0, webSocketConnectionsMax: 2 });
    await server.listen();
    const wsUrl = `ws://127.0.0.1:${server.port}/v1/ws?consistency=stale`;
    /** Opens a connection, or resolves with the refusal's status and body. */
    const open = () => new Promise<WebSocket | { status: number; body: string; retryAfter: string | undefined }>((resolve) => {
      const ws = new WebSocket(wsUrl);
      ws.on('open', () => resolve(ws));
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, retryAfter: res.headers['retry-after'] as string | undefined }));
      });
    });
    const open1 = await open();
    const open2 = await open();
    try {
      expect(open1).toBeInstanceOf(WebSocket);
      expect(open2).toBeInstanceOf(WebSocket);
      const refused = await open();
      expect(refused).toMatchObject({ status: 503, retryAfter: '1' });
      expect(JSON.parse((refused as { body: string }).body)).toMatchObject({ code: 'HTTP_ERR_TOO_MANY_CONNECTIONS' });
      const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      expect(metrics).toMatch(/^raftwire_ws_connections\{node="n\d"\} 2$/m);

      // The client library sees the refusal as an unreachable node; once one closes, it is let in.
      const client = await RaftwireWsClient.connect(`http://127.0.0.1:${server.port}`, { consistency: 'stale', discoverMembers: false }).catch((error: unknown) => error);
      expect(client).toMatchObject({ code: 'CLIENT_ERR_UNREACHABLE' });
      (open1 as WebSocket).close();
      await new Promise((resolve) => (open1 as WebSocket).once('close', resolve));
      const admitted = await RaftwireWsClient.connect(`http://127.0.0.1:${server.port}`, { consistency: 'stale', discoverMembers: false });
      expect(await admitted.get('never-written')).toBeUndefined();
      admitted.close();
    } finally {
      for (const ws of [open1, open2]) if (ws instanceof WebSocket) ws.terminate();
      server.close();
    }
  });
});
