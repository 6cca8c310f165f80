/**
 * A TCP proxy between two nodes, for partitions: while blocked it cuts every connection through it
 * and refuses new ones (a clean partition, seen by both sides as a dead peer), and when unblocked it
 * passes bytes through untouched. Listens on 127.0.0.1 only.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class PartitionProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  blocked = false;
  port = 0;

  constructor(private readonly targetPort: number) {}

  async listen(port = 0): Promise<void> {
    this.server = createServer((client) => {
      if (this.blocked) {
        client.destroy();
        return;
      }
      const upstream = connect(this.targetPort, '127.0.0.1');
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        this.sockets.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => {
          this.sockets.delete(a);
          b.destroy();
        });
        a.pipe(b);
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  block(): void {
    this.blocked = true;
    for (const socket of this.sockets) socket.destroy();
  }

  unblock(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.block();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
