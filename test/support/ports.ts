/**
 * Ports for servers a test starts: free on 127.0.0.1 when chosen, and not ones the kernel will
 * hand out meanwhile.
 *
 * A port the OS picks with `listen(0)` comes from the ephemeral range, the same range every
 * outgoing connection's local port is drawn from. Between choosing a port and a child process
 * listening on it, any connection on the machine could take it as its local port, and did: in a
 * jepsen run, n3 failed with SERVER_ERR_LISTEN while n1 and n2, already up, were dialing each other
 * and n3. So ports come from below the ephemeral range, which connections never use. Concurrent
 * vitest workers take disjoint slices of it (by `VITEST_POOL_ID`), and within a process the ports
 * handed out go round the slice, so two calls never return the same port while it may still be
 * in use. Each port is checked free by binding it before it is handed out.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const slices = 16;

/** [first, end) below the kernel's ephemeral range (Linux's default range starts at 32768). */
function portSpace(): { first: number; end: number } {
  let ephemeralLow = 32_768;
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 4_096) ephemeralLow = low;
  } catch {
    // Not Linux: keep the usual default.
  }
  return { first: Math.max(1_024, ephemeralLow - 12_000), end: ephemeralLow };
}

function slice(): { first: number; size: number } {
  const { first, end } = portSpace();
  const size = Math.floor((end - first) / slices);
  const worker = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? Number.NaN);
  const index = Number.isInteger(worker) ? worker % slices : process.pid % slices;
  return { first: first + index * size, size };
}

const mine = slice();
let cursor = Math.floor(Math.random() * mine.size);

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `count` distinct ports that were free on 127.0.0.1 a moment ago, outside the ephemeral range. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tried = 0; ports.length < count && tried < mine.size; tried++) {
    const port = mine.first + (cursor++ % mine.size);
    if (await canListen(port)) ports.push(port);
  }
  if (ports.length < count) throw new Error(`only ${ports.length} of ${count} free ports in ${mine.first}-${mine.first + mine.size - 1}`);
  return ports;
}
