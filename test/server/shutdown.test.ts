/**
 * Graceful shutdown of a node (`CacheNodeHandle.stop()`): requests in flight are answered by a
 * node that still runs Raft, new ones on open connections get 503 and their connection closed,
 * and once stopped the node answers no one, not even on keep-alive connections opened before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { type CacheNodeHandle, type PeerEndpoints, startCacheNode } from '../../src/server/index.js';
import { freePorts } from '../support/ports.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(agent: Agent, url: string, method = 'GET', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const dataRoot = mkdtempSync(join(tmpdir(), 'raftwire-shutdown-'));
const handles: CacheNodeHandle[] = [];
const agents: Agent[] = [];
afterEach(async () => {
  for (const handle of handles.splice(0)) await handle.stop();
  for (const agent of agents.splice(0)) agent.destroy();
  rmSync(dataRoot, { recursive: true, force: true });
});

it('drains the requests in flight, refuses new ones with 503 and Connection: close, then closes every connection', async () => {
  const ports = await freePorts(6);
  const peers: Record<string, PeerEndpoints> = Object.fromEntries(['n1', 'n2', 'n3'].map((id, i) => [id, { raft: `127.0.0.1:${ports[i]}`, client: `http://127.0.0.1:${ports[i + 3]}` }]));
  const start = (id: string) => startCacheNode({ id, peers, dataDir: join(dataRoot, id), leaderWaitMs: 10_000 });
  // n1 alone has no quorum: a write to it waits for a leader, in flight as long as we like.
  const n1 = await start('n1');
  const idle = new Agent({ keepAlive: true, maxSockets: 1 });
  const other = new Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(idle, other);
  expect((await send(idle, `${peers.n1!.client}/health`)).status).toBe(200);
  expect((await send(other, `${peers.n1!.client}/health`)).status).toBe(200);
  const idleSocket = Object.values(idle.freeSockets)[0]![0]!;
  const idleClosed = new Promise((resolve) => idleSocket.once('close', resolve));

  const inFlight = send(new Agent(), `${peers.n1!.client}/v1/kv/drained`, 'PUT', 'yes');
  for (let i = 0; i < 200 && n1.server.inflightRequests === 0; i++) await new Promise((r) => setTimeout(r, 5));
  expect(n1.server.inflightRequests).toBe(1);
  const stopping = n1.stop();

  // A request on a connection opened before the shutdown began: refused, and its connection closed.
  const refused = await send(other, `${peers.n1!.client}/v1/kv/drained`);
  expect(refused.status).toBe(503);
  expect(JSON.parse(refused.body)).toMatchObject({ code: 'HTTP_ERR_SHUTTING_DOWN' });
  expect(refused.headers.connection).toBe('close');

  // A second node makes a quorum: the write in flight is answered by a node that still runs Raft
  // (stored by n1 as leader, or redirected to n2), where stopping Raft at once would fail it.
  handles.push(await start('n2'));
  const answer = await inFlight;
  expect([200, 307]).toContain(answer.status);
  await stopping;

  // Stopped: the idle keep-alive connection is closed, and nothing listens any more.
  // At once: uWS would otherwise drop it only after its ~10 s HTTP idle timeout.
  const late = new Promise((resolve) => setTimeout(() => resolve('still open 3 s after stop()'), 3_000));
  expect(await Promise.race([idleClosed.then(() => 'closed'), late])).toBe('closed');
  await expect(send(new Agent(), `${peers.n1!.client}/health`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
}, 30_000);
