/** Readable descriptions of messages and simulator events, for violation dumps. */
import type { Message } from '../../src/core/types.js';
import type { SimNetwork } from './network.js';
import type { SimNode } from './sim-node.js';

export interface TraceEvent {
  n: number;
  at: number;
  kind: string;
  what: Message | string;
}

export function formatTrace(e: TraceEvent): string {
  const what = typeof e.what === 'string' ? e.what : describeMessage(e.what);
  return `#${e.n} t=${e.at} ${e.kind} ${what}`;
}

export function describeMessage(m: Message): string {
  const head = `${m.type} ${m.from}->${m.to} t${m.term}`;
  switch (m.type) {
    case 'RequestVote':
      return `${head}${m.preVote ? ' pre' : ''}${m.leadershipTransfer ? ' transfer' : ''} last ${m.lastLogIndex}@${m.lastLogTerm}`;
    case 'RequestVoteResponse':
      return `${head}${m.preVote ? ' pre' : ''} ${m.voteGranted ? 'granted' : 'rejected'}`;
    case 'AppendEntries': {
      const es = m.entries;
      const range = es.length === 0 ? 'heartbeat' : `${es[0]!.index}..${es[es.length - 1]!.index}`;
      return `${head} prev ${m.prevLogIndex}@${m.prevLogTerm} ${range} commit ${m.leaderCommit}${m.context ? ` ctx ${m.context}` : ''}`;
    }
    case 'AppendEntriesResponse':
      return `${head} ${m.success ? 'ok' : `reject (conflict ${m.conflictIndex}@${m.conflictTerm})`} last ${m.lastLogIndex}${m.context ? ` ctx ${m.context}` : ''}`;
    case 'InstallSnapshot':
      return `${head} snap ${m.lastIncludedIndex}@${m.lastIncludedTerm} offset ${m.offset} ${m.data.length}B${m.done ? ' done' : ''}`;
    case 'InstallSnapshotResponse':
      return `${head} snap ${m.lastIncludedIndex} got ${m.bytesReceived}B ${m.success ? 'ok' : 'fail'}`;
    case 'TimeoutNow':
      return head;
  }
}

/** The last `capacity` events, oldest first on read. */
export class TraceRing {
  private readonly events: TraceEvent[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  record(event: TraceEvent): void {
    if (this.events.length < this.capacity) this.events.push(event);
    else this.events[this.next] = event;
    this.next = (this.next + 1) % this.capacity;
  }

  ordered(): TraceEvent[] {
    return this.events.length < this.capacity ? this.events.slice() : [...this.events.slice(this.next), ...this.events.slice(0, this.next)];
  }
}

/** What a violation report shows: every node's durable and volatile state, then the last events. */
export function dumpCluster(
  cluster: { nowMs: number; events: number; network: SimNetwork; nodes: Map<string, SimNode> },
  trace: readonly TraceEvent[],
): string {
  const lines: string[] = [];
  lines.push(`  virtual time ${cluster.nowMs} ms, event ${cluster.events}, ${cluster.network.inFlight()} messages in flight`);
  lines.push(`  network: ${JSON.stringify(cluster.network.profile)}; blocked links: ${cluster.network.describePartitions()}`);
  for (const node of cluster.nodes.values()) {
    const d = node.durable;
    const hs = d.hardState;
    const tail: string[] = [];
    for (let i = Math.max(d.snapshotIndex() + 1, d.lastIndex() - 7); i <= d.lastIndex(); i++) tail.push(`${i}@${d.termAt(i)}`);
    lines.push(
      `  ${node.id}: ${node.up ? (node.paused ? `${node.role} (PAUSED)` : node.role) : 'DOWN'} term ${hs.term} vote ${hs.vote} commit ${hs.commit}` +
        ` applied ${node.sm?.appliedIndex ?? '-'} leader ${node.leaderId} snap ${d.snapshotIndex()}@${d.snapshotTerm()}` +
        ` log (${d.snapshotIndex()}, ${d.lastIndex()}] tail [${tail.join(' ')}]`,
    );
  }
  lines.push(`  last ${trace.length} events:`);
  for (const e of trace) lines.push(`    ${formatTrace(e)}`);
  return lines.join('\n');
}
