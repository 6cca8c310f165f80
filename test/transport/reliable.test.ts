import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/util/clock.js';
import { computeRetryDelays } from '../../src/resilience/index.js';
import { ConnectionLostError, NoAddressError, RemoteHandlerError, NetworkRetryExhaustedError } from '../../src/transport/errors.js';
import { InMemoryHub, InMemoryNetwork } from '../../src/transport/in-memory.js';
import { ReliableNetwork, attemptTimeoutMs } from '../../src/transport/reliable.js';
import { hasPeerAddressBook, type NetworkInterface, type RaftRpcHandlers, type RequestVoteResponse } from '../../src/transport/types.js';
import { describeConformance } from './conformance.js';

// The wrapper must not change what a healthy network does.
let created: NetworkInterface[] = [];
let hub = new InMemoryHub();
describeConformance('ReliableNetwork over InMemoryNetwork', {
  async create(ids, { timeoutMs }) {
    hub = new InMemoryHub({ seed: 3 });
    created = ids.map((id) => new ReliableNetwork(new InMemoryNetwork(id, { hub, timeout: timeoutMs }), { initialTimeout: timeoutMs, maxTimeout: timeoutMs, maxRetries: 2 }));
    for (const n of created) await n.start();
    return created;
  },
  addressOf: () => '127.0.0.1:1',
  ignoresAddresses: true,
  recreate(id, { timeoutMs }) {
    const n = new ReliableNetwork(new InMemoryNetwork(id, { hub, timeout: timeoutMs }), { initialTimeout: timeoutMs, maxTimeout: timeoutMs });
    created.push(n);
    return n;
  },
  async cleanup() {
    for (const n of created) await n.stop();
    created = [];
  },
  unknownTargetCode: 'TRANSPORT_ERR_TARGET_UNAVAILABLE',
  deadPeerCodes: ['TRANSPORT_ERR_TARGET_UNAVAILABLE'],
});

const vote = { term: 1, candidateId: 'n1', lastLogIndex: 0, lastLogTerm: 0 };
const granted: RequestVoteResponse = { type: 'RequestVoteResponse', from: 'n2', to: 'n1', term: 1, voteGranted: true, preVote: false };

/** A network whose answers are scripted per attempt: an Error rejects, 'hang' never settles, else resolves. */
class ScriptedNetwork implements NetworkInterface {
  attemptsAt: number[] = [];
  constructor(private readonly clock: VirtualClock, private readonly script: (attempt: number) => Error | 'hang' | 'ok') {}
  sendRequestVote(): Promise<RequestVoteResponse> {
    this.attemptsAt.push(this.clock.now());
    const step = this.script(this.attemptsAt.length);
    if (step === 'hang') return new Promise(() => {});
    if (step === 'ok') return Promise.resolve(granted);
    return Promise.reject(step);
  }
  sendAppendEntries(): never { throw new Error('unused'); }
  sendInstallSnapshot(): never { throw new Error('unused'); }
  sendTimeoutNow(): never { throw new Error('unused'); }
  registerHandlers(_h: RaftRpcHandlers): void {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

async function drain(clock: VirtualClock): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    await new Promise((r) => setImmediate(r));
    if (!clock.runNext()) return;
  }
  throw new Error('clock did not drain');
}

async function settle<T>(clock: VirtualClock, p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  const out = p.then((value) => ({ value }), (error: unknown) => ({ error }));
  await drain(clock);
  return out;
}

describe('ReliableNetwork retries (virtual clock)', () => {
  it('retries transient errors until one attempt succeeds', async () => {
    const clock = new VirtualClock();
    const inner = new ScriptedNetwork(clock, (n) => (n < 3 ? new ConnectionLostError('n2', 'reset') : 'ok'));
    const net = new ReliableNetwork(inner, { clock, maxRetries: 3, random: () => 0 });
    const { value } = await settle(clock, net.sendRequestVote('n2', vote));
    expect(value).toEqual(granted);
    expect(inner.attemptsAt.length).toBe(3);
  });

  it('times each attempt out with initialTimeout * multiplier^attempt capped at maxTimeout, and waits the backoff between', async () => {
    const clock = new VirtualClock();
    const inner = new ScriptedNetwork(clock, () => 'hang');
    const options = { clock, maxRetries: 4, initialTimeout: 100, maxTimeout: 300, backoffMultiplier: 2, retryDelay: 10, random: () => 0 };
    const net = new ReliableNetwork(inner, options);
    const { error } = await settle(clock, net.sendRequestVote('n2', vote));
    expect(error).toBeInstanceOf(NetworkRetryExhaustedError);
    expect((error as NetworkRetryExhaustedError).lastError).toMatchObject({ code: 'TRANSPORT_ERR_TIMEOUT' });
    expect((error as NetworkRetryExhaustedError).attempts).toBe(5);
    // Expected start of each attempt: previous start + its timeout + the executor's wait.
    const waits = computeRetryDelays({ maxRetries: 4, initialDelayMs: 10, maxDelayMs: 300, backoffMultiplier: 2, jitter: false });
    const expected = [0];
    for (let k = 0; k < 4; k++) expected.push(expected[k]! + attemptTimeoutMs(k, options) + waits[k]!);
    expect(inner.attemptsAt).toEqual(expected);
    expect(attemptTimeoutMs(3, options)).toBe(300);
  });

  it('never retries permanent errors and passes them on unchanged', async () => {
    const clock = new VirtualClock();
    for (const permanent of [new NoAddressError('n9'), new RemoteHandlerError('n2', 'boom')]) {
      const inner = new ScriptedNetwork(clock, () => permanent);
      const net = new ReliableNetwork(inner, { clock, maxRetries: 5 });
      const { error } = await settle(clock, net.sendRequestVote('n2', vote));
      expect(error).toBe(permanent);
      expect(inner.attemptsAt.length).toBe(1);
    }
  });

  it('honours retryOnTimeout and retryOnError', async () => {
    const clock = new VirtualClock();
    const hanging = new ScriptedNetwork(clock, () => 'hang');
    const noTimeoutRetry = new ReliableNetwork(hanging, { clock, initialTimeout: 50, retryOnTimeout: false });
    const first = await settle(clock, noTimeoutRetry.sendRequestVote('n2', vote));
    expect(first.error).toMatchObject({ code: 'TRANSPORT_ERR_TIMEOUT' });
    expect(hanging.attemptsAt.length).toBe(1);
    const failing = new ScriptedNetwork(clock, () => new ConnectionLostError('n2', 'refused'));
    const noErrorRetry = new ReliableNetwork(failing, { clock, retryOnError: false });
    const second = await settle(clock, noErrorRetry.sendRequestVote('n2', vote));
    expect(second.error).toMatchObject({ code: 'TRANSPORT_ERR_CONNECTION_LOST' });
    expect(failing.attemptsAt.length).toBe(1);
  });

  it('stop() ends pending retries at once with TRANSPORT_ERR_STOPPED', async () => {
    const clock = new VirtualClock();
    const inner = new ScriptedNetwork(clock, () => 'hang');
    const net = new ReliableNetwork(inner, { clock, maxRetries: 10, initialTimeout: 1000 });
    const pending = net.sendRequestVote('n2', vote).then(() => 'resolved', (e: { code: string }) => e.code);
    await new Promise((r) => setImmediate(r));
    await net.stop();
    expect(await pending).toBe('TRANSPORT_ERR_STOPPED');
  });

  it('holds many attempts in flight without a MaxListenersExceededWarning, and stop() still ends them all', async () => {
    // Each attempt listens on the stop signal until it settles; a busy peer has dozens in flight.
    // Node's leak heuristic warns past 10 listeners, which would tell users of a leak there isn't.
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const clock = new VirtualClock();
      const inner = new ScriptedNetwork(clock, () => 'hang');
      const net = new ReliableNetwork(inner, { clock, initialTimeout: 1000 });
      const pending = Array.from({ length: 64 }, () => net.sendRequestVote('n2', vote).then(() => 'resolved', (e: { code: string }) => e.code));
      await new Promise((r) => setImmediate(r));
      expect(inner.attemptsAt.length).toBe(64);
      await net.stop();
      expect(new Set(await Promise.all(pending))).toEqual(new Set(['TRANSPORT_ERR_STOPPED']));
      await new Promise((r) => setImmediate(r)); // warnings are emitted on a later tick
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('leaves no listener on the stop signal once its requests settle', async () => {
    // The warning above is lifted, so a real leak would go unnoticed without this check.
    const clock = new VirtualClock();
    const inner = new ScriptedNetwork(clock, (n) => (n <= 10 ? new ConnectionLostError('n2', 'reset') : 'ok'));
    const net = new ReliableNetwork(inner, { clock, maxRetries: 2, random: () => 0 });
    const results = await settle(clock, Promise.all(Array.from({ length: 40 }, () => net.sendRequestVote('n2', vote))));
    expect(results.value).toHaveLength(40);
    expect(inner.attemptsAt.length).toBe(50); // 10 of them retried
    const signal = (net as unknown as { stopController: AbortController }).stopController.signal;
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('rides out a partition on InMemoryNetwork that heals between attempts', async () => {
    const clock = new VirtualClock();
    const hub2 = new InMemoryHub({ clock, seed: 9 });
    const a = new InMemoryNetwork('n1', { hub: hub2, baseDelay: 1 });
    const b = new InMemoryNetwork('n2', { hub: hub2, baseDelay: 1 });
    b.registerHandlers({ onRequestVote: (r) => ({ term: r.term, voteGranted: true }), onAppendEntries: (r) => ({ term: r.term, success: true }), onInstallSnapshot: (r) => ({ term: r.term }) });
    await a.start();
    await b.start();
    const retries: number[] = [];
    const net = new ReliableNetwork(a, { clock, maxRetries: 5, retryDelay: 100, random: () => 0, onRetry: (_e, attempt) => { retries.push(attempt); if (attempt === 2) hub2.healPartition('n1', 'n2'); } });
    hub2.partition('n1', 'n2');
    const { value } = await settle(clock, net.sendRequestVote('n2', vote));
    expect(value).toMatchObject({ voteGranted: true });
    expect(retries).toEqual([1, 2]);
    await a.stop();
    await b.stop();
  });

  it('is a PeerAddressBook exactly when the network it wraps is one', () => {
    const clock = new VirtualClock();
    expect(hasPeerAddressBook(new ReliableNetwork(new ScriptedNetwork(clock, () => 'ok'), { clock }))).toBe(false);
    const book = new ReliableNetwork(new InMemoryNetwork('n1', { hub: new InMemoryHub({ clock }) }), { clock });
    expect(hasPeerAddressBook(book)).toBe(true);
  });
});
