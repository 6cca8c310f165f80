import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessCluster } from './process-cluster.js';

// Real processes, real sockets (uWS), real disks (LMDB): the main job, under kill -9; with the
// default Ready processing and with asynchronous storage writes.
for (const writes of ['sync', 'async']) describe(`a 3-process cluster (--storage-writes ${writes})`, () => {
  const cluster = new ProcessCluster(['n1', 'n2', 'n3'], ['--snapshot-threshold', '40', '--election-timeout', '300-600', '--heartbeat', '50', '--storage-writes', writes]);
  beforeAll(async () => {
    await cluster.init();
    cluster.startAll();
  });
  afterAll(() => cluster.stopAll());

  it('serves writes and linearizable reads, survives kill -9 of its leader, and a restarted node catches up through a snapshot', async () => {
    const first = await cluster.awaitLeader();
    const client = cluster.client();
    const acknowledged = new Map<string, string>();
    for (let i = 0; i < 60; i++) {
      await client.put(`k${i}`, `v${i}`);
      acknowledged.set(`k${i}`, `v${i}`);
    }
    // Linearizable reads through a follower's endpoint (redirected to the leader).
    const follower = cluster.ids.find((id) => id !== first)!;
    const viaFollower = cluster.client([follower]);
    for (let i = 0; i < 60; i += 7) expect(await viaFollower.getText(`k${i}`)).toBe(`v${i}`);

    const killedAt = await cluster.status(first);
    await cluster.kill(first);
    const survivors = cluster.ids.filter((id) => id !== first);
    const second = await cluster.awaitLeader(survivors);
    expect(second).not.toBe(first);
    const survivorsClient = cluster.client(survivors);
    for (let i = 60; i < 160; i++) {
      await survivorsClient.put(`k${i}`, `v${i}`);
      acknowledged.set(`k${i}`, `v${i}`);
    }
    for (const [key, value] of acknowledged) if (Number(key.slice(1)) % 10 === 0) expect(await survivorsClient.getText(key)).toBe(value);

    // The new leader compacted past everything the dead node had: it can only catch up from a snapshot.
    const leaderStatus = await cluster.status(second);
    expect(leaderStatus.firstIndex).toBeGreaterThan(killedAt.lastIndex + 1);

    cluster.start(first);
    const deadline = Date.now() + 20_000;
    let caughtUp = false;
    while (!caughtUp && Date.now() < deadline) {
      try {
        caughtUp = (await cluster.status(first)).appliedIndex >= leaderStatus.commitIndex;
      } catch {
        // still starting
      }
      if (!caughtUp) await new Promise((r) => setTimeout(r, 100));
    }
    expect(caughtUp).toBe(true);
    // Every acknowledged write is on every node, read locally (stale) so each node answers for itself.
    for (const id of cluster.ids) {
      const local = cluster.client([id]);
      for (const [key, value] of acknowledged) expect(await local.getText(key, 'stale'), `${key} on ${id}`).toBe(value);
    }
  }, 120_000);

  it('a follower answers stale reads itself and sends linearizable ones to the leader', async () => {
    const leader = await cluster.awaitLeader();
    const follower = cluster.ids.find((id) => id !== leader)!;
    await cluster.client().put('consistency', 'checked');
    const url = `${cluster.peers[follower]!.client}/v1/kv/consistency`;
    let stale: Response | undefined;
    for (let i = 0; i < 50; i++) {
      stale = await fetch(`${url}?consistency=stale`, { redirect: 'manual' });
      if (stale.status === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(stale!.status).toBe(200);
    expect(await stale!.text()).toBe('checked');
    for (const consistency of ['linearizable', 'lease']) {
      const redirected = await fetch(`${url}?consistency=${consistency}`, { redirect: 'manual' });
      expect(redirected.status).toBe(307);
      expect(redirected.headers.get('location')).toBe(`${cluster.peers[leader]!.client}/v1/kv/consistency?consistency=${consistency}`);
    }
  }, 60_000);
});
