import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpNetwork } from '../../src/transport/http.js';
import type { RaftRpcHandlers } from '../../src/transport/types.js';
import { freePort } from './harness.js';

const handlers: RaftRpcHandlers = {
  onRequestVote: (req) => ({ term: req.term, voteGranted: true }),
  onAppendEntries: (req) => ({ term: req.term, success: true }),
  onInstallSnapshot: (req) => ({ term: req.term }),
};

function post(port: number, path: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('HttpNetwork at the gateway', () => {
  let nets: HttpNetwork[] = [];
  afterEach(async () => {
    for (const n of nets) await n.stop();
    nets = [];
  });

  async function server(bodyBytesMax?: number): Promise<HttpNetwork> {
    const net = new HttpNetwork('n2', { port: 0, ...(bodyBytesMax ? { bodyBytesMax } : {}) });
    net.registerHandlers(handlers);
    await net.start();
    nets.push(net);
    return net;
  }

  it('answers malformed JSON and bad shapes with 400 {code, message} and keeps serving', async () => {
    const net = await server();
    const bad = await post(net.port, '/raft/request-vote', '{"term": 1, ');
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe('TRANSPORT_ERR_PROTOCOL');
    expect(String(bad.json.message)).toMatch(/malformed JSON/);
    const shape = await post(net.port, '/raft/append-entries', JSON.stringify({ from: 'n1', to: 'n2', term: -1 }));
    expect(shape.status).toBe(400);
    expect(String(shape.json.message)).toContain('term');
    const good = await post(net.port, '/raft/request-vote', JSON.stringify({ from: 'n1', to: 'n2', term: 4, candidateId: 'n1', lastLogIndex: 0, lastLogTerm: 0 }));
    expect(good.status).toBe(200);
    expect(good.json).toMatchObject({ type: 'RequestVoteResponse', term: 4, voteGranted: true });
  });

  it('refuses bodies over bodyBytesMax with 413 and keeps serving', async () => {
    const net = await server(4096);
    const big = await post(net.port, '/raft/request-vote', JSON.stringify({ pad: 'x'.repeat(10_000) }));
    expect(big.status).toBe(413);
    expect(big.json.code).toBe('TRANSPORT_ERR_BODY_TOO_LARGE');
    const client = new HttpNetwork('n1', { port: 0, nodeAddresses: { n2: `127.0.0.1:${net.port}` } });
    await client.start();
    nets.push(client);
    await expect(client.sendRequestVote('n2', { term: 1, candidateId: 'n1', lastLogIndex: 0, lastLogTerm: 0 })).resolves.toMatchObject({ voteGranted: true });
    await expect(client.sendInstallSnapshot('n2', { term: 1, leaderId: 'n1', lastIncludedIndex: 1, lastIncludedTerm: 1, offset: 0, data: new Uint8Array(8192), done: true }))
      .rejects.toMatchObject({ code: 'TRANSPORT_ERR_PROTOCOL' });
  });

  it('says "No address configured for node X" and refuses a taken port', async () => {
    const net = await server();
    await expect(net.sendRequestVote('n7', { term: 1, candidateId: 'n2', lastLogIndex: 0, lastLogTerm: 0 })).rejects.toThrow('No address configured for node n7');
    const clash = new HttpNetwork('n3', { port: net.port });
    await expect(clash.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(await freePort()).toBeGreaterThan(0);
  });
});
