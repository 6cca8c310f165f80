/**
 * One peer's half of the multiplexed connection: the queue of frames waiting to be sent, the
 * requests waiting for answers, and the coalescing flush.
 *
 * Send path: `request()`/`respond()` append to the queue and schedule one flush per event-loop
 * turn (a microtask), so everything produced in one turn leaves as one WebSocket message, bounded
 * by `batchBytesMax` and `batchMessagesMax`. A flush stops while the socket's buffered amount is
 * over `backpressureBytesMax` and resumes on drain; the queue itself is bounded, and a send past
 * the bound fails with `TRANSPORT_ERR_QUEUE_FULL` instead of buffering without limit.
 *
 * Invariant: every entry of `pending` settles exactly once: by its answer, by the timeout sweep,
 * by `failInflight()` when the connection it went out on drops, or by `failAll()` on stop.
 * @module
 */
import { encodeFrameWith, type WireMessage } from '../../codec/index.js';
import type { BufferPool } from '../../codec/buffer-pool.js';
import type { NodeId } from '../../core/types.js';
import { NetworkTimeoutError, ProtocolError, QueueFullError, type TransportError } from '../errors.js';
import { Slab } from '../../util/slab.js';
import type { ResolvedUwsOptions } from './options.js';

/** The socket under a channel: a uWS server socket or a `ws` client socket. */
export interface PeerSocket {
  /** Distinguishes connections over time; answers go back only on the connection a request came on. */
  readonly epoch: number;
  /**
   * Sends one WebSocket message. `release` is called once the socket no longer needs `bytes`
   * (at once when the socket copies, after the write otherwise). Returns false if the socket is
   * closed or refused the message.
   */
  send(bytes: Uint8Array, release: () => void): boolean;
  /** Bytes accepted by `send` that have not reached the kernel yet. */
  bufferedBytes(): number;
  close(code: number, reason: string): void;
}

/** A request awaiting its answer. */
export interface Pending {
  /** Message type the answer must have (`ClientReply` for TimeoutNow acks and errors). */
  readonly answerType: WireMessage['type'];
  readonly deadline: number;
  /** Epoch of the connection the request went out on; 0 while it is still queued. */
  sentEpoch: number;
  resolve(message: WireMessage): void;
  reject(error: unknown): void;
}

interface Outgoing {
  /** The encoded frame (encoded when queued: one pass over the message, and errors surface to the caller at once). */
  frame: Uint8Array;
  requestId: number;
  /** True for a request (skipped at flush if it already timed out). */
  isRequest: boolean;
}

const noRelease = (): void => {};

/**
 * Frames a channel queues are carved back to back from its own slab of this many bytes (a few
 * batches' worth), so a batch of frames queued in a row is one contiguous range and goes out
 * without being copied into a batch buffer. A slab is never written twice: a socket that keeps
 * the range until it is written (`ws`) sees it unchanged, and it is garbage once no frame or write
 * holds it. Frames over a quarter of the slab get their own memory.
 */
export const channelSlabBytes = 1024 * 1024;

export class PeerChannel {
  readonly peerId: NodeId;
  socket: PeerSocket | undefined;
  readonly pending = new Map<number, Pending>();
  private queue: Outgoing[] = [];
  private queueHead = 0;
  private queueBytes = 0;
  private flushScheduled = false;
  /** WebSocket messages sent (each one coalesced batch) and frames in them, since creation. */
  readonly stats = { batchesSent: 0, framesSent: 0 };
  private readonly flushBound = (): void => this.flush();
  /** Unaligned, so frames carved in a row are one contiguous range (see {@link channelSlabBytes}). */
  private readonly slab = new Slab(channelSlabBytes, channelSlabBytes / 4, 1);
  private readonly carveBound = (size: number): Uint8Array => this.slab.alloc(size);

  constructor(
    peerId: NodeId,
    private readonly options: ResolvedUwsOptions,
    private readonly pool: BufferPool,
  ) {
    this.peerId = peerId;
  }

  get queuedMessages(): number {
    return this.queue.length - this.queueHead;
  }

  /** Queues a request; `pending` is settled by the answer, a timeout or a lost connection. */
  request(message: WireMessage, requestId: number, pending: Pending): void {
    if (this.pending.size >= this.options.inflightMax) {
      pending.reject(new QueueFullError(this.peerId, 'inflightMax', this.options.inflightMax));
      return;
    }
    const error = this.enqueue(message, requestId, true);
    if (error !== undefined) {
      pending.reject(error);
      return;
    }
    this.pending.set(requestId, pending);
  }

  /** Queues an answer to the peer's request `requestId`. Dropped (the peer times out) when the queue is full. */
  respond(message: WireMessage, requestId: number): void {
    this.enqueue(message, requestId, false);
  }

  private enqueue(message: WireMessage, requestId: number, isRequest: boolean): TransportError | undefined {
    const { queueMessagesMax, queueBytesMax, payloadBytesMax } = this.options;
    if (this.queuedMessages >= queueMessagesMax) return new QueueFullError(this.peerId, 'queueMessagesMax', queueMessagesMax);
    let frame: Uint8Array;
    try {
      frame = encodeFrameWith(message, requestId, this.carveBound);
    } catch (error) {
      return new ProtocolError(`cannot encode ${message.type} for node ${this.peerId}: ${(error as Error).message}`, { cause: error });
    }
    if (frame.length > payloadBytesMax) return new ProtocolError(`${message.type} of ${frame.length} bytes for node ${this.peerId} is over payloadBytesMax = ${payloadBytesMax}`);
    if (this.queueBytes + frame.length > queueBytesMax && this.queuedMessages > 0) return new QueueFullError(this.peerId, 'queueBytesMax', queueBytesMax);
    this.queue.push({ frame, requestId, isRequest });
    this.queueBytes += frame.length;
    this.scheduleFlush();
    return undefined;
  }

  scheduleFlush(): void {
    if (this.flushScheduled || this.socket === undefined) return;
    this.flushScheduled = true;
    queueMicrotask(this.flushBound);
  }

  /** Sends queued frames in batches until the queue is empty or the socket pushes back. */
  flush(): void {
    this.flushScheduled = false;
    const socket = this.socket;
    if (socket === undefined) return;
    const { batchBytesMax, batchMessagesMax, backpressureBytesMax } = this.options;
    while (this.queueHead < this.queue.length) {
      // Backpressure: leave the rest queued; the socket's drain calls flush() again.
      if (socket.bufferedBytes() > backpressureBytesMax) return;
      let count = 0;
      let bytes = 0;
      let index = this.queueHead;
      const firstBuffer = this.queue[index]!.frame.buffer;
      for (; index < this.queue.length && count < batchMessagesMax; index++) {
        const item = this.queue[index]!;
        if (count > 0 && bytes + item.frame.length > batchBytesMax) break;
        // A batch ends where the channel's slab does, so that it stays one range sent without a copy.
        if (count > 0 && item.frame.buffer !== firstBuffer && item.frame.length <= this.slab.carveBytesMax) break;
        if (!item.isRequest || this.pending.has(item.requestId)) {
          bytes += item.frame.length;
          count++;
        }
      }
      const start = this.queueHead;
      this.queueHead = index;
      if (count > 0) this.sendBatch(socket, start, index, bytes, count);
      for (let i = start; i < index; i++) this.queueBytes -= this.queue[i]!.frame.length;
    }
    this.queue = [];
    this.queueHead = 0;
    this.queueBytes = 0;
  }

  /**
   * The frames queued in [start, end) as one view, when they lie back to back in one slab and none
   * is skipped (a request that timed out while queued); otherwise undefined.
   */
  private contiguous(start: number, end: number, bytes: number): Uint8Array | undefined {
    const first = this.queue[start]!.frame;
    let next = first.byteOffset + first.length;
    for (let i = start + 1; i < end; i++) {
      const frame = this.queue[i]!.frame;
      if (frame.buffer !== first.buffer || frame.byteOffset !== next) return undefined;
      next += frame.length;
    }
    return next - first.byteOffset === bytes ? new Uint8Array(first.buffer, first.byteOffset, bytes) : undefined;
  }

  private sendBatch(socket: PeerSocket, start: number, end: number, bytes: number, count: number): void {
    const epoch = socket.epoch;
    const whole = count > 1 ? this.contiguous(start, end, bytes) : undefined;
    if (whole !== undefined) {
      // Several frames, back to back in the slab: one WebSocket message, no copy.
      for (let i = start; i < end; i++) this.markSent(this.queue[i]!, epoch);
      this.stats.framesSent += count;
      this.stats.batchesSent++;
      socket.send(whole, noRelease);
      return;
    }
    if (count === 1) {
      // One frame: send it as it is, no copy.
      for (let i = start; i < end; i++) {
        const item = this.queue[i]!;
        if (!this.markSent(item, epoch)) continue;
        this.stats.framesSent++;
        this.stats.batchesSent++;
        socket.send(item.frame, noRelease);
        return;
      }
      return;
    }
    // Several frames: one WebSocket message, assembled in a pooled buffer.
    const buffer = this.pool.acquire(bytes);
    let offset = 0;
    for (let i = start; i < end; i++) {
      const item = this.queue[i]!;
      if (!this.markSent(item, epoch)) continue;
      buffer.set(item.frame, offset);
      offset += item.frame.length;
      this.stats.framesSent++;
    }
    this.stats.batchesSent++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.pool.release(buffer);
    };
    if (!socket.send(offset === buffer.length ? buffer : buffer.subarray(0, offset), release)) release();
  }

  /** Records that `item` goes out on connection `epoch`; false for a request that already timed out. */
  private markSent(item: Outgoing, epoch: number): boolean {
    if (!item.isRequest) return true;
    const pending = this.pending.get(item.requestId);
    if (pending === undefined) return false;
    pending.sentEpoch = epoch;
    return true;
  }

  /** Settles request `requestId` with `error`, or with `answer`. Unknown ids (late answers) are ignored. */
  settle(requestId: number, error: unknown, answer?: WireMessage): void {
    const pending = this.pending.get(requestId);
    if (pending === undefined) return;
    this.pending.delete(requestId);
    if (error !== undefined) pending.reject(error);
    else if (answer!.type !== pending.answerType) pending.reject(new ProtocolError(`node ${this.peerId} answered with ${answer!.type}, expected ${pending.answerType}`));
    else pending.resolve(answer!);
  }

  /** Fails every request already sent on connection `epoch`: its answer can no longer come. */
  failInflight(epoch: number, error: () => unknown): void {
    for (const [id, pending] of this.pending) {
      if (pending.sentEpoch === epoch) {
        this.pending.delete(id);
        pending.reject(error());
      }
    }
  }

  /** Fails every request, queued or sent, and empties the queue. */
  failAll(error: () => unknown): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    this.queue = [];
    this.queueHead = 0;
    this.queueBytes = 0;
    for (const pending of all) pending.reject(error());
  }

  /** Fails queued requests that were never sent (a dial attempt failed). */
  failQueued(error: () => unknown): void {
    for (const [id, pending] of this.pending) {
      if (pending.sentEpoch === 0) {
        this.pending.delete(id);
        pending.reject(error());
      }
    }
  }

  /**
   * Times out requests past their deadline. All requests of a network share one timeout, so the
   * map's insertion order is deadline order and the sweep stops at the first one still in time.
   */
  sweep(now: number, timeoutMs: number): void {
    for (const [id, pending] of this.pending) {
      if (pending.deadline > now) return;
      this.pending.delete(id);
      pending.reject(new NetworkTimeoutError(this.peerId, timeoutMs));
    }
  }
}
