import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RaftwireClient, RaftwireClientError } from '../../src/client/index.js';
import { type CacheNodeHandle, type PeerEndpoints, startCacheNode } from '../../src/server/index.js';
import { freePorts } from '../support/ports.js';

// The membership API on in-process nodes: GET/POST /v1/cluster/members, DELETE /v1/cluster/members/:id.
// Both transports learn addresses at run time; uWS dials by id order, so joiners exercise both sides.
for (const transport of ['uws', 'http'] as const) {
  const raft = { electionTimeoutMinMs: 300, electionTimeoutMaxMs: 600, heartbeatIntervalMs: 50 };
  const dataRoot = mkdtempSync(join(tmpdir(), 'raftwire-members-'));
  const nodes = new Map<string, CacheNodeHandle>();
  let peers: Record<string, PeerEndpoints>;
  let leader: CacheNodeHandle;
  let follower: CacheNodeHandle;

  async function waitForLeader(among: CacheNodeHandle[]): Promise<CacheNodeHandle> {
    for (let i = 0; i < 400; i++) {
      const found = among.find((n) => n.node.isLeader());
      if (found && among.every((n) => n.node.getLeader() === found.id)) return found;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('no leader elected');
  }

  const url = (id: string, path: string) => `${peers[id]!.client}${path}`;
  const post = (id: string, body: unknown, query = '') =>
    fetch(url(id, `/v1/cluster/members${query}`), { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), redirect: 'manual' });
  const del = (id: string, member: string) => fetch(url(id, `/v1/cluster/members/${member}`), { method: 'DELETE', redirect: 'manual' });

  beforeAll(async () => {
    const ports = await freePorts(10);
    peers = Object.fromEntries(['n1', 'n2', 'n3', 'n4', 'n5'].map((id, i) => [id, { raft: `127.0.0.1:${ports[i]}`, client: `http://127.0.0.1:${ports[i + 5]}` }]));
    const initial = { n1: peers.n1!, n2: peers.n2!, n3: peers.n3! };
    for (const id of Object.keys(initial)) nodes.set(id, await startCacheNode({ id, peers: initial, dataDir: join(dataRoot, id), transport, raft }));
    leader = await waitForLeader([...nodes.values()]);
    follower = [...nodes.values()].find((n) => n !== leader)!;
  });

  afterAll(async () => {
    for (const n of nodes.values()) await n.stop();
    rmSync(dataRoot, { recursive: true, force: true });
  });

  describe(`membership API (${transport} transport)`, () => {
    it('lists the members with their roles and endpoints', async () => {
      const response = await fetch(url(follower.id, '/v1/cluster/members'));
      expect(response.status).toBe(200);
      const body = (await response.json()) as { leaderId: string; members: { id: string; role: string; endpoints: PeerEndpoints }[] };
      expect(body.leaderId).toBe(leader.id);
      expect(body.members.map((m) => `${m.id}:${m.role}`).sort()).toEqual(['n1:voter', 'n2:voter', 'n3:voter']);
      expect(body.members.find((m) => m.id === 'n2')!.endpoints).toEqual(peers.n2);
    });

    it('a follower redirects a change to the leader, keeping the path', async () => {
      const response = await post(follower.id, { id: 'n4', raft: peers.n4!.raft, client: peers.n4!.client });
      expect(response.status).toBe(307);
      expect(response.headers.get('location')).toBe(url(leader.id, '/v1/cluster/members'));
    });

    it('refuses malformed requests with 400 and a code, changing nothing', async () => {
      for (const body of ['not json', { raft: '127.0.0.1:1' }, { id: 'n9' }, { id: 'n9', raft: 'x'.repeat(600) }, { id: 'n9', raft: 7 }]) {
        const response = await post(leader.id, body);
        expect(response.status, JSON.stringify(body)).toBe(400);
        expect(((await response.json()) as { code: string }).code).toMatch(/^(HTTP_ERR_BAD_REQUEST|RAFT_ERR_INVALID_CONFIG)$/);
      }
      expect(leader.node.getState().config.voters.sort()).toEqual(['n1', 'n2', 'n3']);
    });

    it('removing a non-member succeeds without a change (idempotent)', async () => {
      const lastIndex = leader.node.getState().lastIndex;
      const response = await del(leader.id, 'n9');
      expect(response.status).toBe(200);
      expect(((await response.json()) as { config: { voters: string[] } }).config.voters.sort()).toEqual(['n1', 'n2', 'n3']);
      expect(leader.node.getState().lastIndex).toBe(lastIndex);
    });

    it('adds a node started with join, which learns the configuration from the log; removing it stops it', async () => {
      let removed = false;
      // Told every member's address but no configuration: it must not count votes from its flags.
      const n4 = await startCacheNode({ id: 'n4', peers: { n1: peers.n1!, n2: peers.n2!, n3: peers.n3!, n4: peers.n4! }, join: true, dataDir: join(dataRoot, 'n4'), transport, raft, onRemoved: () => (removed = true) });
      nodes.set('n4', n4);
      const added = await post(leader.id, { id: 'n4', raft: peers.n4!.raft, client: peers.n4!.client });
      expect(added.status).toBe(200);
      expect(((await added.json()) as { config: { voters: string[] } }).config.voters.sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
      expect(n4.node.getState().config.voters.sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
      for (let i = 0; i < 200 && n4.node.getMembers().length < 4; i++) await new Promise((r) => setTimeout(r, 25));
      expect(n4.node.getMembers().map((m) => `${m.id}:${m.role}:${m.endpoints?.client}`).sort()).toEqual(['n1', 'n2', 'n3', 'n4'].map((id) => `${id}:voter:${peers[id]!.client}`));

      const response = await del(leader.id, 'n4');
      expect(response.status).toBe(200);
      for (let i = 0; i < 200 && !removed; i++) await new Promise((r) => setTimeout(r, 25));
      expect(removed).toBe(true);
      expect(n4.node.isRemoved()).toBe(true);
    });

    it('RaftwireClient lists members, removes idempotently, and reports a timed-out add once, typed', async () => {
      const client = new RaftwireClient({ endpoints: [peers[follower.id]!.client], timeoutMs: 2_000 });
      const listed = await client.members();
      expect(listed.leaderId).toBe(leader.id);
      expect(listed.members.map((m) => m.id).sort()).toEqual(['n1', 'n2', 'n3']);
      expect((await client.removeMember('n9')).voters.sort()).toEqual(['n1', 'n2', 'n3']);
      const failed = await client.addMember('n5', { raft: peers.n5!.raft }, { timeoutMs: 300 }).catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(RaftwireClientError);
      expect(failed).toMatchObject({ code: 'RAFT_ERR_MEMBERSHIP_TIMEOUT', status: 504, transient: false }); // not retried: the leader already waited
      expect((await client.removeMember('n5')).learners).toEqual([]);
    });

    it('a node that never answers: 504 with RAFT_ERR_MEMBERSHIP_TIMEOUT; it stays a learner until removed', async () => {
      const response = await post(leader.id, { id: 'n5', raft: peers.n5!.raft, client: peers.n5!.client }, '?timeoutMs=400');
      expect(response.status).toBe(504);
      expect(((await response.json()) as { code: string }).code).toBe('RAFT_ERR_MEMBERSHIP_TIMEOUT');
      expect(leader.node.getState().config.learners).toEqual(['n5']);
      expect((await del(leader.id, 'n5')).status).toBe(200);
      expect(leader.node.getState().config.learners).toEqual([]);
    });
  });
}
