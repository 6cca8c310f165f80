/**
 * The two ends a {@link PeerChannel} can sit on: a connection uWebSockets.js accepted, or one we
 * dialed with `ws`. They differ in who owns sent bytes (uWS copies at once; `ws` may hold them
 * until written) and in how backpressure is seen.
 * @module
 */
import type { WebSocket as UwsSocket } from 'uWebSockets.js';
import WebSocket from 'ws';
import type { PeerSocket } from './peer-channel.js';

/** What a uWS connection carries in its user data. */
export interface UwsUserData {
  peerId: string;
  socket: UwsServerSocket | undefined;
}

/** uWS status of `send`: 2 means the message was dropped (over maxBackpressure). */
const uwsDropped = 2;

export class UwsServerSocket implements PeerSocket {
  closed = false;
  constructor(
    readonly epoch: number,
    private readonly ws: UwsSocket<UwsUserData>,
  ) {}

  send(bytes: Uint8Array, release: () => void): boolean {
    if (this.closed) return false;
    let status = 0;
    // Sends from outside a uWS callback must be corked to go out in one syscall.
    this.ws.cork(() => {
      status = this.ws.send(bytes, true, false);
    });
    // uWS copied the bytes into its own buffer (or dropped them): ours can be reused at once.
    release();
    if (status === uwsDropped) {
      this.close(1013, 'backpressure limit');
      return false;
    }
    return true;
  }

  bufferedBytes(): number {
    return this.closed ? 0 : this.ws.getBufferedAmount();
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.end(code, reason);
  }

  /** Closes without a close frame (stop, or a peer we no longer trust). */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close();
  }
}

export class WsClientSocket implements PeerSocket {
  closed = false;
  constructor(
    readonly epoch: number,
    readonly ws: WebSocket,
    private readonly onWritten: () => void,
  ) {}

  send(bytes: Uint8Array, release: () => void): boolean {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return false;
    // ws may keep a reference to `bytes` until the write completes; release only then.
    this.ws.send(bytes, { binary: true }, () => {
      release();
      this.onWritten();
    });
    return true;
  }

  bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(code, reason);
  }

  destroy(): void {
    this.closed = true;
    this.ws.terminate();
  }

  /** Sends a close frame and waits for the peer's answer, at most `waitMs`, then cuts the connection. */
  closeGracefully(code: number, reason: string, waitMs: number): Promise<void> {
    this.closed = true;
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.ws.terminate(), waitMs);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
      else this.ws.terminate();
    });
  }
}
