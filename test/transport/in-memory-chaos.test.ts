import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/util/clock.js';
import { InMemoryHub, InMemoryNetwork } from '../../src/transport/in-memory.js';
import type { RaftRpcHandlers } from '../../src/transport/types.js';
import type { RaftwireError } from '../../src/core/errors.js';
import { ReliableNetwork } from '../../src/transport/reliable.js';

const vote = { term: 1, candidateId: 'n1', lastLogIndex: 0, lastLogTerm: 0 };

function counting(): { handlers: RaftRpcHandlers; calls: { votes: number } } {
  const calls = { votes: 0 };
  return {
    calls,
    handlers: {
      onRequestVote: (req) => { calls.votes++; return { term: req.term, voteGranted: true }; },
      onAppendEntries: (req) => ({ term: req.term, success: true }),
      onInstallSnapshot: (req) => ({ term: req.term }),
    },
  };
}

/** Runs the virtual clock until nothing is pending (bounded, so a bug cannot spin forever). */
async function drain(clock: VirtualClock): Promise<void> {
  for (let i = 0; i < 100_000; i++) {
    await new Promise((r) => setImmediate(r));
    if (!clock.runNext()) {
      await new Promise((r) => setImmediate(r));
      if (clock.pendingTimers() === 0) return;
    }
  }
  throw new Error('virtual clock did not drain');
}

async function cluster(ids: string[], hubOptions: ConstructorParameters<typeof InMemoryHub>[0], netOptions: { baseDelay?: number; jitter?: number; dropRate?: number; timeout?: number } = {}) {
  const clock = new VirtualClock();
  const hub = new InMemoryHub({ clock, ...hubOptions });
  const nets = ids.map((id) => new InMemoryNetwork(id, { hub, ...netOptions }));
  const calls = nets.map((net) => {
    const c = counting();
    net.registerHandlers(c.handlers);
    return c.calls;
  });
  for (const net of nets) await net.start();
  return { clock, hub, nets, calls };
}

type Outcome = string;
async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as RaftwireError).code;
  }
}

describe('InMemoryNetwork under faults (virtual clock)', () => {
  afterEach(() => {
    InMemoryHub.resetDefault();
  });

  it('a two-way partition fails both directions with the documented message until healed', async () => {
    const { nets, clock } = await cluster(['n1', 'n2', 'n3'], { seed: 1 }, { baseDelay: 2 });
    const [n1, n2, n3] = nets as [InMemoryNetwork, InMemoryNetwork, InMemoryNetwork];
    n1.partition('n1', 'n2');
    await expect(n1.sendRequestVote('n2', vote)).rejects.toThrow('Network partition between n1 and n2');
    await expect(n2.sendRequestVote('n1', { ...vote, candidateId: 'n2' })).rejects.toMatchObject({ code: 'TRANSPORT_ERR_PARTITION', transient: true });
    const viaN3 = n1.sendRequestVote('n3', vote);
    await drain(clock);
    await expect(viaN3).resolves.toMatchObject({ voteGranted: true });
    n1.healPartition('n2');
    const healed = n1.sendRequestVote('n2', vote);
    await drain(clock);
    await expect(healed).resolves.toMatchObject({ from: 'n2' });
    void n3;
  });

  it('a one-way partition loses only one direction', async () => {
    const { nets, hub, clock } = await cluster(['n1', 'n2'], { seed: 2 }, { baseDelay: 1 });
    hub.partitionOneWay('n1', 'n2');
    await expect(nets[0]!.sendRequestVote('n2', vote)).rejects.toMatchObject({ code: 'TRANSPORT_ERR_PARTITION' });
    const back = outcome(nets[1]!.sendRequestVote('n1', { ...vote, candidateId: 'n2' }));
    // n2 -> n1 request flows; n1's answer to n2 flows too (only n1 -> n2 requests are checked at send,
    // but the answer leg n1 -> n2 is also cut, so it is lost and the caller times out).
    await drain(clock);
    expect(await back).toBe('TRANSPORT_ERR_TIMEOUT');
  });

  it('static failNode/recoverNode act on the default hub with the documented message', async () => {
    const n1 = new InMemoryNetwork('n1');
    const n2 = new InMemoryNetwork('n2');
    n2.registerHandlers(counting().handlers);
    await n1.start();
    await n2.start();
    InMemoryNetwork.failNode('n2');
    await expect(n1.sendRequestVote('n2', vote)).rejects.toThrow('Node n2 is failed');
    InMemoryNetwork.recoverNode('n2');
    await expect(n1.sendRequestVote('n2', vote)).resolves.toMatchObject({ voteGranted: true });
    await expect(n1.sendRequestVote('n9', vote)).rejects.toThrow('Target node n9 not available');
    await n1.stop();
    await n2.stop();
  });

  it('drops make requests time out, every request settles, and a seed replays the same outcomes', async () => {
    const run = async (seed: number): Promise<Outcome[]> => {
      const { nets, clock } = await cluster(['n1', 'n2'], { seed }, { baseDelay: 3, jitter: 5, dropRate: 0.3, timeout: 100 });
      const outcomes = Array.from({ length: 200 }, () => outcome(nets[0]!.sendRequestVote('n2', vote)));
      await drain(clock);
      const result = await Promise.all(outcomes);
      for (const net of nets) await net.stop();
      return result;
    };
    const first = await run(42);
    expect(first.length).toBe(200);
    const timeouts = first.filter((o) => o === 'TRANSPORT_ERR_TIMEOUT').length;
    const ok = first.filter((o) => o === 'ok').length;
    expect(ok + timeouts).toBe(200);
    // Each leg drops with p = 0.3, so about half of the round trips fail: far from 0 and from 200.
    expect(timeouts).toBeGreaterThan(40);
    expect(ok).toBeGreaterThan(40);
    expect(await run(42)).toEqual(first);
    expect(await run(43)).not.toEqual(first);
  });

  it('duplicates deliver a request more than once but settle each call exactly once', async () => {
    const { nets, calls, clock } = await cluster(['n1', 'n2'], { seed: 5, duplicateRate: 0.5, reorderRate: 0.5, reorderDelayMaxMs: 20 }, { baseDelay: 1 });
    const results = Array.from({ length: 100 }, (_, i) => nets[0]!.sendRequestVote('n2', { ...vote, term: i + 1 }));
    await drain(clock);
    const responses = await Promise.all(results);
    responses.forEach((res, i) => expect(res.term).toBe(i + 1));
    expect(calls[1]!.votes).toBeGreaterThan(100);
  });

  it('a crash while a request is on the wire loses it: the caller times out, nothing hangs', async () => {
    const { nets, hub, clock } = await cluster(['n1', 'n2'], { seed: 3 }, { baseDelay: 50, timeout: 200 });
    const pending = outcome(nets[0]!.sendRequestVote('n2', vote));
    clock.advance(10);
    hub.failNode('n2');
    clock.advance(300);
    expect(await pending).toBe('TRANSPORT_ERR_TIMEOUT');
    hub.recoverNode('n2');
    const after = outcome(nets[0]!.sendRequestVote('n2', vote));
    await drain(clock);
    expect(await after).toBe('ok');
  });

  it('reordering lets later requests overtake earlier ones', async () => {
    const { nets, clock } = await cluster(['n1', 'n2'], { seed: 8, reorderRate: 0.5, reorderDelayMaxMs: 30 }, { baseDelay: 1 });
    const arrived: number[] = [];
    nets[1]!.registerHandlers({ ...counting().handlers, onRequestVote: (req) => { arrived.push(req.term); return { term: req.term, voteGranted: true }; } });
    const calls = Array.from({ length: 50 }, (_, i) => nets[0]!.sendRequestVote('n2', { ...vote, term: i + 1 }));
    await drain(clock);
    await Promise.all(calls);
    expect([...arrived].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(arrived).not.toEqual([...arrived].sort((a, b) => a - b));
  });

  it('ReliableNetwork over a lossy link turns most timeouts into answers, within its retry budget', async () => {
    const run = async (reliable: boolean): Promise<Outcome[]> => {
      const { nets, clock } = await cluster(['n1', 'n2'], { seed: 21 }, { baseDelay: 2, jitter: 3, dropRate: 0.3, timeout: 10_000 });
      const attempts: number[] = [];
      const sender = reliable
        ? new ReliableNetwork(nets[0]!, { clock, maxRetries: 4, initialTimeout: 50, maxTimeout: 200, retryDelay: 10, random: () => 0.5, onRetry: (_e, attempt) => attempts.push(attempt) })
        : nets[0]!;
      const calls = Array.from({ length: 100 }, () => outcome(sender.sendRequestVote('n2', vote)));
      await drain(clock);
      const result = await Promise.all(calls);
      if (reliable) expect(Math.max(...attempts)).toBeLessThanOrEqual(4);
      for (const net of nets) await net.stop();
      return result;
    };
    const plain = await run(false);
    const retried = await run(true);
    const ok = (o: Outcome[]): number => o.filter((x) => x === 'ok').length;
    // Each attempt survives both legs with p = 0.49; five attempts fail together with p < 0.04.
    expect(ok(plain)).toBeLessThan(70);
    expect(ok(retried)).toBeGreaterThan(90);
    for (const o of retried) expect(['ok', 'TRANSPORT_ERR_RETRY_EXHAUSTED']).toContain(o);
  });
});
