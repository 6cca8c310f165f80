/**
 * Splitting one received WebSocket message into codec frames, decoded in place.
 *
 * uWS's message buffer dies when its callback returns, so a frame whose decoded message holds
 * views into it (AppendEntries entries, an InstallSnapshot chunk) is copied out first, one copy
 * per frame; every other frame is decoded straight from the received bytes (its message holds no
 * views). Buffers the caller owns (`owned`, e.g. from `ws`) are never copied.
 * @module
 */
import { HEADER_BYTES, decodeFrame, type WireMessage } from '../../codec/index.js';
import { TYPE_CODE } from '../../codec/layout.js';

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
    let source = bytes;
    let at = offset;
    const typeCode = bytes[offset + 5];
    if (!owned && (typeCode === typeCodeAppendEntries || typeCode === typeCodeInstallSnapshot) && bytes.length - offset >= HEADER_BYTES) {
      const bodyBytes = (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
      const frameEnd = offset + HEADER_BYTES + bodyBytes;
      if (frameEnd <= bytes.length) {
        source = bytes.slice(offset, frameEnd);
        at = 0;
      }
    }
    const result = decodeFrame(source, at);
    if (result.status !== 'ok') return result.status === 'error' ? result.error.message : 'frame cut short';
    offset += result.consumed;
    onFrame(result.message, result.requestId);
  }
  return undefined;
}
