import { describe, expect, it } from 'vitest';
import { BufferPool, encodeFrame, type WireMessage } from '../../src/codec/index.js';
import { resolveUwsOptions } from '../../src/transport/uws/options.js';
import { PeerChannel, type Pending, type PeerSocket } from '../../src/transport/uws/peer-channel.js';

const vote = (term: number): WireMessage => ({ type: 'RequestVote', from: 'n1', to: 'n2', term, candidateId: 'n1', lastLogIndex: 8, lastLogTerm: 3, preVote: false, leadershipTransfer: false });

/** A socket that records what it was handed, copying nothing. */
class RecordingSocket implements PeerSocket {
  readonly epoch = 1;
  readonly sent: Uint8Array[] = [];
  send(bytes: Uint8Array, release: () => void): boolean {
    this.sent.push(bytes);
    release();
    return true;
  }
  bufferedBytes(): number {
    return 0;
  }
  close(): void {}
}

function pending(deadline: number, errors: unknown[]): Pending {
  return { answerType: 'RequestVoteResponse', deadline, sentEpoch: 0, resolve: () => {}, reject: (e) => errors.push(e) };
}

function concat(...frames: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(frames.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength))));
}

describe('PeerChannel send path', () => {
  it('sends frames queued in one turn as one message, straight from its slab, and copies only around a gap', () => {
    const channel = new PeerChannel('n2', resolveUwsOptions({ port: 0 }), new BufferPool());
    const socket = new RecordingSocket();
    channel.socket = socket;
    const errors: unknown[] = [];
    for (let id = 1; id <= 3; id++) channel.request(vote(id), id, pending(1000, errors));
    channel.flush();
    expect(socket.sent).toHaveLength(1);
    const batch = socket.sent[0]!;
    expect(batch).toEqual(concat(encodeFrame(vote(1), 1), encodeFrame(vote(2), 2), encodeFrame(vote(3), 3)));
    // No copy: the message is a view of the channel's slab, which holds nothing else before it.
    expect(batch.byteOffset).toBe(0);
    expect(batch.buffer.byteLength).toBe(1024 * 1024);

    // The middle request times out while queued: the batch skips it, through the copy path.
    channel.request(vote(4), 4, pending(1000, errors));
    channel.request(vote(5), 5, pending(1000, errors));
    channel.request(vote(6), 6, pending(1000, errors));
    channel.settle(5, new Error('timed out'));
    channel.flush();
    expect(errors).toHaveLength(1);
    expect(socket.sent).toHaveLength(2);
    expect(Uint8Array.from(socket.sent[1]!)).toEqual(concat(encodeFrame(vote(4), 4), encodeFrame(vote(6), 6)));
    expect(socket.sent[1]!.buffer).not.toBe(batch.buffer);
  });
});
