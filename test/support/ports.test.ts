// freePorts: ports a test can listen on, never from the kernel's ephemeral range (where a
// connection's local port could take one before the server listens), never the same one twice
// in a row of calls.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePorts } from './ports.js';

const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

describe('freePorts', () => {
  it('gives distinct listenable ports below the ephemeral range, also across calls', async () => {
    const first = await freePorts(6);
    const second = await freePorts(6);
    const all = [...first, ...second];
    expect(new Set(all).size).toBe(12);
    for (const port of all) expect(port).toBeLessThan(ephemeralLow);
    for (const port of all) {
      await new Promise<void>((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
      });
    }
  });

  it('skips a port that is in use', async () => {
    const [taken] = await freePorts(1);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(taken, '127.0.0.1', () => resolve()));
    try {
      // Go round the whole slice: the taken port comes up again and must be passed over.
      const ports: number[] = [];
      for (let i = 0; i < 80; i++) ports.push(...(await freePorts(10)));
      expect(ports).not.toContain(taken);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
