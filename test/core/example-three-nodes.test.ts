/**
 * The example of docs/core.md, kept runnable: three RawNodes in one process, driven by hand
 * through the tick / step / ready / advance loop, with memory storage and an instant network.
 */
import { expect, it } from 'vitest';
import { RawNode, type Entry, type HardState, type Message, type Snapshot } from '../../src/core/index.js';
import { Prng } from '../../src/util/prng.js';

// --- example start ---
const ids = ['n1', 'n2', 'n3'];

/** What each node made durable: exactly what a restart would rebuild it from. */
interface Disk { hardState: HardState; snapshot: Snapshot | null; entries: Entry[] }

const disks = new Map<string, Disk>();
const nodes = new Map<string, RawNode>();
const applied = new Map<string, string[]>();
for (const id of ids) {
  const prng = new Prng(ids.indexOf(id) + 1); // the only source of randomness: election timeouts
  const disk: Disk = { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] };
  disks.set(id, disk);
  applied.set(id, []);
  nodes.set(id, new RawNode({ id, random: () => prng.next() }, { ...disk, config: { voters: ids, learners: [] } }));
}

let network: Message[] = [];

/** One Ready of one node, handled in the order ready.ts prescribes. */
function handleReady(id: string): void {
  const node = nodes.get(id)!;
  const disk = disks.get(id)!;
  const rd = node.ready();
  // 1. Persist snapshot, entries (truncating a conflicting suffix), hard state.
  if (rd.snapshot !== null) {
    disk.snapshot = rd.snapshot;
    disk.entries = []; // the log restarts after a snapshot from the leader
  }
  if (rd.entries.length > 0) {
    disk.entries = disk.entries.filter((e) => e.index < rd.entries[0].index).concat(rd.entries);
  }
  if (rd.hardState !== null) disk.hardState = rd.hardState;
  // 2. Send messages (here: queue them on the instant network).
  network.push(...rd.messages);
  // 3. Apply committed entries (empty ones are the no-ops new leaders append).
  for (const entry of rd.committedEntries) {
    if (entry.type === 'normal' && entry.data.length > 0) applied.get(id)!.push(new TextDecoder().decode(entry.data));
  }
  // 5. Acknowledge.
  node.advance();
}

/** Handles every Ready and delivers every message until nothing moves. */
function stabilize(): void {
  for (let busy = true; busy; ) {
    busy = false;
    for (const id of ids) {
      while (nodes.get(id)!.hasReady()) {
        handleReady(id);
        busy = true;
      }
    }
    const inFlight = network;
    network = [];
    for (const m of inFlight) nodes.get(m.to)!.step(m);
    busy ||= inFlight.length > 0;
  }
}

// Time passes in ticks (10 ms each by default) until someone wins an election.
let leader: RawNode | undefined;
while (leader === undefined) {
  for (const node of nodes.values()) node.tick();
  stabilize();
  leader = [...nodes.values()].find((n) => n.status().role === 'leader');
}

// Proposals made in one turn travel together: that is the batching.
for (const word of ['alpha', 'beta', 'gamma']) leader.propose(new TextEncoder().encode(word));
stabilize();
// Followers learn the new commit index with the next append or heartbeat.
for (let i = 0; i < 5; i++) {
  for (const node of nodes.values()) node.tick();
  stabilize();
}
// --- example end ---

it('the docs/core.md example replicates and applies the same entries on every node', () => {
  for (const id of ids) expect(applied.get(id)).toEqual(['alpha', 'beta', 'gamma']);
  const leaders = [...nodes.values()].filter((n) => n.status().role === 'leader');
  expect(leaders.length).toBe(1);
  // A restart from disk alone gives back the same log.
  const follower = ids.find((id) => nodes.get(id) !== leaders[0])!;
  const again = new RawNode({ id: follower, random: () => 0.5 }, { ...disks.get(follower)!, config: { voters: ids, learners: [] } });
  expect(again.status().lastIndex).toBe(nodes.get(follower)!.status().lastIndex);
});
