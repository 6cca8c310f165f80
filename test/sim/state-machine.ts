/**
 * The simulated state machine: it folds every applied entry into a running hash, so two nodes
 * that applied the same entries in the same order hold the same value, and a snapshot is just
 * (appliedIndex, appliedTerm, hash, writes). It also tracks the cluster configuration the applied
 * conf changes describe, which the caller must put in a snapshot's metadata.
 */
import { decodeConfChange } from '../../src/core/index.js';
import type { ClusterConfig, Entry, Snapshot } from '../../src/core/types.js';

const snapshotBytes = 24;

export class SimStateMachine {
  appliedIndex = 0;
  appliedTerm = 0;
  /** FNV-1a style hash of every applied (index, term, type, data), in order. */
  hash = 0x811c9dc5;
  /** Number of applied non-empty normal entries (client writes). */
  writes = 0;
  config: ClusterConfig;

  constructor(config: ClusterConfig) {
    this.config = { voters: config.voters.slice(), learners: config.learners.slice() };
  }

  static fromSnapshot(snapshot: Snapshot): SimStateMachine {
    const sm = new SimStateMachine(snapshot.meta.config);
    sm.restore(snapshot);
    return sm;
  }

  apply(entry: Entry): void {
    let h = this.hash;
    h = mix(h, entry.index);
    h = mix(h, entry.term);
    h = mix(h, entry.type === 'normal' ? 1 : 2);
    const data = entry.data;
    for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i]!, 0x01000193) >>> 0;
    this.hash = h;
    this.appliedIndex = entry.index;
    this.appliedTerm = entry.term;
    if (entry.type === 'confChange') this.applyConfChange(entry);
    else if (data.length > 0) this.writes++;
  }

  private applyConfChange(entry: Entry): void {
    this.config = withConfChange(this.config, entry);
  }

  snapshotData(): Uint8Array {
    const bytes = new Uint8Array(snapshotBytes);
    const view = new DataView(bytes.buffer);
    view.setFloat64(0, this.appliedIndex);
    view.setFloat64(8, this.appliedTerm);
    view.setUint32(16, this.hash);
    view.setUint32(20, this.writes);
    return bytes;
  }

  /** Takes a snapshot of the applied state (the caller hands it to the core). */
  takeSnapshot(): Snapshot {
    return {
      meta: {
        lastIncludedIndex: this.appliedIndex,
        lastIncludedTerm: this.appliedTerm,
        config: { voters: this.config.voters.slice(), learners: this.config.learners.slice() },
      },
      data: this.snapshotData(),
    };
  }

  restore(snapshot: Snapshot): void {
    const data = snapshot.data;
    if (data.length !== snapshotBytes) {
      throw new Error(`snapshot data is ${data.length} bytes, expected ${snapshotBytes} (chunks lost or reassembled wrongly?)`);
    }
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const index = view.getFloat64(0);
    const term = view.getFloat64(8);
    if (index !== snapshot.meta.lastIncludedIndex || term !== snapshot.meta.lastIncludedTerm) {
      throw new Error(
        `snapshot data is for (${index}, term ${term}) but its meta says (${snapshot.meta.lastIncludedIndex}, term ${snapshot.meta.lastIncludedTerm})`,
      );
    }
    this.appliedIndex = index;
    this.appliedTerm = term;
    this.hash = view.getUint32(16);
    this.writes = view.getUint32(20);
    const c = snapshot.meta.config;
    this.config = { voters: c.voters.slice(), learners: c.learners.slice() };
  }
}

/** The configuration after a `confChange` entry (the simulator's own reading, independent of the core's). */
export function withConfChange(config: ClusterConfig, entry: Entry): ClusterConfig {
  const change = decodeConfChange(entry.data);
  const voters = config.voters.filter((id) => id !== change.nodeId);
  const learners = config.learners.filter((id) => id !== change.nodeId);
  switch (change.type) {
    case 'addVoter':
    case 'promoteLearner':
      voters.push(change.nodeId);
      break;
    case 'addLearner':
      learners.push(change.nodeId);
      break;
    case 'removeNode':
      break;
  }
  return { voters, learners };
}

/**
 * The configuration a node's durable state describes when a change takes effect on append
 * (docs/membership.md): the last `confChange` entry of the log, else the snapshot's, else `initial`.
 */
export function configOfLog(snapshot: Snapshot | null, entries: readonly Entry[], initial: ClusterConfig): ClusterConfig {
  let config = snapshot?.meta.config ?? initial;
  for (const e of entries) if (e.type === 'confChange') config = withConfChange(config, e);
  return config;
}

export function sameConfig(a: ClusterConfig, b: ClusterConfig): boolean {
  const key = (ids: readonly string[]): string => [...ids].sort().join(',');
  return key(a.voters) === key(b.voters) && key(a.learners) === key(b.learners);
}

function mix(h: number, n: number): number {
  h = Math.imul(h ^ (n & 0xffff), 0x01000193) >>> 0;
  h = Math.imul(h ^ ((n / 65536) & 0xffff), 0x01000193) >>> 0;
  return Math.imul(h ^ Math.floor(n / 4294967296), 0x01000193) >>> 0;
}
