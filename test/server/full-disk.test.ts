import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CacheNodeHandle, type PeerEndpoints, startCacheNode } from '../../src/server/index.js';
import { freePorts } from '../support/ports.js';

// A real full disk: one node's data directory on a small tmpfs, filled up. Mounting needs root;
// where it is refused the suite says so and is skipped (the same path is covered with an injected
// StorageFullError in test/node/storage-full.test.ts).
const root = mkdtempSync(join(tmpdir(), 'raftwire-fulldisk-'));
const mountPoint = join(root, 'small');
function mountTmpfs(): boolean {
  mkdirSync(mountPoint, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mountPoint], { stdio: 'ignore' });
    return true;
  } catch {
    console.log('full-disk test skipped: cannot mount a tmpfs here (needs root)');
    rmSync(root, { recursive: true, force: true });
    return false;
  }
}
const mounted = mountTmpfs();

describe.skipIf(!mounted)('a node whose disk is really full', () => {
  const nodes: CacheNodeHandle[] = [];
  let peers: Record<string, PeerEndpoints>;
  const full: Error[] = [];
  const filler = join(mountPoint, 'filler');

  beforeAll(async () => {
    const ports = await freePorts(6);
    peers = Object.fromEntries(['n1', 'n2', 'n3'].map((id, i) => [id, { raft: `127.0.0.1:${ports[i]}`, client: `http://127.0.0.1:${ports[i + 3]}` }]));
    for (const id of ['n1', 'n2', 'n3']) {
      nodes.push(
        await startCacheNode({
          id, peers, dataDir: id === 'n3' ? join(mountPoint, id) : join(root, id),
          raft: { electionTimeoutMinMs: 300, electionTimeoutMaxMs: 600, heartbeatIntervalMs: 50 },
          onStorageFull: (error) => full.push(error),
          onFatal: (error) => full.push(error),
        }),
      );
    }
  });

  afterAll(async () => {
    for (const n of nodes) await n.stop().catch(() => undefined);
    if (mounted) execFileSync('umount', [mountPoint]);
    rmSync(root, { recursive: true, force: true });
  });

  it('sits out with STORAGE_ERR_FULL while the others serve, keeps answering stale reads, and catches up once there is room', async () => {
    const n3 = nodes[2]!;
    for (let i = 0; i < 100 && !nodes.some((n) => n.node.isLeader() && n !== n3); i++) await new Promise((r) => setTimeout(r, 50));
    if (n3.node.isLeader()) n3.node.transferLeadership('n1');
    for (let i = 0; i < 100 && (n3.node.isLeader() || !nodes.some((n) => n.node.isLeader())); i++) await new Promise((r) => setTimeout(r, 50));
    const leader = nodes.find((n) => n.node.isLeader())!;
    const put = (id: string, key: string, body: string) => fetch(`${peers[id]!.client}/v1/kv/${key}`, { method: 'PUT', body, redirect: 'manual' });
    expect((await put(leader.id, 'before', 'kept')).status).toBe(200);
    for (let i = 0; i < 100 && n3.cache.get('before', Date.now()) === undefined; i++) await new Promise((r) => setTimeout(r, 20));

    const free = statfsSync(mountPoint);
    writeFileSync(filler, Buffer.alloc(Math.max(0, free.bavail * free.bsize - 2_000_000)));
    const value = 'x'.repeat(10_000);
    let written = 0;
    for (; written < 3_000 && !n3.node.getState().storageFull; written++) expect((await put(leader.id, `k${written}`, value)).status).toBe(200);
    expect(n3.node.getState().storageFull).toBe(true);
    expect(full[0]).toMatchObject({ code: 'STORAGE_ERR_FULL' });

    // The full node: not ready, a write sent to it goes to the leader as from any follower (a full
    // leader answers 507 STORAGE_ERR_FULL: test/node/storage-full.test.ts), stale reads served.
    const redirected = await put('n3', 'redirected', 'x');
    expect(redirected.status).toBe(307);
    expect(redirected.headers.get('location')).toBe(`${peers[leader.id]!.client}/v1/kv/redirected`);
    const stale = await fetch(`${peers.n3!.client}/v1/kv/before?consistency=stale`);
    expect(stale.status).toBe(200);
    expect(await stale.text()).toBe('kept');
    expect((await fetch(`${peers.n3!.client}/health/ready`)).status).toBe(503);
    // The other two still commit.
    expect((await put(leader.id, 'meanwhile', 'yes')).status).toBe(200);

    rmSync(filler);
    for (let i = 0; i < 300 && (n3.node.getState().storageFull || n3.cache.get('meanwhile', Date.now()) === undefined); i++) await new Promise((r) => setTimeout(r, 50));
    expect(n3.node.getState().storageFull).toBe(false);
    expect(Buffer.from(n3.cache.get('meanwhile', Date.now())!).toString()).toBe('yes');
    expect(Buffer.from(n3.cache.get(`k${written - 1}`, Date.now())!).toString()).toBe(value);
  }, 60_000);
});
