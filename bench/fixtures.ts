/**
 * Messages the benchmarks send: the same bytes in every suite that measures them.
 *
 * @example
 * ```ts
 * appendEntriesRequest(64, 'n1', 'n2'); // 64 entries of 100 bytes
 * ```
 */
import type { AppendEntriesRequest, Entry } from '../src/core/types.js';

/** An AppendEntries with `count` entries of 100 bytes (0: a heartbeat), from `from` to `to`. */
export function appendEntriesRequest(count: number, from: string, to: string): AppendEntriesRequest {
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const data = new Uint8Array(100);
    for (let k = 0; k < data.length; k++) data[k] = (i * 31 + k * 7) & 0xff;
    entries.push({ index: 1_000_000 + i, term: 42, type: 'normal', data });
  }
  return { type: 'AppendEntries', from, to, term: 42, leaderId: from, prevLogIndex: 999_999, prevLogTerm: 42, entries, leaderCommit: 999_990, context: 0 };
}
