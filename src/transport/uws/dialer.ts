/**
 * The dialing side of {@link UwsNetwork}: one `ws` connection per peer this node dials (the lower
 * id dials), redialed with backoff and jitter while the network runs. What a connection carries
 * is the network's business (its {@link PeerChannel}); this module only opens, replaces and drops
 * connections, and tells the network when one ends.
 * @module
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import type { NodeId } from '../../core/types.js';
import { computeRetryDelay } from '../../resilience/index.js';
import type { ResolvedAddress } from '../addresses.js';
import { errorMessage } from '../dispatch.js';
import { ConnectionLostError } from '../errors.js';
import { authHeaders } from './auth.js';
import type { ResolvedUwsOptions } from './options.js';
import type { PeerChannel } from './peer-channel.js';
import { raftWsPath } from './protocol.js';
import { WsClientSocket } from './sockets.js';

/**
 * The masking key of every frame we send as a client: all zeros, which `ws` recognises and then
 * skips masking (a copy and an XOR pass over every batch). RFC 6455 masks client frames so that a
 * browser's script cannot steer the bytes an intermediary proxy sees; a node-to-node link carries
 * no script-chosen bytes, and uWS unmasks a zero key as any other.
 */
const zeroMask = (mask: Uint8Array): void => {
  mask.fill(0);
};

/** What the dialer needs of its network. */
export interface DialerHost {
  readonly nodeId: NodeId;
  readonly options: ResolvedUwsOptions;
  isStarted(): boolean;
  /** A fresh connection epoch (epochs tell a channel's connections apart). */
  nextEpoch(): number;
  address(peerId: NodeId): ResolvedAddress | undefined;
  /** A message arrived on a dialed connection. */
  receive(channel: PeerChannel, socket: WsClientSocket, bytes: Uint8Array): void;
  /** A dialed connection that was the channel's socket ended. */
  lost(peerId: NodeId, socket: WsClientSocket, reason: string): void;
}

interface DialState {
  attempt: number;
  timer: NodeJS.Timeout | undefined;
  connecting: WsClientSocket | undefined;
}

export class PeerDialer {
  private readonly dials = new Map<NodeId, DialState>();
  private readonly tlsCa: Buffer | undefined;

  constructor(private readonly host: DialerHost) {
    const caFile = host.options.tls?.caFile;
    this.tlsCa = caFile !== undefined ? readFileSync(caFile) : undefined;
  }

  /** Opens a connection to `channel`'s peer unless one is open, being opened, or waiting to redial. */
  dial(channel: PeerChannel): void {
    const host = this.host;
    const peerId = channel.peerId;
    let state = this.dials.get(peerId);
    if (state === undefined) {
      state = { attempt: 0, timer: undefined, connecting: undefined };
      this.dials.set(peerId, state);
    }
    const address = host.address(peerId);
    if (!host.isStarted() || address === undefined || state.connecting !== undefined || state.timer !== undefined || channel.socket !== undefined) return;
    const scheme = host.options.tls ? 'wss' : 'ws';
    const hostName = address.host.includes(':') ? `[${address.host}]` : address.host;
    let ws: WebSocket;
    try {
      ws = this.openWebSocket(`${scheme}://${hostName}:${address.port}${raftWsPath}`, peerId);
    } catch (error) {
      // A URL or header ws refuses (e.g. a node id that is not a valid header value): nothing to
      // retry; fail what waits for this peer.
      channel.failQueued(() => new ConnectionLostError(peerId, errorMessage(error), { cause: error }));
      return;
    }
    ws.binaryType = 'nodebuffer';
    const socket = new WsClientSocket(host.nextEpoch(), ws, () => {
      if (channel.queuedMessages > 0) channel.scheduleFlush();
    });
    state.connecting = socket;
    let failure = 'connection closed';
    ws.on('open', () => {
      state.connecting = undefined;
      if (!host.isStarted() || socket.closed) {
        socket.destroy();
        return;
      }
      state.attempt = 0;
      const previous = channel.socket;
      channel.socket = socket;
      if (previous !== undefined) channel.failInflight(previous.epoch, () => new ConnectionLostError(peerId, 'replaced by a new connection'));
      channel.scheduleFlush();
    });
    ws.on('message', (bytes: Buffer) => {
      if (!socket.closed) host.receive(channel, socket, bytes);
    });
    ws.on('error', (error) => {
      failure = error.message;
    });
    ws.on('close', () => {
      socket.closed = true;
      // Abandoned (address changed or removed, or stopped): whoever abandoned it settled its requests.
      if (this.dials.get(peerId) !== state) return;
      const wasOpen = channel.socket === socket;
      if (state.connecting === socket) state.connecting = undefined;
      if (wasOpen) host.lost(peerId, socket, failure);
      // A dial that failed fails what waited for it at once, rather than at its timeout.
      else channel.failQueued(() => new ConnectionLostError(peerId, failure));
      if (host.isStarted()) this.redial(channel, state);
    });
  }

  /**
   * Stops dialing `peerId`: a pending redial is cancelled and a connection being opened is cut.
   * Returns nothing about an open connection: that one is the channel's socket, which the caller
   * closes (its close is then ignored here).
   */
  forget(peerId: NodeId): void {
    const dial = this.dials.get(peerId);
    if (dial === undefined) return;
    this.dials.delete(peerId);
    clearTimeout(dial.timer);
    dial.connecting?.destroy();
  }

  /** Forgets every peer (the network stops). */
  forgetAll(): void {
    for (const peerId of [...this.dials.keys()]) this.forget(peerId);
  }

  private openWebSocket(url: string, peerId: NodeId): WebSocket {
    const { options } = this.host;
    return new WebSocket(url, {
      headers: authHeaders(options.clusterSecret, this.host.nodeId, peerId),
      perMessageDeflate: false,
      generateMask: zeroMask,
      maxPayload: options.payloadBytesMax,
      handshakeTimeout: options.timeoutMs,
      skipUTF8Validation: true,
      ...(this.tlsCa !== undefined ? { ca: this.tlsCa } : {}),
      ...(options.tls ? { rejectUnauthorized: options.tls.rejectUnauthorized ?? true } : {}),
    });
  }

  private redial(channel: PeerChannel, state: DialState): void {
    const { options } = this.host;
    const delayMs = computeRetryDelay(state.attempt, {
      initialDelayMs: options.reconnectDelayMs,
      maxDelayMs: options.reconnectDelayMaxMs,
      strategy: 'exponentialBackoff',
      backoffMultiplier: 2,
      jitter: true,
      jitterRatio: 0.5,
    });
    state.attempt++;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      this.dial(channel);
    }, delayMs);
    state.timer.unref();
  }
}
