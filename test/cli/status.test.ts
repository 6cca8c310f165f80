import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { type ClusterView, type MemberStatus, renderStatus, statusCommand } from '../../src/cli/status.js';
import { type CacheNodeHandle, startCacheNode } from '../../src/server/index.js';
import { freePorts } from '../support/ports.js';

const members: ClusterView['members'] = ['n1', 'n2', 'n3'].map((id, i) => ({ id, role: 'voter', endpoints: { raft: `h:${7001 + i}`, client: `http://h:${8001 + i}` } }));

function view(id: string, over: Partial<ClusterView> = {}): ClusterView {
  return { id, role: 'follower', term: 4, leaderId: 'n2', commitIndex: 10, appliedIndex: 10, firstIndex: 1, lastIndex: 10, progress: null, members, ...over };
}
const leaderView = view('n2', { role: 'leader', progress: { n1: { matchIndex: 10, nextIndex: 11, state: 'replicate' }, n3: { matchIndex: 7, nextIndex: 8, state: 'probe' } } });
const row = (id: string, v: ClusterView | undefined, error?: string): MemberStatus => ({ id, membership: 'voter', client: `http://h:${8000 + Number(id.slice(1))}`, view: v, error });

describe('raftwire status: the verdict', () => {
  it('healthy: everyone answered, one term, one leader that leads; the leader’s match index per member', () => {
    const { text, healthy } = renderStatus(view('n1'), [row('n1', view('n1')), row('n2', leaderView), row('n3', view('n3'))]);
    expect(healthy).toBe(true);
    expect(text).toContain('healthy: 3 members, leader n2 in term 4');
    expect(text).toMatch(/n3 +follower +4 +n2 +10 +10 +1\.\.10 +7 \(probe\)/);
    expect(text).toMatch(/n2 +leader .* leader +http:\/\/h:8002/);
  });

  it('a member that does not answer: named, with what the leader knows of it, exit code 1', () => {
    const { text, healthy } = renderStatus(view('n1'), [row('n1', view('n1')), row('n2', leaderView), row('n3', undefined, 'unreachable (CLIENT_ERR_UNREACHABLE)')]);
    expect(healthy).toBe(false);
    expect(text).toContain('NOT healthy: no answer from n3');
    expect(text).toMatch(/n3 +voter .*7 \(probe\) +http:\/\/h:8003 +unreachable \(CLIENT_ERR_UNREACHABLE\)/);
  });

  it('members following different leaders, or none, or a leader that does not lead, are not healthy', () => {
    const split = renderStatus(view('n1'), [row('n1', view('n1', { leaderId: 'n1', role: 'leader', term: 5 })), row('n2', leaderView), row('n3', view('n3'))]);
    expect(split.healthy).toBe(false);
    expect(split.text).toContain('members disagree on the leader or the term');
    const none = renderStatus(view('n1'), ['n1', 'n2', 'n3'].map((id) => row(id, view(id, { leaderId: null }))));
    expect(none.text).toContain('NOT healthy: no leader');
    const stale = renderStatus(view('n1'), ['n1', 'n2', 'n3'].map((id) => row(id, view(id))));
    expect(stale.text).toContain('NOT healthy: n2 is followed but does not lead');
  });

  it('a member sitting out a full disk is not healthy', () => {
    const { text, healthy } = renderStatus(view('n1'), [row('n1', view('n1', { storageFull: true })), row('n2', leaderView), row('n3', view('n3'))]);
    expect(healthy).toBe(false);
    expect(text).toContain('follower (disk full)');
    expect(text).toContain('NOT healthy: disk full on n1');
  });
});

describe('raftwire status against a running cluster', () => {
  const dataRoot = mkdtempSync(join(tmpdir(), 'raftwire-status-'));
  const nodes: CacheNodeHandle[] = [];
  afterEach(() => vi.restoreAllMocks());
  afterAll(async () => {
    for (const node of nodes) await node.stop();
    rmSync(dataRoot, { recursive: true, force: true });
  });

  it('asks every member for itself: exit 0 when healthy, 1 with the stopped member named', async () => {
    const ports = await freePorts(6);
    const peers = Object.fromEntries(['n1', 'n2', 'n3'].map((id, i) => [id, { raft: `127.0.0.1:${ports[i]}`, client: `http://127.0.0.1:${ports[i + 3]}` }]));
    const raft = { electionTimeoutMinMs: 300, electionTimeoutMaxMs: 600, heartbeatIntervalMs: 50 };
    for (const id of Object.keys(peers)) nodes.push(await startCacheNode({ id, peers, dataDir: join(dataRoot, id), raft, authToken: 'tok' }));
    const endpoints = Object.values(peers).map((p) => p.client).join(',');
    const run = async (...args: string[]) => {
      const lines: string[] = [];
      const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
      const code = await statusCommand(['--endpoints', endpoints, '--auth-token', 'tok', ...args]);
      log.mockRestore();
      return { code, text: lines.join('\n') };
    };
    await vi.waitFor(async () => expect((await run()).code).toBe(0), { timeout: 15_000, interval: 100 });
    expect((await run()).text).toMatch(/healthy: 3 members, leader n\d in term \d+/);
    expect(JSON.parse((await run('--json')).text)).toMatchObject({ id: 'n1', members: expect.any(Array) });

    const follower = nodes.find((node) => !node.node.isLeader() && node.id !== 'n1')!;
    await follower.stop();
    nodes.splice(nodes.indexOf(follower), 1);
    const down = await run('--timeout', '500');
    expect(down.code).toBe(1);
    expect(down.text).toContain(`NOT healthy: no answer from ${follower.id}`);
  }, 30_000);
});
