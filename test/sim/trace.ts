/** Readable descriptions of messages and simulator events, for violation dumps. */
import type { Message } from '../../src/core/types.js';

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
