import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PartitionProxy } from './proxy.js';

/** A server that records what it receives and answers every chunk with `ack:<chunk>`. */
async function recordingEcho(): Promise<{ server: Server; port: number; received: string[] }> {
  const received: string[] = [];
  const server = createServer((socket) => socket.on('data', (d) => (received.push(d.toString()), socket.write(`ack:${d.toString()}`))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, received };
}

async function dial(port: number): Promise<{ socket: Socket; heard: string[] }> {
  const heard: string[] = [];
  const socket = connect(port, '127.0.0.1');
  socket.on('data', (d) => heard.push(d.toString()));
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, heard };
}

const settle = () => new Promise((r) => setTimeout(r, 150));

describe('PartitionProxy (the jepsen nemesis)', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function setUp() {
    const echo = await recordingEcho();
    const proxy = new PartitionProxy(echo.port);
    await proxy.listen();
    const client = await dial(proxy.port);
    cleanup.push(() => new Promise<void>((r) => echo.server.close(() => r())), () => proxy.close(), () => void client.socket.destroy());
    return { echo, proxy, client };
  }

  it('stalled toward its target, holds the dialer’s bytes on an open connection, then delivers them on unblock', async () => {
    const { echo, proxy, client } = await setUp();
    client.socket.write('one');
    await settle();
    expect(echo.received.join('')).toBe('one');
    proxy.stall('toTarget');
    client.socket.write('two');
    await settle();
    expect(echo.received.join('')).toBe('one');
    expect(client.socket.destroyed).toBe(false);
    proxy.unblock();
    await settle();
    expect(echo.received.join('')).toBe('onetwo');
    expect(client.heard.join('')).toBe('ack:oneack:two');
  });

  it('stalled from its target, lets the dialer be heard while its answers are held', async () => {
    const { echo, proxy, client } = await setUp();
    proxy.stall('fromTarget');
    client.socket.write('ping');
    await settle();
    expect(echo.received.join('')).toBe('ping');
    expect(client.heard).toEqual([]);
    proxy.unblock();
    await settle();
    expect(client.heard.join('')).toBe('ack:ping');
  });

  it('applies a stall to connections opened while it lasts', async () => {
    const { echo, proxy } = await setUp();
    proxy.stall('toTarget');
    const late = await dial(proxy.port);
    cleanup.push(() => void late.socket.destroy());
    late.socket.write('late');
    await settle();
    expect(echo.received).toEqual([]);
    proxy.unblock();
    await settle();
    expect(echo.received.join('')).toBe('late');
  });

  it('blocked, cuts open connections and refuses new ones', async () => {
    const { proxy, client } = await setUp();
    const closed = new Promise((resolve) => client.socket.once('close', resolve));
    proxy.block();
    await closed;
    const refused = connect(proxy.port, '127.0.0.1');
    await new Promise((resolve) => refused.once('close', resolve));
    expect(refused.bytesRead).toBe(0);
  });
});
