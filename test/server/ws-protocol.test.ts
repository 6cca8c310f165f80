/**
 * The WebSocket protocol's session bookkeeping: a write refused for a passing reason
 * (CLIENT_RETRY_CODES) stays open on its connection, so the writes after it there never tell the
 * session to forget it, and the client can send it again elsewhere without it being refused as
 * stale.
 */
import uWS from 'uWebSockets.js';
import { afterEach, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { type ClientReply, type ClientRequest, decodeFrame, encodedFrameSize, encodeFrameInto } from '../../src/codec/index.js';
import { ProposalDroppedError } from '../../src/core/errors.js';
import type { KvService } from '../../src/server/kv-service.js';
import { attachWsProtocol } from '../../src/server/ws-protocol.js';

let listenSocket: uWS.us_listen_socket | undefined;
let client: WebSocket | undefined;
afterEach(() => {
  client?.terminate();
  if (listenSocket) uWS.us_listen_socket_close(listenSocket);
  listenSocket = undefined;
});

/**
 * A node whose writes of sequence `dropped` are refused as dropped; records each write's session.
 * With `hold`, every write waits until `release()`.
 */
async function serverWith(dropped: number, extra: { closing?: () => boolean; hold?: boolean } = {}) {
  const sessions: { sequence: number; ackedThrough?: number }[] = [];
  const held: (() => void)[] = [];
  const write = async (_request: unknown, session: { sequence: number; ackedThrough?: number }) => {
    sessions.push({ sequence: session.sequence, ackedThrough: session.ackedThrough });
    if (extra.hold) await new Promise<void>((resolve) => held.push(resolve));
    if (session.sequence === dropped) throw new ProposalDroppedError('leadership is being transferred');
    return { ok: true, code: null, value: null };
  };
  const kv = {
    write,
    // The protocol's write path (KvService.writeThen): the same, told through a callback.
    writeThen: (request: unknown, session: { sequence: number; ackedThrough?: number }, done: (error: Error | null, result?: unknown) => void) => {
      write(request, session).then((result) => done(null, result), done);
    },
    get: async () => undefined,
  } as unknown as KvService;
  const app = uWS.App();
  const handle = attachWsProtocol(app, { kv, payloadBytesMax: 1 << 20, closing: extra.closing });
  const port = await new Promise<number>((resolve) =>
    app.listen('127.0.0.1', 0, (socket) => {
      listenSocket = socket;
      resolve(uWS.us_socket_local_port(socket));
    }),
  );
  return { url: `ws://127.0.0.1:${port}/v1/ws`, sessions, handle, release: () => held.splice(0).forEach((resolve) => resolve()) };
}

async function connect(url: string): Promise<{ send(sequence: number): Promise<ClientReply> }> {
  const socket = new WebSocket(url);
  client = socket;
  await new Promise((resolve) => socket.once('open', resolve));
  const waiting = new Map<number, (reply: ClientReply) => void>();
  socket.on('message', (data: Buffer) => {
    const result = decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 0);
    if (result.status === 'ok') waiting.get(result.requestId)?.(result.message as ClientReply);
  });
  return {
    send: (sequence) => {
      const request: ClientRequest = { type: 'ClientRequest', op: 'set', key: 'k', value: new Uint8Array([sequence]), expected: null, ttlMs: 0, clientId: 'c1', sequence };
      const out = new Uint8Array(encodedFrameSize(request));
      encodeFrameInto(request, sequence, out, 0);
      socket.send(out);
      return new Promise((resolve) => waiting.set(sequence, resolve));
    },
  };
}

it('a write refused as dropped stays open on its connection: the writes after it keep ackedThrough below it', async () => {
  const { url, sessions } = await serverWith(1);
  const connection = await connect(url);
  expect(await connection.send(1)).toMatchObject({ status: 'error', code: 'RAFT_ERR_PROPOSAL_DROPPED' });
  expect(await connection.send(2)).toMatchObject({ status: 'ok' });
  expect(sessions).toEqual([
    { sequence: 1, ackedThrough: 0 },
    { sequence: 2, ackedThrough: 0 }, // not 1: write 1 was not answered for good
  ]);
});

it('a write answered for good is counted answered: the next one acknowledges it', async () => {
  const { url, sessions } = await serverWith(-1);
  const connection = await connect(url);
  expect(await connection.send(1)).toMatchObject({ status: 'ok' });
  expect(await connection.send(2)).toMatchObject({ status: 'ok' });
  expect(sessions).toEqual([
    { sequence: 1, ackedThrough: 0 },
    { sequence: 2, ackedThrough: 1 },
  ]);
});

it('while the node shuts down, answers the retryable RAFT_ERR_NODE_STOPPED without serving, and counts what it still serves', async () => {
  let closing = false;
  const { url, sessions, handle, release } = await serverWith(-1, { closing: () => closing, hold: true });
  const connection = await connect(url);
  const inFlight = connection.send(1);
  await vi.waitFor(() => expect(handle.inflightRequests()).toBe(1));
  closing = true;
  expect(await connection.send(2)).toMatchObject({ status: 'error', code: 'RAFT_ERR_NODE_STOPPED' });
  expect(sessions.map((s) => s.sequence)).toEqual([1]); // the second was never served
  expect(handle.inflightRequests()).toBe(1); // the first is still being served: a drain waits for it
  release();
  expect(await inFlight).toMatchObject({ status: 'ok' });
  expect(handle.inflightRequests()).toBe(0);
});
