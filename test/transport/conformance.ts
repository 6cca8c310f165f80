/**
 * The conformance suite every NetworkInterface passes (in-memory, reliable, HTTP, uWebSockets.js).
 * A harness says how to make started networks that can reach each other, and which error codes its
 * transport documents for an unknown and for a dead peer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RaftwireError } from '../../src/core/errors.js';
import type { AppendEntriesRequest, Entry, InstallSnapshotRequest, RequestVoteRequest, TimeoutNowRequest } from '../../src/core/types.js';
import type { PeerAddress } from '../../src/transport/addresses.js';
import { hasPeerAddressBook, type NetworkInterface, type RaftRpcHandlers } from '../../src/transport/types.js';
import { isTransportError } from '../../src/transport/errors.js';

export interface ConformanceHarness {
  /**
   * Started networks for `ids`, each knowing the others' addresses, except that network `id`
   * does not know those listed in `withoutAddresses[id]`.
   */
  create(ids: string[], options: { timeoutMs: number; withoutAddresses?: Record<string, string[]> }): Promise<NetworkInterface[]>;
  /** The address `id` listens at (after `create`), as `setNodeAddress` takes it. */
  addressOf(id: string): PeerAddress;
  /** Resolves once `n` has a connection to `peer`, for transports that connect (absent: nothing to wait for). */
  waitConnected?(n: NetworkInterface, peer: string): Promise<void>;
  /** True when the transport accepts and ignores addresses (in-memory: nodes are reached by id). */
  ignoresAddresses?: boolean;
  /** A fresh network for `id` at the address it had in the last `create` (not started). */
  recreate(id: string, options: { timeoutMs: number }): NetworkInterface;
  /** Stops everything created; called after each test. */
  cleanup(): Promise<void>;
  /** Code for a target the network has never heard of. */
  unknownTargetCode: string;
  /** Codes a request to a stopped peer may fail with. */
  deadPeerCodes: string[];
}

/** Bytes with a recognisable pattern, so a swapped or shifted payload is caught. */
export function patternBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (x ^ (x << 13)) >>> 0; x = (x ^ (x >>> 17)) >>> 0; x = (x ^ (x << 5)) >>> 0;
    out[i] = x & 0xff;
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Handlers that answer plausibly and record what arrived. */
export function echoHandlers(seen: { votes: RequestVoteRequest[]; appends: AppendEntriesRequest[]; snapshots: InstallSnapshotRequest[]; timeouts: TimeoutNowRequest[] }): RaftRpcHandlers {
  return {
    onRequestVote: (req) => {
      seen.votes.push(req);
      return { term: req.term, voteGranted: req.lastLogIndex % 2 === 0 };
    },
    onAppendEntries: (req) => {
      // Copy what we keep: a transport may hand out views into a receive buffer it reuses.
      seen.appends.push({ ...req, entries: req.entries.map((e) => ({ ...e, data: Uint8Array.from(e.data) })) });
      return { term: req.term, success: true, lastLogIndex: req.prevLogIndex + req.entries.length, context: req.context };
    },
    onInstallSnapshot: (req) => {
      seen.snapshots.push({ ...req, data: Uint8Array.from(req.data) });
      return { term: req.term, success: true, bytesReceived: req.offset + req.data.length };
    },
    onTimeoutNow: (req) => {
      seen.timeouts.push(req);
    },
  };
}

function newSeen() {
  return { votes: [] as RequestVoteRequest[], appends: [] as AppendEntriesRequest[], snapshots: [] as InstallSnapshotRequest[], timeouts: [] as TimeoutNowRequest[] };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, it resolved');
}

function entriesOf(count: number, size: number, firstIndex: number): Entry[] {
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    entries.push({ index: firstIndex + i, term: 3, type: i === 5 ? 'confChange' : 'normal', data: patternBytes(i === 0 ? 0 : size, firstIndex + i) });
  }
  return entries;
}

/** Runs the conformance suite for one transport. */
export function describeConformance(name: string, harness: ConformanceHarness, timeoutMs = 3000): void {
  describe(`${name}: NetworkInterface conformance`, () => {
    afterEach(async () => {
      await harness.cleanup();
    });

    it('RequestVote round-trips from the paper-only shape and answers with the full core response', async () => {
      const [a, b] = await harness.create(['n1', 'n2'], { timeoutMs });
      const seen = newSeen();
      b!.registerHandlers(echoHandlers(seen));
      const res = await a!.sendRequestVote('n2', { term: 7, candidateId: 'n1', lastLogIndex: 12, lastLogTerm: 6 });
      expect(res).toEqual({ type: 'RequestVoteResponse', from: 'n2', to: 'n1', term: 7, voteGranted: true, preVote: false });
      expect(seen.votes).toEqual([
        { type: 'RequestVote', from: 'n1', to: 'n2', term: 7, candidateId: 'n1', lastLogIndex: 12, lastLogTerm: 6, preVote: false, leadershipTransfer: false },
      ]);
      const pre = await a!.sendRequestVote('n2', { term: 8, candidateId: 'n1', lastLogIndex: 13, lastLogTerm: 6, preVote: true });
      expect(pre.preVote).toBe(true);
      expect(pre.voteGranted).toBe(false);
    });

    it('AppendEntries carries 64 entries with their bytes intact, and empty heartbeats', async () => {
      const [a, b] = await harness.create(['n1', 'n2'], { timeoutMs });
      const seen = newSeen();
      b!.registerHandlers(echoHandlers(seen));
      const entries = entriesOf(64, 100, 41);
      const res = await a!.sendAppendEntries('n2', { term: 3, leaderId: 'n1', prevLogIndex: 40, prevLogTerm: 2, entries, leaderCommit: 39, context: 5 });
      expect(res).toMatchObject({ type: 'AppendEntriesResponse', from: 'n2', to: 'n1', term: 3, success: true, lastLogIndex: 104, context: 5 });
      const got = seen.appends[0]!;
      expect(got.entries.length).toBe(64);
      for (let i = 0; i < 64; i++) {
        expect(got.entries[i]!.index).toBe(41 + i);
        expect(got.entries[i]!.type).toBe(entries[i]!.type);
        expect(sameBytes(got.entries[i]!.data, entries[i]!.data)).toBe(true);
      }
      const beat = await a!.sendAppendEntries('n2', { term: 3, leaderId: 'n1', prevLogIndex: 104, prevLogTerm: 3, entries: [], leaderCommit: 104 });
      expect(beat).toMatchObject({ success: true, lastLogIndex: 104, context: 0 });
      expect(seen.appends[1]!.entries).toEqual([]);
    });

    it('full core messages (what RaftNode sends) arrive as they were sent; a wrong `to` is set to the target', async () => {
      const [a, b] = await harness.create(['n1', 'n2'], { timeoutMs });
      const seen = newSeen();
      b!.registerHandlers(echoHandlers(seen));
      const append: AppendEntriesRequest = { type: 'AppendEntries', from: 'n1', to: 'n2', term: 5, leaderId: 'n1', prevLogIndex: 9, prevLogTerm: 4, entries: entriesOf(3, 10, 10), leaderCommit: 8, context: 3 };
      await a!.sendAppendEntries('n2', append);
      expect(seen.appends[0]).toEqual(append);
      await a!.sendAppendEntries('n2', { ...append, to: 'elsewhere' });
      expect(seen.appends[1]!.to).toBe('n2');
      const vote: RequestVoteRequest = { type: 'RequestVote', from: 'n1', to: 'n2', term: 6, candidateId: 'n1', lastLogIndex: 12, lastLogTerm: 5, preVote: true, leadershipTransfer: true };
      await a!.sendRequestVote('n2', vote);
      expect(seen.votes[0]).toEqual(vote);
      await a!.sendRequestVote('n2', { ...vote, to: 'elsewhere' });
      expect(seen.votes[1]!.to).toBe('n2');
    });

    it('InstallSnapshot carries empty and 4 MiB chunks with their bytes intact', async () => {
      const [a, b] = await harness.create(['n1', 'n2'], { timeoutMs });
      const seen = newSeen();
      b!.registerHandlers(echoHandlers(seen));
      const config = { voters: ['n1', 'n2', 'n3'], learners: ['n4'] };
      const empty = await a!.sendInstallSnapshot('n2', { term: 4, leaderId: 'n1', lastIncludedIndex: 100, lastIncludedTerm: 3, offset: 0, data: new Uint8Array(0), done: false, config });
      expect(empty).toEqual({ type: 'InstallSnapshotResponse', from: 'n2', to: 'n1', term: 4, lastIncludedIndex: 100, bytesReceived: 0, success: true });
      const big = patternBytes(4 * 1024 * 1024, 9);
      const res = await a!.sendInstallSnapshot('n2', { term: 4, leaderId: 'n1', lastIncludedIndex: 100, lastIncludedTerm: 3, offset: 0, data: big, done: true, config });
      expect(res.bytesReceived).toBe(big.length);
      expect(seen.snapshots[0]!.data.length).toBe(0);
      expect(seen.snapshots[1]!.config).toEqual(config);
      expect(seen.snapshots[1]!.done).toBe(true);
      expect(sameBytes(seen.snapshots[1]!.data, big)).toBe(true);
    });

    it('TimeoutNow reaches the handler; without one it fails as a handler error', async () => {
      const [a, b] = await harness.create(['n1', 'n2'], { timeoutMs });
      const seen = newSeen();
      b!.registerHandlers(echoHandlers(seen));
      await a!.sendTimeoutNow('n2', { term: 9, leaderId: 'n1' });
      expect(seen.timeouts).toEqual([{ type: 'TimeoutNow', from: 'n1', to: 'n2', term: 9, leaderId: 'n1' }]);
      const { onTimeoutNow: _unused, ...withoutTimeoutNow } = echoHandlers(seen);
      b!.registerHandlers(withoutTimeoutNow);
      const error = await rejection(a!.sendTimeoutNow('n2', { term: 9, leaderId: 'n1' }));
      expect(isTransportError(error) && error.code).toBe('TRANSPORT_ERR_HANDLER');
    });

    it('matches many concurrent requests, in both directions, to their own answers', async () => {
      const [a, b] = await harness.create(['n1', 'n2'], { timeoutMs });
      const slowEcho = (id: string): RaftRpcHandlers => ({
        onRequestVote: async (req) => ({ term: req.term, voteGranted: id === 'n2' }),
        onAppendEntries: async (req) => {
          // Answer out of order: later requests often finish first.
          if (req.term % 3 === 0) await new Promise((r) => setTimeout(r, req.term % 7));
          return { term: req.term, success: true, lastLogIndex: req.prevLogIndex * 2, conflictTerm: req.entries.length };
        },
        onInstallSnapshot: async (req) => ({ term: req.term, bytesReceived: req.data.length }),
      });
      a!.registerHandlers(slowEcho('n1'));
      b!.registerHandlers(slowEcho('n2'));
      const count = 200;
      const calls: Promise<void>[] = [];
      for (let i = 1; i <= count; i++) {
        const [from, to, target] = i % 2 === 0 ? [a!, 'n1', 'n2'] : [b!, 'n2', 'n1'];
        const entries = entriesOf(i % 4, 10, i * 10);
        calls.push(
          from.sendAppendEntries(target, { term: i, leaderId: to, prevLogIndex: i + 1000, prevLogTerm: 1, entries, leaderCommit: 0 }).then((res) => {
            expect(res.term).toBe(i);
            expect(res.lastLogIndex).toBe((i + 1000) * 2);
            expect(res.conflictTerm).toBe(i % 4);
            expect(res.from).toBe(target);
          }),
        );
      }
      await Promise.all(calls);
    });

    it("a handler's error comes back as TRANSPORT_ERR_HANDLER with the remote code, and the node keeps serving", async () => {
      const [a, b] = await harness.create(['n1', 'n2'], { timeoutMs });
      const seen = newSeen();
      b!.registerHandlers({
        ...echoHandlers(seen),
        onAppendEntries: () => {
          throw new RaftwireError('RAFT_ERR_TEST', 'log is on fire');
        },
        onInstallSnapshot: async () => Promise.reject(new Error('disk full')),
      });
      const error = await rejection(a!.sendAppendEntries('n2', { term: 1, leaderId: 'n1', prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0 }));
      expect(isTransportError(error)).toBe(true);
      expect((error as RaftwireError).code).toBe('TRANSPORT_ERR_HANDLER');
      expect((error as { remoteCode?: string }).remoteCode).toBe('RAFT_ERR_TEST');
      expect((error as Error).message).toContain('log is on fire');
      const error2 = await rejection(a!.sendInstallSnapshot('n2', { term: 1, leaderId: 'n1', lastIncludedIndex: 1, lastIncludedTerm: 1, offset: 0, data: new Uint8Array(3), done: true }));
      expect((error2 as RaftwireError).code).toBe('TRANSPORT_ERR_HANDLER');
      expect((error2 as Error).message).toContain('disk full');
      const vote = await a!.sendRequestVote('n2', { term: 2, candidateId: 'n1', lastLogIndex: 0, lastLogTerm: 0 });
      expect(vote.voteGranted).toBe(true);
    });

    it('stop() fails what is in flight at once and frees the address for a new network', async () => {
      const [a, b] = await harness.create(['n1', 'n2'], { timeoutMs: 60_000 });
      const seen = newSeen();
      let arrived!: () => void;
      const handlerReached = new Promise<void>((r) => (arrived = r));
      b!.registerHandlers({ ...echoHandlers(seen), onRequestVote: () => { arrived(); return new Promise(() => {}); } });
      a!.registerHandlers(echoHandlers(seen));
      const inflight = a!.sendRequestVote('n2', { term: 1, candidateId: 'n1', lastLogIndex: 0, lastLogTerm: 0 });
      const settled = rejection(inflight);
      await handlerReached;
      await a!.stop();
      const error = await settled;
      expect((error as RaftwireError).code).toBe('TRANSPORT_ERR_STOPPED');
      const afterStop = await rejection(a!.sendRequestVote('n2', { term: 1, candidateId: 'n1', lastLogIndex: 0, lastLogTerm: 0 }));
      expect((afterStop as RaftwireError).code).toBe('TRANSPORT_ERR_STOPPED');

      const again = harness.recreate('n1', { timeoutMs });
      again.registerHandlers(echoHandlers(seen));
      await again.start();
      await harness.waitConnected?.(b!, 'n1');
      const res = await b!.sendRequestVote('n1', { term: 5, candidateId: 'n2', lastLogIndex: 2, lastLogTerm: 1 });
      expect(res).toMatchObject({ from: 'n1', to: 'n2', voteGranted: true });
      await again.stop();
    });

    it("the receiver's stop() fails the sender's requests waiting on it with a transient error", async () => {
      const [a, b] = await harness.create(['n1', 'n2'], { timeoutMs: 60_000 });
      let arrived!: () => void;
      const handlerReached = new Promise<void>((r) => (arrived = r));
      b!.registerHandlers({ ...echoHandlers(newSeen()), onAppendEntries: () => { arrived(); return new Promise(() => {}); } });
      const settled = rejection(a!.sendAppendEntries('n2', { term: 1, leaderId: 'n1', prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0 }));
      await handlerReached;
      await b!.stop();
      const error = await settled;
      // Transient (a retrying wrapper may instead end on the dead-peer error of its next attempt).
      expect(isTransportError(error)).toBe(true);
      expect((error as { transient: boolean }).transient || harness.deadPeerCodes.includes((error as RaftwireError).code)).toBe(true);
    });

    it('a dead peer gives the documented transient error within the timeout', async () => {
      const [a, b] = await harness.create(['n1', 'n2'], { timeoutMs });
      await b!.stop();
      const error = await rejection(a!.sendRequestVote('n2', { term: 1, candidateId: 'n1', lastLogIndex: 0, lastLogTerm: 0 }));
      expect(harness.deadPeerCodes).toContain((error as RaftwireError).code);
    });

    it('PeerAddressBook: a network started without a peer\'s address reaches it once setNodeAddress gives it', async () => {
      const [a, b] = await harness.create(['n1', 'n2'], { timeoutMs, withoutAddresses: { n1: ['n2'] } });
      b!.registerHandlers(echoHandlers(newSeen()));
      expect(hasPeerAddressBook(a!)).toBe(true);
      if (!hasPeerAddressBook(a!)) return;
      const vote = { term: 1, candidateId: 'n1', lastLogIndex: 0, lastLogTerm: 0 };
      if (!harness.ignoresAddresses) {
        const before = await rejection(a!.sendRequestVote('n2', vote));
        expect((before as RaftwireError).code).toBe('TRANSPORT_ERR_NO_ADDRESS');
      }
      a!.setNodeAddress('n2', harness.addressOf('n2'));
      const res = await a!.sendRequestVote('n2', vote);
      expect(res).toMatchObject({ from: 'n2', to: 'n1', voteGranted: true });
      // Setting the same address again changes nothing.
      a!.setNodeAddress('n2', harness.addressOf('n2'));
      expect((await a!.sendRequestVote('n2', { ...vote, term: 2 })).term).toBe(2);
    });

    it('PeerAddressBook: removeNodeAddress fails requests in flight at once, later ones with NoAddressError; setting it again reconnects', async () => {
      const [a, b] = await harness.create(['n1', 'n2'], { timeoutMs: 60_000 });
      let arrived!: () => void;
      const handlerReached = new Promise<void>((r) => (arrived = r));
      let hang = true;
      b!.registerHandlers({
        ...echoHandlers(newSeen()),
        onAppendEntries: (req) => {
          if (!hang) return { term: req.term, success: true };
          arrived();
          return new Promise(() => {});
        },
      });
      expect(hasPeerAddressBook(a!)).toBe(true);
      if (!hasPeerAddressBook(a!)) return;
      const beat = { term: 1, leaderId: 'n1', prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0 };
      if (harness.ignoresAddresses) {
        hang = false;
        a!.removeNodeAddress('n2');
        expect((await a!.sendAppendEntries('n2', beat)).success).toBe(true);
        return;
      }
      const settled = rejection(a!.sendAppendEntries('n2', beat));
      await handlerReached;
      a!.removeNodeAddress('n2');
      const error = await settled;
      // Transient (a retrying wrapper retries it, and its next attempt finds no address).
      expect(isTransportError(error)).toBe(true);
      expect((error as { transient: boolean }).transient || (error as RaftwireError).code === 'TRANSPORT_ERR_NO_ADDRESS').toBe(true);
      const later = await rejection(a!.sendAppendEntries('n2', beat));
      expect((later as RaftwireError).code).toBe('TRANSPORT_ERR_NO_ADDRESS');
      hang = false;
      a!.setNodeAddress('n2', harness.addressOf('n2'));
      expect((await a!.sendAppendEntries('n2', beat)).success).toBe(true);
    });

    it('an unknown target gives its documented error', async () => {
      const [a] = await harness.create(['n1', 'n2'], { timeoutMs });
      const error = await rejection(a!.sendRequestVote('nobody', { term: 1, candidateId: 'n1', lastLogIndex: 0, lastLogTerm: 0 }));
      expect((error as RaftwireError).code).toBe(harness.unknownTargetCode);
      expect((error as Error).message).toContain('nobody');
    });
  });
}
