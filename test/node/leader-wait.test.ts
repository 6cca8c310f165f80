/**
 * A request that arrives while no leader is known waits for the election's outcome
 * (`RaftNode.awaitLeader`, `KvService` with `leaderWaitMs`) instead of failing at once: served by
 * the winner, redirected to it elsewhere, and failed without a leader only after the wait.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../src/core/errors.js';
import { KvService } from '../../src/server/kv-service.js';
import { TestCluster } from './cluster-harness.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

/** Settles `promise` as a value or an error, without an unhandled rejection meanwhile. */
function outcome<T>(promise: Promise<T>): { settled: () => boolean; result: () => { value?: T; error?: unknown } } {
  let result: { value?: T; error?: unknown } | undefined;
  promise.then(
    (value) => (result = { value }),
    (error: unknown) => (result = { error }),
  );
  return { settled: () => result !== undefined, result: () => result! };
}

/** A 3-node cluster with its leader and one follower crashed: the last node, once it knows no leader (and never will). */
async function lastSurvivor(seed: number): Promise<{ c: TestCluster; last: string }> {
  const c = new TestCluster(['n1', 'n2', 'n3'], {}, seed);
  cluster = c; // stopped by afterEach
  await c.startAll();
  const first = await c.awaitLeader();
  const others = c.ids.filter((id) => id !== first);
  for (const id of [first, others[0]!]) await c.crash(id);
  const last = others[1]!;
  await c.runUntil(() => c.node(last).getLeader() === null, 2_000, `${last} to lose its leader`);
  return { c, last };
}

describe('RaftNode.awaitLeader', () => {
  it('answers at once while a leader is known', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], {}, 41);
    await cluster.startAll();
    const leader = await cluster.awaitLeader();
    await cluster.runUntil(() => cluster!.ids.every((id) => cluster!.node(id).getLeader() === leader), 1_000, 'every node to know the leader');
    for (const id of cluster.ids) {
      const waiting = outcome(cluster.node(id).awaitLeader(1_000));
      await Promise.resolve();
      await Promise.resolve();
      expect(waiting.settled()).toBe(true);
      expect(waiting.result().value).toBe(leader);
    }
  });

  it('resolves with the winner once an election ends, and with null after the timeout when none can', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], {}, 42);
    await cluster.startAll();
    const first = await cluster.awaitLeader();
    await cluster.crash(first);
    const survivor = cluster.ids.find((id) => id !== first)!;
    await cluster.runUntil(() => cluster!.node(survivor).getLeader() === null, 2_000, `${survivor} to lose its leader`);
    const waiting = outcome(cluster.node(survivor).awaitLeader(5_000));
    await cluster.runUntil(waiting.settled, 5_000, 'the wait to end');
    const winner = cluster.leader([first]);
    expect(winner).toBeDefined();
    expect(waiting.result().value).toBe(winner);

    // Now no quorum: the last node never learns of a leader, and hears so after its wait.
    await cluster.crash(winner!);
    const last = cluster.ids.find((id) => id !== first && id !== winner)!;
    await cluster.runUntil(() => cluster!.node(last).getLeader() === null, 2_000, `${last} to lose its leader`);
    const startedAt = cluster.clock.now();
    const hopeless = outcome(cluster.node(last).awaitLeader(700));
    await cluster.runUntil(hopeless.settled, 2_000, 'the hopeless wait to end');
    expect(hopeless.result().value).toBeNull();
    expect(cluster.clock.now() - startedAt).toBeGreaterThanOrEqual(700);
  });

  it('resolves with null when the node stops', async () => {
    const { c, last } = await lastSurvivor(43);
    const waiting = outcome(c.node(last).awaitLeader(60_000));
    await c.run(5);
    expect(waiting.settled()).toBe(false);
    await c.node(last).stop();
    await c.run(1);
    expect(waiting.result().value).toBeNull();
  });
});

describe('KvService during an election', () => {
  it('serves a write on the node that wins, redirects to it on the one that loses, never "no leader"', async () => {
    cluster = new TestCluster(['n1', 'n2', 'n3'], {}, 44);
    await cluster.startAll();
    const first = await cluster.awaitLeader();
    await cluster.crash(first);
    const survivors = cluster.ids.filter((id) => id !== first);
    // Each survivor gets a write the moment it knows no leader.
    const writes = new Map<string, ReturnType<typeof outcome>>();
    const bytes = new TextEncoder().encode('during the election');
    await cluster.runUntil(
      () => {
        for (const id of survivors) {
          if (!writes.has(id) && cluster!.node(id).getLeader() === null) {
            const kv = new KvService(cluster!.node(id), cluster!.cache(id), Date.now, 1_000);
            writes.set(id, outcome(kv.write({ op: 'set', key: `k-${id}`, value: bytes }, { clientId: `c-${id}`, sequence: 1 })));
          }
        }
        return cluster!.leader([first]) !== undefined && [...writes.values()].every((w) => w.settled());
      },
      5_000,
      'a new leader and every write to settle',
    );
    const winner = cluster.leader([first])!;
    expect(writes.size).toBeGreaterThan(0);
    for (const [id, write] of writes) {
      const { value, error } = write.result();
      if (id === winner) {
        expect(error).toBeUndefined();
        expect(value).toMatchObject({ ok: true });
      } else {
        expect(error).toBeInstanceOf(NotLeaderError);
        expect((error as NotLeaderError).leaderId).toBe(winner);
      }
    }
  });

  it('fails with no leader only after leaderWaitMs, and at once with leaderWaitMs 0', async () => {
    const { c, last } = await lastSurvivor(45);
    const request = { op: 'set' as const, key: 'k', value: new Uint8Array([1]) };

    const startedAt = c.clock.now();
    const waited = outcome(new KvService(c.node(last), c.cache(last), Date.now, 400).write(request));
    const read = outcome(new KvService(c.node(last), c.cache(last), Date.now, 400).get('k'));
    await c.runUntil(() => waited.settled() && read.settled(), 2_000, 'the waits to end');
    expect(c.clock.now() - startedAt).toBeGreaterThanOrEqual(400);
    for (const { error } of [waited.result(), read.result()]) {
      expect(error).toBeInstanceOf(NotLeaderError);
      expect((error as NotLeaderError).leaderId).toBeNull();
    }

    const atOnce = outcome(new KvService(c.node(last), c.cache(last), Date.now, 0).write(request));
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(atOnce.settled()).toBe(true);
    expect(atOnce.result().error).toBeInstanceOf(NotLeaderError);
  });
});

/** Collects what a callback is told, as `outcome` does for a promise. */
function told<T = unknown>(): { done: (error: Error | null, result?: T) => void; calls: { error: Error | null; result: T | undefined }[] } {
  const calls: { error: Error | null; result: T | undefined }[] = [];
  return { done: (error, result) => calls.push({ error, result }), calls };
}

/** A started 3-node cluster (in `cluster`) whose every node knows the leader, and a KvService on the leader. */
async function leaderKv(seed: number): Promise<{ c: TestCluster; leader: string; kv: KvService }> {
  const c = (cluster = new TestCluster(['n1', 'n2', 'n3'], {}, seed));
  await c.startAll();
  const leader = await c.awaitLeader();
  await c.runUntil(() => c.ids.every((id) => c.node(id).getLeader() === leader), 1_000, 'every node to know the leader');
  return { c, leader, kv: new KvService(c.node(leader), c.cache(leader), Date.now, 0) };
}

describe('KvService.writeThen (the WebSocket protocol’s write path)', () => {
  it('tells the result on the leader, and every failure through the callback, never by throwing', async () => {
    const { c, leader, kv } = await leaderKv(46);

    const ok = told();
    kv.writeThen({ op: 'set', key: 'k', value: new Uint8Array([1]) }, { clientId: 'c', sequence: 1 }, ok.done);
    await c.runUntil(() => ok.calls.length > 0, 2_000, 'the write');
    expect(ok.calls).toEqual([{ error: null, result: { ok: true, code: null, value: null } }]);

    const tooLarge = told();
    expect(() => kv.writeThen({ op: 'set', key: 'x'.repeat(2_000), value: new Uint8Array(1) }, { clientId: 'c', sequence: 2 }, tooLarge.done)).not.toThrow();
    expect(tooLarge.calls).toHaveLength(1);
    expect((tooLarge.calls[0]!.error as { code?: string }).code).toBe('CACHE_ERR_KEY_TOO_LARGE');

    const follower = c.ids.find((id) => id !== leader)!;
    const refused = told();
    new KvService(c.node(follower), c.cache(follower), Date.now, 0).writeThen({ op: 'delete', key: 'k' }, { clientId: 'c', sequence: 3 }, refused.done);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(refused.calls).toHaveLength(1);
    expect(refused.calls[0]!.error).toBeInstanceOf(NotLeaderError);
    expect((refused.calls[0]!.error as NotLeaderError).leaderId).toBe(leader);
  });

  it('waits out an election for leaderWaitMs, then tells NotLeaderError once', async () => {
    const { c, last } = await lastSurvivor(47);
    const waited = told();
    const startedAt = c.clock.now();
    new KvService(c.node(last), c.cache(last), Date.now, 400).writeThen({ op: 'set', key: 'k', value: new Uint8Array([1]) }, { clientId: 'c', sequence: 1 }, waited.done);
    await c.runUntil(() => waited.calls.length > 0, 2_000, 'the wait to end');
    expect(c.clock.now() - startedAt).toBeGreaterThanOrEqual(400);
    await c.run(100);
    expect(waited.calls).toHaveLength(1);
    expect(waited.calls[0]!.error).toBeInstanceOf(NotLeaderError);
  });
});

describe('KvService.getThen (the servers’ read path)', () => {
  it('tells the value at each consistency on the leader; a stale read at once; a follower NotLeaderError', async () => {
    const { c, leader, kv } = await leaderKv(48);
    const written = told();
    kv.writeThen({ op: 'set', key: 'g', value: new Uint8Array([7]) }, undefined, written.done);
    await c.runUntil(() => written.calls.length > 0, 2_000, 'the write');
    expect(written.calls[0]!.error).toBeNull();

    for (const consistency of ['linearizable', 'lease'] as const) {
      const read = told<Uint8Array>();
      kv.getThen('g', consistency, read.done);
      await c.runUntil(() => read.calls.length > 0, 2_000, `the ${consistency} read`);
      expect(read.calls).toEqual([{ error: null, result: new Uint8Array([7]) }]);
      const absent = told<Uint8Array>();
      kv.getThen('absent', consistency, absent.done);
      await c.runUntil(() => absent.calls.length > 0, 2_000, `the ${consistency} read of an absent key`);
      expect(absent.calls).toEqual([{ error: null, result: undefined }]);
    }

    const follower = c.ids.find((id) => id !== leader)!;
    const followerKv = new KvService(c.node(follower), c.cache(follower), Date.now, 0);
    const stale = told<Uint8Array>();
    followerKv.getThen('absent', 'stale', stale.done);
    expect(stale.calls).toEqual([{ error: null, result: undefined }]); // before getThen returned

    const refused = told<Uint8Array>();
    followerKv.getThen('g', 'linearizable', refused.done);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(refused.calls).toHaveLength(1);
    expect(refused.calls[0]!.error).toBeInstanceOf(NotLeaderError);
  });
});
