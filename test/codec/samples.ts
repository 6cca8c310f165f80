// One hand-picked message of every wire type, shared by the golden vectors and the unit tests.
import type { WireMessage } from '../../src/codec/index.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

export const SAMPLES: Record<string, WireMessage> = {
  requestVote: { type: 'RequestVote', from: 'n1', to: 'n2', term: 5, candidateId: 'n1', lastLogIndex: 41, lastLogTerm: 4, preVote: true, leadershipTransfer: false },
  requestVoteResponse: { type: 'RequestVoteResponse', from: 'n2', to: 'n1', term: 5, voteGranted: true, preVote: true },
  appendEntriesHeartbeat: { type: 'AppendEntries', from: 'n1', to: 'n3', term: 6, leaderId: 'n1', prevLogIndex: 100, prevLogTerm: 6, entries: [], leaderCommit: 99, context: 12 },
  appendEntries: {
    type: 'AppendEntries', from: 'leader-ü', to: 'n3', term: 2 ** 53 - 1, leaderId: 'leader-ü', prevLogIndex: 2 ** 32 + 7, prevLogTerm: 2 ** 40,
    entries: [
      { index: 2 ** 32 + 8, term: 2 ** 40, type: 'normal', data: new Uint8Array(0) },
      { index: 2 ** 32 + 9, term: 2 ** 40, type: 'normal', data: bytes('set a=1') },
      { index: 2 ** 32 + 10, term: 2 ** 40, type: 'confChange', data: new Uint8Array([1, 2, 0, 255]) },
    ],
    leaderCommit: 2 ** 32 + 8, context: 0,
  },
  appendEntriesResponseReject: { type: 'AppendEntriesResponse', from: 'n3', to: 'n1', term: 6, success: false, lastLogIndex: 90, conflictIndex: 85, conflictTerm: 4, context: 12 },
  appendEntriesResponseOk: { type: 'AppendEntriesResponse', from: 'n3', to: 'n1', term: 6, success: true, lastLogIndex: 103, conflictIndex: 0, conflictTerm: 0, context: 0 },
  installSnapshot: {
    type: 'InstallSnapshot', from: 'n1', to: 'n4', term: 9, leaderId: 'n1', lastIncludedIndex: 5000, lastIncludedTerm: 8, offset: 65536,
    data: bytes('snapshot chunk'), done: true, config: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] },
  },
  installSnapshotResponse: { type: 'InstallSnapshotResponse', from: 'n4', to: 'n1', term: 9, lastIncludedIndex: 5000, bytesReceived: 65550, success: true },
  timeoutNow: { type: 'TimeoutNow', from: 'n1', to: 'n2', term: 9, leaderId: 'n1' },
  clientGet: { type: 'ClientRequest', op: 'get', key: 'user:42', value: null, expected: null, ttlMs: 0, clientId: 'c-1', sequence: 0 },
  clientCas: { type: 'ClientRequest', op: 'cas', key: 'k', value: bytes('new'), expected: bytes('old'), ttlMs: 30000, clientId: 'c-1', sequence: 17 },
  clientReplyOk: { type: 'ClientReply', status: 'ok', code: '', value: bytes('v'), leaderHint: null },
  clientReplyNotLeader: { type: 'ClientReply', status: 'notLeader', code: 'RAFT_ERR_NOT_LEADER', value: null, leaderHint: 'n2' },
  task: { type: 'TaskEnvelope', taskId: 't-1', taskType: 'resize', payload: bytes('{"w":64}'), priority: 3, deadlineMs: 1_763_700_000_000, timeoutMs: 30_000, attempt: 1 },
  result: { type: 'ResultEnvelope', taskId: 't-1', status: 'failed', result: new Uint8Array(0), error: 'out of memory' },
};
