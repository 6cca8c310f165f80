import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/codec/index.js';
import type { Entry } from '../../src/core/types.js';
import { TargetUnavailableError } from '../../src/transport/errors.js';
import { authHeaders } from '../../src/transport/uws/auth.js';
import { UwsNetwork } from '../../src/transport/uws/network.js';
import type { UwsNetworkOptions } from '../../src/transport/uws/options.js';
import type { RaftRpcHandlers } from '../../src/transport/types.js';
import { patternBytes } from './conformance.js';
import { freePort, until } from './harness.js';

const secret = 'uws-test-secret-0123456789abcdef';
const vote = { term: 1, candidateId: 'n1', lastLogIndex: 0, lastLogTerm: 0 };

const handlers: RaftRpcHandlers = {
  onRequestVote: (req) => ({ term: req.term, voteGranted: true }),
  onAppendEntries: (req) => ({ term: req.term, success: true, lastLogIndex: req.prevLogIndex + req.entries.length }),
  onInstallSnapshot: (req) => ({ term: req.term }),
};

async function settleAll<T>(promises: Promise<T>[]): Promise<{ ok: number; codes: Map<string, number> }> {
  const results = await Promise.allSettled(promises);
  const codes = new Map<string, number>();
  let ok = 0;
  for (const r of results) {
    if (r.status === 'fulfilled') ok++;
    else {
      const code = (r.reason as { code?: string }).code ?? 'not a coded error';
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
  }
  return { ok, codes };
}

function closeOf(ws: WebSocket): Promise<{ code: number; error?: Error }> {
  return new Promise((resolve) => {
    let error: Error | undefined;
    ws.on('error', (e) => (error = e));
    ws.on('close', (code) => resolve({ code, ...(error ? { error } : {}) }));
  });
}

describe('UwsNetwork', () => {
  const nets: UwsNetwork[] = [];
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const n of nets.splice(0)) await n.stop();
    for (const c of cleanups.splice(0)) await c();
  });

  async function pair(extra: Partial<UwsNetworkOptions> = {}, extra2: Partial<UwsNetworkOptions> = extra): Promise<[UwsNetwork, UwsNetwork]> {
    const [p1, p2] = [await freePort(), await freePort()];
    const nodeAddresses = { n1: `127.0.0.1:${p1}`, n2: `127.0.0.1:${p2}` };
    const a = new UwsNetwork('n1', { port: p1, nodeAddresses, timeout: 3000, clusterSecret: secret, ...extra });
    const b = new UwsNetwork('n2', { port: p2, nodeAddresses, timeout: 3000, clusterSecret: secret, ...extra2 });
    nets.push(a, b);
    a.registerHandlers(handlers);
    b.registerHandlers(handlers);
    await b.start();
    await a.start();
    return [a, b];
  }

  it('setNodeAddress: a changed address drops the connection to the old one and dials the new one', async () => {
    const [a, b] = await pair();
    expect((await a.sendRequestVote('n2', vote)).voteGranted).toBe(true);
    // n2 comes back elsewhere (a new process on a new port), answering differently.
    const moved = new UwsNetwork('n2', { port: 0, timeout: 3000, clusterSecret: secret });
    nets.push(moved);
    moved.registerHandlers({ ...handlers, onRequestVote: (req) => ({ term: req.term, voteGranted: false }) });
    await moved.start();
    let arrived!: () => void;
    const handlerReached = new Promise<void>((r) => (arrived = r));
    b.registerHandlers({ ...handlers, onRequestVote: () => { arrived(); return new Promise(() => {}); } });
    const stuck = a.sendRequestVote('n2', { ...vote, term: 2 }).then(() => 'answered', (e: { code: string }) => e.code);
    await handlerReached;
    a.setNodeAddress('n2', { host: '127.0.0.1', port: moved.port });
    // What went out on the old connection fails at once; what follows goes to the new address.
    expect(await stuck).toBe('TRANSPORT_ERR_CONNECTION_LOST');
    expect((await a.sendRequestVote('n2', { ...vote, term: 3 })).voteGranted).toBe(false);
    expect(a.sendStats('n2').framesSent).toBeGreaterThanOrEqual(3);
  });

  it('refuses a peer without the cluster secret, and one with the wrong secret', async () => {
    const [, b] = await pair();
    const anonymous = new WebSocket(`ws://127.0.0.1:${b.port}/raft`, { headers: { 'x-raftwire-from': 'n9', 'x-raftwire-to': 'n2' } });
    const closed = await closeOf(anonymous);
    expect(closed.error?.message).toMatch(/401/);
    const wrong = new UwsNetwork('n0', { port: 0, nodeAddresses: { n2: `127.0.0.1:${b.port}` }, timeout: 3000, clusterSecret: 'not-the-cluster-secret!!' });
    nets.push(wrong);
    await wrong.start();
    const error = await wrong.sendRequestVote('n2', { ...vote, candidateId: 'n0' }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'TRANSPORT_ERR_CONNECTION_LOST', transient: true });
    expect((error as Error).message).toMatch(/401/);
  });

  it('disconnects a peer that sends garbage frames and keeps serving the others', async () => {
    const [a, b] = await pair();
    const intruder = new WebSocket(`ws://127.0.0.1:${b.port}/raft`, { headers: authHeaders(secret, 'n7', 'n2') });
    await new Promise<void>((resolve, reject) => { intruder.once('open', () => resolve()); intruder.once('error', reject); });
    const closed = closeOf(intruder);
    const garbage = Buffer.from(encodeFrame({ type: 'TimeoutNow', from: 'n7', to: 'n2', term: 1, leaderId: 'n7' }, 5));
    garbage[garbage.length - 1]! ^= 0xff; // breaks the checksum
    intruder.send(garbage);
    expect((await closed).code).toBe(1008);
    const noise = new WebSocket(`ws://127.0.0.1:${b.port}/raft`, { headers: authHeaders(secret, 'n8', 'n2') });
    await new Promise<void>((resolve) => noise.once('open', () => resolve()));
    const closedNoise = closeOf(noise);
    noise.send(patternBytes(300, 1));
    expect((await closedNoise).code).toBe(1008);
    await expect(a.sendRequestVote('n2', vote)).resolves.toMatchObject({ voteGranted: true });
    await expect(b.sendRequestVote('n1', { ...vote, candidateId: 'n2' })).resolves.toMatchObject({ voteGranted: true });
  });

  it('coalesces what is sent in one turn into few WebSocket messages, bounded by batchMessagesMax', async () => {
    const [a] = await pair({ batchMessagesMax: 16 });
    await a.sendRequestVote('n2', vote); // connection up
    const before = a.sendStats('n2');
    const calls = Array.from({ length: 160 }, (_, i) =>
      a.sendAppendEntries('n2', { term: 2, leaderId: 'n1', prevLogIndex: i, prevLogTerm: 1, entries: [], leaderCommit: 0 }),
    );
    const responses = await Promise.all(calls);
    responses.forEach((r, i) => expect(r.lastLogIndex).toBe(i));
    const after = a.sendStats('n2');
    expect(after.framesSent - before.framesSent).toBe(160);
    // 160 frames in batches of at most 16: at least 10 messages, and far fewer than one per frame.
    expect(after.batchesSent - before.batchesSent).toBeGreaterThanOrEqual(10);
    expect(after.batchesSent - before.batchesSent).toBeLessThanOrEqual(20);
  });

  it('bounds the per-peer queue with TRANSPORT_ERR_QUEUE_FULL, and queued requests still settle', async () => {
    // n1 dials a "peer" that accepts TCP and never answers the upgrade: n1's requests wait in its queue.
    const accepted = new Set<net.Socket>();
    const blackhole = net.createServer((socket) => accepted.add(socket.on('error', () => {})));
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => { for (const s of accepted) s.destroy(); blackhole.close(() => r()); }));
    const a = new UwsNetwork('n1', { port: 0, nodeAddresses: { n2: `127.0.0.1:${(blackhole.address() as net.AddressInfo).port}` }, timeout: 300, queueMessagesMax: 3, clusterSecret: secret });
    nets.push(a);
    await a.start();
    const calls = Array.from({ length: 5 }, () => a.sendRequestVote('n2', vote));
    const { ok, codes } = await settleAll(calls);
    expect(ok).toBe(0);
    expect(codes.get('TRANSPORT_ERR_QUEUE_FULL')).toBe(2);
    // The three queued ones end by their timeout or by the dial's handshake timeout (the same 300 ms).
    expect((codes.get('TRANSPORT_ERR_TIMEOUT') ?? 0) + (codes.get('TRANSPORT_ERR_CONNECTION_LOST') ?? 0)).toBe(3);
  });

  it('the higher id, with no connection from the lower one (down, or not there yet), fails at once with a transient error', async () => {
    const [a, b] = await pair({ timeout: 60_000 });
    await until(() => b.isConnected('n1'));
    expect((await b.sendRequestVote('n1', { ...vote, candidateId: 'n2' })).voteGranted).toBe(true);
    const port = a.port;
    await a.stop();
    await until(() => !b.isConnected('n1'));
    // With a 60 s timeout, waiting for it would fail this test by the test runner's own timeout.
    const error = await b.sendRequestVote('n1', { ...vote, candidateId: 'n2' }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TargetUnavailableError);
    expect((error as TargetUnavailableError).transient).toBe(true);
    expect((error as Error).message).toBe('Target node n1 not available');
    // n1 comes back, dials n2, and n2's requests go through again.
    const again = new UwsNetwork('n1', { port, nodeAddresses: { n2: `127.0.0.1:${b.port}` }, timeout: 3000, clusterSecret: secret });
    nets.push(again);
    again.registerHandlers(handlers);
    await again.start();
    await until(() => b.isConnected('n1'));
    expect((await b.sendRequestVote('n1', { ...vote, candidateId: 'n2' })).voteGranted).toBe(true);
  });

  it('a connection cut mid-batch fails what was in flight at once, then reconnects', async () => {
    const p2 = await freePort();
    const b = new UwsNetwork('n2', { port: p2, timeout: 10_000, clusterSecret: secret, nodeAddresses: {} });
    nets.push(b);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    b.registerHandlers({ ...handlers, onAppendEntries: async (req) => { await gate; return { term: req.term, success: true }; } });
    await b.start();
    // A TCP proxy we can cut: n1 -> proxy -> n2.
    const sockets = new Set<net.Socket>();
    let bytesSeen = 0;
    let isCut = false;
    let cut!: () => void;
    const cutDone = new Promise<void>((r) => (cut = r));
    const proxy = net.createServer((client) => {
      const upstream = net.connect(p2, '127.0.0.1');
      sockets.add(client); sockets.add(upstream);
      client.on('data', (chunk: Buffer) => {
        bytesSeen += chunk.length;
        upstream.write(chunk);
        // Once a good part of the big batch went through, cut both sides in the middle of it.
        if (!isCut && bytesSeen > 200_000) {
          isCut = true;
          for (const s of sockets) s.destroy();
          sockets.clear();
          cut();
        }
      });
      upstream.on('data', (chunk: Buffer) => client.write(chunk));
      client.on('error', () => {}); upstream.on('error', () => {});
      client.on('close', () => upstream.destroy()); upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => { for (const s of sockets) s.destroy(); proxy.close(() => r()); }));
    const a = new UwsNetwork('n1', { port: 0, timeout: 10_000, clusterSecret: secret, nodeAddresses: { n2: `127.0.0.1:${(proxy.address() as net.AddressInfo).port}` }, reconnectDelayMs: 10, reconnectDelayMaxMs: 50 });
    nets.push(a);
    await a.start();
    await a.sendRequestVote('n2', vote);
    const entries: Entry[] = Array.from({ length: 64 }, (_, i) => ({ index: i + 1, term: 1, type: 'normal', data: patternBytes(100, i) }));
    const calls = Array.from({ length: 200 }, (_, i) => a.sendAppendEntries('n2', { term: 1, leaderId: 'n1', prevLogIndex: i * 64, prevLogTerm: 1, entries, leaderCommit: 0 }));
    await cutDone;
    const { ok, codes } = await settleAll(calls);
    release();
    // The handler is gated, so nothing could have been answered before the cut: all fail, transiently.
    expect(ok).toBe(0);
    expect(codes.get('TRANSPORT_ERR_CONNECTION_LOST')).toBe(200);
    // n1 redials through the proxy and the link works again.
    let answered = false;
    for (let i = 0; i < 100 && !answered; i++) {
      answered = await a.sendRequestVote('n2', vote).then(() => true, () => false);
      if (!answered) await new Promise((r) => setTimeout(r, 20));
    }
    expect(answered).toBe(true);
  });

  it('runs over TLS (SSLApp) with certificate options, and a plain dialer cannot talk to it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftwire-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=raftwire-test', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const tls = { keyFile, certFile, caFile: certFile };
    const [a, b] = await pair({ tls }, { tls });
    const big = patternBytes(1 << 20, 3);
    let received: Uint8Array | undefined;
    b.registerHandlers({ ...handlers, onInstallSnapshot: (req) => { received = Uint8Array.from(req.data); return { term: req.term }; } });
    const res = await a.sendInstallSnapshot('n2', { term: 3, leaderId: 'n1', lastIncludedIndex: 5, lastIncludedTerm: 2, offset: 0, data: big, done: true });
    expect(res.bytesReceived).toBe(big.length);
    expect(Buffer.from(received!).equals(Buffer.from(big))).toBe(true);
    await expect(b.sendRequestVote('n1', { ...vote, candidateId: 'n2' })).resolves.toMatchObject({ voteGranted: true });
    const plain = new UwsNetwork('n0', { port: 0, nodeAddresses: { n2: `127.0.0.1:${b.port}` }, timeout: 2000, clusterSecret: secret });
    nets.push(plain);
    await plain.start();
    await expect(plain.sendRequestVote('n2', { ...vote, candidateId: 'n0' })).rejects.toMatchObject({ transient: true });
  });
});

describe('UwsNetwork dialing edge cases', () => {
  it('a peer id that cannot be sent as a header fails the request at once instead of throwing', async () => {
    const net = new UwsNetwork('a\u00ff\n', { port: 0, nodeAddresses: { z9: '127.0.0.1:1' }, timeout: 60_000 });
    await net.start();
    try {
      const outcome = await net.sendRequestVote('z9', { term: 1, candidateId: 'a', lastLogIndex: 0, lastLogTerm: 0 }).then(() => 'resolved', (e: { code: string }) => e.code);
      expect(outcome).toBe('TRANSPORT_ERR_CONNECTION_LOST');
    } finally {
      await net.stop();
    }
  });
});

describe('UwsNetwork handler errors', () => {
  it('a handler error with a huge message still comes back, truncated, and the link keeps working', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const nodeAddresses = { n1: `127.0.0.1:${p1}`, n2: `127.0.0.1:${p2}` };
    const a = new UwsNetwork('n1', { port: p1, nodeAddresses, timeout: 3000 });
    const b = new UwsNetwork('n2', { port: p2, nodeAddresses, timeout: 3000 });
    b.registerHandlers({ ...handlers, onRequestVote: () => { throw new Error('x'.repeat(200_000)); } });
    await b.start();
    await a.start();
    try {
      const error = await a.sendRequestVote('n2', vote).then(() => undefined, (e: Error & { code: string }) => e);
      expect(error?.code).toBe('TRANSPORT_ERR_HANDLER');
      expect(error!.message.length).toBeLessThan(2000);
      await expect(a.sendAppendEntries('n2', { term: 1, leaderId: 'n1', prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0 })).resolves.toMatchObject({ success: true });
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
