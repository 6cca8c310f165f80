/**
 * A TCP proxy between two nodes, for partitions. Blocked, it cuts every connection through it and
 * refuses new ones (a clean partition, seen by both sides as a dead peer). Stalled in one
 * direction, it stops passing bytes that way and keeps the connection open: a one-way partition
 * as TCP sees it (the data of the cut side and its acknowledgements are lost, so its bytes never
 * arrive while the other side's still do; on healing the held bytes flow again, as retransmission
 * would deliver them). Unblocked, it passes bytes through untouched. Listens on 127.0.0.1 only.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** `toTarget`: bytes from the dialing node to the proxied one; `fromTarget`: the answers' way. */
export type ProxyDirection = 'toTarget' | 'fromTarget';

interface Link {
  client: Socket;
  upstream: Socket;
}

export class PartitionProxy {
  private server: Server | undefined;
  private readonly links = new Set<Link>();
  private readonly stalled = new Set<ProxyDirection>();
  blocked = false;
  port = 0;

  constructor(private readonly targetPort: number) {}

  async listen(port = 0): Promise<void> {
    this.server = createServer((client) => {
      if (this.blocked) {
        client.destroy();
        return;
      }
      const link: Link = { client, upstream: connect(this.targetPort, '127.0.0.1') };
      this.links.add(link);
      for (const [a, b] of [
        [link.client, link.upstream],
        [link.upstream, link.client],
      ] as const) {
        a.on('error', () => b.destroy());
        a.on('close', () => {
          this.links.delete(link);
          b.destroy();
        });
      }
      for (const direction of ['toTarget', 'fromTarget'] as const) if (!this.stalled.has(direction)) this.flow(link, direction);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  block(): void {
    this.blocked = true;
    for (const { client, upstream } of this.links) {
      client.destroy();
      upstream.destroy();
    }
  }

  /** Holds every byte going `direction`, on open connections and new ones, until `unblock()`. */
  stall(direction: ProxyDirection): void {
    if (this.stalled.has(direction)) return;
    this.stalled.add(direction);
    for (const link of this.links) {
      const [from, to] = ends(link, direction);
      from.unpipe(to);
      from.pause();
    }
  }

  unblock(): void {
    this.blocked = false;
    for (const direction of this.stalled) for (const link of this.links) this.flow(link, direction);
    this.stalled.clear();
  }

  async close(): Promise<void> {
    this.block();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private flow(link: Link, direction: ProxyDirection): void {
    const [from, to] = ends(link, direction);
    from.pipe(to);
  }
}

function ends(link: Link, direction: ProxyDirection): [Socket, Socket] {
  return direction === 'toTarget' ? [link.client, link.upstream] : [link.upstream, link.client];
}
