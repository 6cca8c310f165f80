/**
 * Structural checks of an incoming message, made before it touches any state (the gateway of
 * "validate at the gateway, trust inside"). The codec already guarantees the field types and
 * integer ranges; this checks the relations between fields that the protocol code relies on.
 *
 * @module
 */
import { InvalidMessageError } from './errors.js';
import type { Message } from './types.js';

const ok = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

/** Throws {@link InvalidMessageError} when `m` cannot come from a correct peer. */
export function validateMessage(m: Message): void {
  if (!ok(m.term)) throw new InvalidMessageError(`${m.type} from ${m.from}: term ${m.term} is not a non-negative integer`);
  switch (m.type) {
    case 'AppendEntries': {
      if (!ok(m.prevLogIndex) || !ok(m.prevLogTerm) || !ok(m.leaderCommit) || !ok(m.context)) {
        throw new InvalidMessageError(`AppendEntries from ${m.from}: an index or term is not a non-negative integer`);
      }
      if (m.prevLogTerm > m.term) throw new InvalidMessageError(`AppendEntries from ${m.from}: prevLogTerm ${m.prevLogTerm} above term ${m.term}`);
      let previousTerm = m.prevLogTerm;
      for (let k = 0; k < m.entries.length; k++) {
        const e = m.entries[k];
        if (e.index !== m.prevLogIndex + 1 + k || !ok(e.term) || e.term < previousTerm || e.term > m.term) {
          throw new InvalidMessageError(
            `AppendEntries from ${m.from}: entry ${k} is ${e.index}@${e.term}, expected index ${m.prevLogIndex + 1 + k} and a term in [${previousTerm}, ${m.term}]`,
          );
        }
        if ((e.type !== 'normal' && e.type !== 'confChange') || !(e.data instanceof Uint8Array)) {
          throw new InvalidMessageError(`AppendEntries from ${m.from}: entry ${e.index} has a bad type or data`);
        }
        previousTerm = e.term;
      }
      return;
    }
    case 'InstallSnapshot':
      if (!ok(m.lastIncludedIndex) || !ok(m.lastIncludedTerm) || !ok(m.offset) || m.lastIncludedTerm > m.term) {
        throw new InvalidMessageError(`InstallSnapshot from ${m.from}: bad index, term or offset`);
      }
      if (!(m.data instanceof Uint8Array) || !Array.isArray(m.config?.voters) || !Array.isArray(m.config?.learners)) {
        throw new InvalidMessageError(`InstallSnapshot from ${m.from}: bad data or config`);
      }
      return;
    case 'RequestVote':
      if (!ok(m.lastLogIndex) || !ok(m.lastLogTerm) || m.lastLogTerm > m.term) {
        throw new InvalidMessageError(`RequestVote from ${m.from}: last log ${m.lastLogIndex}@${m.lastLogTerm} impossible in term ${m.term}`);
      }
      return;
    case 'AppendEntriesResponse':
      if (!ok(m.lastLogIndex) || !ok(m.conflictIndex) || !ok(m.conflictTerm) || !ok(m.context)) {
        throw new InvalidMessageError(`AppendEntriesResponse from ${m.from}: an index or term is not a non-negative integer`);
      }
      return;
    case 'InstallSnapshotResponse':
      if (!ok(m.lastIncludedIndex) || !ok(m.bytesReceived)) throw new InvalidMessageError(`InstallSnapshotResponse from ${m.from}: bad index or byte count`);
      return;
    case 'RequestVoteResponse':
    case 'TimeoutNow':
      return;
    default:
      throw new InvalidMessageError(`unknown message type ${JSON.stringify((m as { type: unknown }).type)}`);
  }
}
