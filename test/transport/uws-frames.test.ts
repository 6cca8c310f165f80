import { describe, expect, it } from 'vitest';
import { encodeFrame, type WireMessage } from '../../src/codec/index.js';
import type { AppendEntriesRequest } from '../../src/core/types.js';
import { forEachFrame } from '../../src/transport/uws/frames.js';

const append: AppendEntriesRequest = {
  type: 'AppendEntries', from: 'n1', to: 'n2', term: 3, leaderId: 'n1', prevLogIndex: 7, prevLogTerm: 2,
  entries: [{ index: 8, term: 3, type: 'normal', data: Uint8Array.of(1, 2, 3) }], leaderCommit: 6, context: 0,
};
const vote: WireMessage = { type: 'RequestVote', from: 'n1', to: 'n2', term: 4, candidateId: 'n1', lastLogIndex: 8, lastLogTerm: 3, preVote: true, leadershipTransfer: false };

function concat(...frames: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) { out.set(f, at); at += f.length; }
  return out;
}

describe('forEachFrame', () => {
  it('delivers every frame of a batch in order with its request id', () => {
    const bytes = concat(encodeFrame(vote, 1), encodeFrame(append, 2), encodeFrame(vote, 3));
    const seen: [string, number][] = [];
    expect(forEachFrame(bytes, true, (m, id) => seen.push([m.type, id]))).toBeUndefined();
    expect(seen).toEqual([['RequestVote', 1], ['AppendEntries', 2], ['RequestVote', 3]]);
  });

  it('copies frames with payload views out of a borrowed buffer, and not out of an owned one', () => {
    const bytes = concat(encodeFrame(vote, 1), encodeFrame(append, 2));
    const borrowed: AppendEntriesRequest[] = [];
    forEachFrame(bytes, false, (m) => { if (m.type === 'AppendEntries') borrowed.push(m); });
    const owned: AppendEntriesRequest[] = [];
    forEachFrame(bytes, true, (m) => { if (m.type === 'AppendEntries') owned.push(m); });
    expect(borrowed[0]!.entries[0]!.data.buffer).not.toBe(bytes.buffer);
    expect(owned[0]!.entries[0]!.data.buffer).toBe(bytes.buffer);
    bytes.fill(0); // what uWS may do to its buffer after the callback
    expect([...borrowed[0]!.entries[0]!.data]).toEqual([1, 2, 3]);
  });

  it('copies large payload frames too, and leaves heartbeats and votes in place', () => {
    const big: AppendEntriesRequest = { ...append, entries: Array.from({ length: 8 }, (_, i) => ({ index: 8 + i, term: 3, type: 'normal' as const, data: new Uint8Array(200).fill(i + 1) })) };
    const heartbeat: AppendEntriesRequest = { ...append, entries: [] };
    const bytes = concat(encodeFrame(heartbeat, 1), encodeFrame(big, 2), encodeFrame(vote, 3));
    const seen: WireMessage[] = [];
    expect(forEachFrame(bytes, false, (m) => seen.push(m))).toBeUndefined();
    bytes.fill(0);
    expect(seen.map((m) => m.type)).toEqual(['AppendEntries', 'AppendEntries', 'RequestVote']);
    expect((seen[0] as AppendEntriesRequest).entries).toEqual([]);
    const entries = (seen[1] as AppendEntriesRequest).entries;
    expect(entries.map((e) => e.data[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(entries.every((e) => e.data.length === 200 && e.data.every((b) => b === e.data[0]))).toBe(true);
  });

  it('reports a bad or cut frame after delivering the good ones before it', () => {
    const good = encodeFrame(vote, 1);
    const bad = encodeFrame(vote, 2);
    bad[bad.length - 1]! ^= 0x55;
    const seen: number[] = [];
    expect(forEachFrame(concat(good, bad), true, (_m, id) => seen.push(id))).toMatch(/\w/);
    expect(seen).toEqual([1]);
    expect(forEachFrame(good.subarray(0, good.length - 2), false, () => seen.push(9))).toBe('frame cut short');
    expect(seen).toEqual([1]);
  });
});
