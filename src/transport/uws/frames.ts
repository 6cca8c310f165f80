/**
 * Splitting one received WebSocket message into codec frames, decoded in place.
 *
 * uWS's message buffer dies when its callback returns, so a frame whose decoded message holds
 * views into it (AppendEntries entries, an InstallSnapshot chunk) is copied out, one copy per
 * frame; every other frame (votes, answers, heartbeats) is decoded straight from the received
 * bytes, as its message holds no views. Buffers the caller owns (`owned`, e.g. from `ws`) are
 * never copied.
 *
 * Copies are carved from a receive slab, back to back, as the send side carves frames (a copy of
 * its own per frame was a fresh ArrayBuffer: a backing-store allocation, zero-filled, then
 * tracked and swept by the GC). Only received frames share a slab, and a follower keeps their
 * entries in log order, so a slab is freed once the entries in it are compacted away: what is
 * pinned beyond the log's own bytes is about one slab.
 * @module
 */
import { HEADER_BYTES, decodeFrame, type WireMessage } from '../../codec/index.js';
import { TYPE_CODE } from '../../codec/layout.js';
import { Slab } from '../../util/slab.js';

const typeCodeAppendEntries = TYPE_CODE.AppendEntries;
const typeCodeInstallSnapshot = TYPE_CODE.InstallSnapshot;

/**
 * Calls `onFrame` for each frame of `bytes`, in order. Returns undefined when every byte was a
 * whole valid frame, else why not (the frames before the bad one were delivered). No per-frame
 * limits are passed to the decoder: a frame cannot be larger than the message holding it, which
 * the WebSocket layer already bounds.
 */
export function forEachFrame(bytes: Uint8Array, owned: boolean, onFrame: (message: WireMessage, requestId: number) => void): string | undefined {
  let offset = 0;
  while (offset < bytes.length) {
    const typeCode = bytes[offset + 5];
    const mayHoldViews = !owned && (typeCode === typeCodeAppendEntries || typeCode === typeCodeInstallSnapshot) && bytes.length - offset >= HEADER_BYTES;
    const frameEnd = mayHoldViews ? offset + HEADER_BYTES + readU32(bytes, offset) : 0;
    if (mayHoldViews && frameEnd <= bytes.length && frameEnd - offset > smallFrameBytesMax) {
      // A large frame almost surely carries payload: copy it out, then decode the copy.
      const result = decodeFrame(receiveSlab.copy(bytes, offset, frameEnd), 0);
      if (result.status !== 'ok') return reason(result);
      offset = frameEnd;
      onFrame(result.message, result.requestId);
      continue;
    }
    const result = decodeFrame(bytes, offset);
    if (result.status !== 'ok') return reason(result);
    let message = result.message;
    if (mayHoldViews && holdsViews(message)) {
      // A small frame with payload (rare): decode again from a copy; small frames decode fast.
      const copied = decodeFrame(receiveSlab.copy(bytes, offset, offset + result.consumed), 0);
      if (copied.status !== 'ok') return reason(copied);
      message = copied.message;
    }
    offset += result.consumed;
    onFrame(message, result.requestId);
  }
  return undefined;
}

/**
 * Frames up to this size are decoded in place first and copied only if they turn out to carry
 * payload bytes (heartbeats, empty snapshot chunks never do); larger ones are copied first.
 */
export const smallFrameBytesMax = 512;

/** Where copies that must outlive uWS's buffer go (256 KiB slabs; frames over 64 KiB get memory of their own). */
const receiveSlab = new Slab(256 * 1024);

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

function holdsViews(message: WireMessage): boolean {
  if (message.type === 'AppendEntries') return message.entries.length > 0;
  if (message.type === 'InstallSnapshot') return message.data.length > 0;
  return false;
}

function reason(result: { status: 'needMore' } | { status: 'error'; error: Error }): string {
  return result.status === 'error' ? result.error.message : 'frame cut short';
}
