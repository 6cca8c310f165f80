import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RaftwireClient } from '../../src/client/index.js';
import { freePorts } from '../support/ports.js';

/**
 * A stand-in node: answers every request with `answer(path)` and counts what it was asked. The
 * clients' member discovery (`GET /v1/cluster/members`) is answered 404 (nothing learned) and not
 * counted: these tests are about the requests themselves.
 */
async function fakeNode(answer: (path: string) => { status: number; headers?: Record<string, string>; body?: string }): Promise<{ url: string; paths: string[]; server: http.Server }> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    if (req.url === '/v1/cluster/members') {
      res.writeHead(404).end();
      return;
    }
    paths.push(req.url!);
    req.resume();
    req.on('end', () => {
      const reply = answer(req.url!);
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body ?? '{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths, server };
}

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('RaftwireClient failover', () => {
  it('moves on from a node that refuses the connection without waiting', async () => {
    const [deadPort] = await freePorts(1);
    const live = await fakeNode(() => ({ status: 200 }));
    // A wait of an hour would time the test out: the refused node must not cost a wait.
    const client = new RaftwireClient({ endpoints: [`http://127.0.0.1:${deadPort}`, live.url], retryDelayMs: 3_600_000, maxRetries: 2 });
    await client.put('k', 'v');
    expect(live.paths).toEqual(['/v1/kv/k']);
  });

  it('moves on from a node that is shutting down without waiting', async () => {
    const stopping = await fakeNode(() => ({ status: 503, headers: { 'retry-after': '0', connection: 'close' }, body: '{"code":"HTTP_ERR_SHUTTING_DOWN","message":"this node is shutting down"}' }));
    const live = await fakeNode(() => ({ status: 200 }));
    // As with a refused connection: an hour's wait would time the test out.
    const client = new RaftwireClient({ endpoints: [stopping.url, live.url], retryDelayMs: 3_600_000, maxRetries: 2 });
    await client.put('k', 'v');
    expect(stopping.paths).toEqual(['/v1/kv/k']);
    expect(live.paths).toEqual(['/v1/kv/k']);
  });

  it('waits and retries while no node knows a leader (503), then succeeds', async () => {
    let refusals = 2;
    const node = await fakeNode(() => (refusals-- > 0 ? { status: 503, headers: { 'retry-after': '1' }, body: '{"code":"RAFT_ERR_NOT_LEADER","message":"no leader"}' } : { status: 200 }));
    const client = new RaftwireClient({ endpoints: [node.url], retryDelayMs: 1, maxRetries: 5 });
    await client.put('k', 'v');
    expect(node.paths).toHaveLength(3);
  });

  it('gives up after maxRetries when every node stays unreachable', async () => {
    const ports = await freePorts(2);
    const client = new RaftwireClient({ endpoints: ports.map((p) => `http://127.0.0.1:${p}`), retryDelayMs: 1, maxRetries: 4 });
    await expect(client.put('k', 'v')).rejects.toMatchObject({ code: 'CLIENT_ERR_UNREACHABLE' });
  });

  it('remembers a leader a redirect names, even one it was not configured with', async () => {
    const leader = await fakeNode(() => ({ status: 200 }));
    const follower = await fakeNode((path) => ({ status: 307, headers: { location: `${leader.url}${path}` }, body: '{"code":"RAFT_ERR_NOT_LEADER"}' }));
    const client = new RaftwireClient({ endpoints: [follower.url] });
    await client.put('a', '1');
    await client.put('b', '2');
    expect(follower.paths).toEqual(['/v1/kv/a']);
    expect(leader.paths).toEqual(['/v1/kv/a', '/v1/kv/b']);
  });

  it('goes back to its configured nodes once a remembered leader is unreachable', async () => {
    const leader = await fakeNode(() => ({ status: 200 }));
    let redirect = true;
    const follower = await fakeNode((path) => (redirect ? { status: 307, headers: { location: `${leader.url}${path}` } } : { status: 200 }));
    const client = new RaftwireClient({ endpoints: [follower.url], retryDelayMs: 3_600_000 });
    await client.put('a', '1');
    await new Promise((resolve) => leader.server.close(resolve));
    leader.server.closeAllConnections();
    redirect = false;
    await client.put('b', '2');
    expect(follower.paths).toEqual(['/v1/kv/a', '/v1/kv/b']);
  });
});
