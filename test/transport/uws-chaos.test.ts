import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ReliableNetwork } from '../../src/transport/reliable.js';
import { UwsNetwork } from '../../src/transport/uws/network.js';
import { freePort } from './harness.js';

const secret = 'chaos-secret-0123456789abcdef';
const peerScript = fileURLToPath(new URL('./fixtures/uws-peer.ts', import.meta.url));
const vote = { term: 1, candidateId: 'n1', lastLogIndex: 0, lastLogTerm: 0 };

const children = new Set<ChildProcess>();

/** Starts a peer process and waits for its "ready" line. */
function startPeer(port: number, delayMs: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', peerScript, 'n2', String(port), secret, String(delayMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`peer exited with ${code} before it was ready`)));
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe('UwsNetwork with a peer process that is killed and restarted', () => {
  const nets: UwsNetwork[] = [];
  afterEach(async () => {
    for (const n of nets.splice(0)) await n.stop();
    for (const child of [...children]) {
      child.kill('SIGKILL');
      await killed(child);
    }
  });

  it('fails in-flight requests at once on kill -9, reconnects after restart, and ReliableNetwork rides it out', async () => {
    const port = await freePort();
    let peer = await startPeer(port, 500);
    const uws = new UwsNetwork('n1', { port: 0, nodeAddresses: { n2: `127.0.0.1:${port}` }, timeout: 5000, clusterSecret: secret, reconnectDelayMs: 20, reconnectDelayMaxMs: 200 });
    nets.push(uws);
    await uws.start();
    await expect(uws.sendRequestVote('n2', vote)).resolves.toMatchObject({ voteGranted: true });

    // 100 requests in flight (the peer holds each for 500 ms), then kill -9.
    const inflight = Array.from({ length: 100 }, (_, i) =>
      uws.sendAppendEntries('n2', { term: 1, leaderId: 'n1', prevLogIndex: i, prevLogTerm: 1, entries: [], leaderCommit: 0 }).then(
        () => 'ok',
        (e: { code: string; transient: boolean }) => (e.transient ? e.code : `permanent ${e.code}`),
      ),
    );
    await new Promise((r) => setTimeout(r, 5));
    peer.kill('SIGKILL');
    await killed(peer);
    const outcomes = await Promise.all(inflight);
    // Every request settled; the ones the dead peer never answered failed as transient lost connections.
    expect(outcomes.length).toBe(100);
    for (const o of outcomes) expect(['ok', 'TRANSPORT_ERR_CONNECTION_LOST']).toContain(o);
    expect(outcomes).toContain('TRANSPORT_ERR_CONNECTION_LOST');

    // While the peer is down, a retrying send keeps trying; the peer comes back on the same port.
    const retries: number[] = [];
    const reliable = new ReliableNetwork(uws, { maxRetries: 50, initialTimeout: 1000, maxTimeout: 2000, retryDelay: 20, onRetry: (_e, attempt) => retries.push(attempt) });
    const duringOutage = reliable.sendRequestVote('n2', { ...vote, term: 2 });
    await new Promise((r) => setTimeout(r, 100));
    peer = await startPeer(port, 0);
    await expect(duringOutage).resolves.toMatchObject({ term: 2, voteGranted: true });
    expect(retries.length).toBeGreaterThan(0);
    await expect(uws.sendRequestVote('n2', { ...vote, term: 3 })).resolves.toMatchObject({ term: 3 });
  });
});
