/**
 * A cluster of real `raftwire start` processes for tests: LMDB on disk in a temp dir, the uWS
 * transport, ports picked free at run time. Nodes can be killed with SIGKILL and restarted with
 * the same data. Every process is killed by `stopAll()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RaftwireClient } from '../../src/client/index.js';
import type { PeerEndpoints } from '../../src/server/index.js';
import { freePorts } from '../support/ports.js';

const CLI = join(import.meta.dirname, '../../src/cli/main.ts');

export class ProcessCluster {
  readonly dataRoot = mkdtempSync(join(tmpdir(), 'raftwire-cluster-'));
  peers: Record<string, PeerEndpoints> = {};
  readonly processes = new Map<string, ChildProcess>();
  readonly output = new Map<string, string[]>();

  /** Called when a node's process ends by itself (not through `kill`), with its last output. */
  onExit: ((id: string, code: number | null, signal: NodeJS.Signals | null, lastOutput: string) => void) | undefined;

  /** How node `id` sees the cluster; by default everyone sees `peers` (tests route through proxies here). */
  peersFor: (id: string) => Record<string, PeerEndpoints> = () => this.peers;

  constructor(
    readonly ids: string[],
    private readonly extraArgs: string[] = [],
  ) {}

  async init(): Promise<void> {
    const ports = await freePorts(this.ids.length * 2);
    this.ids.forEach((id, i) => (this.peers[id] = { raft: `127.0.0.1:${ports[i]}`, client: `http://127.0.0.1:${ports[i + this.ids.length]}` }));
  }

  /** Picks free ports for a node that is not in the cluster yet (to be started with `--join`). */
  async addSlot(id: string): Promise<void> {
    const [raft, client] = await freePorts(2);
    this.peers[id] = { raft: `127.0.0.1:${raft}`, client: `http://127.0.0.1:${client}` };
  }

  /** Resolves with the exit code once node `id`'s process ends by itself. */
  exited(id: string): Promise<number | null> {
    const child = this.processes.get(id);
    if (!child) return Promise.resolve(null);
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
    return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  start(id: string, args: string[] = []): void {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'start', '--id', id, '--peers', JSON.stringify(this.peersFor(id)), '--data', join(this.dataRoot, id), ...this.extraArgs, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = this.output.get(id) ?? [];
    this.output.set(id, lines);
    child.stdout!.on('data', (d: Buffer) => lines.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => lines.push(d.toString()));
    child.once('exit', (code, signal) => {
      // Still in the map: nobody killed it on purpose (kill() removes it first).
      if (this.processes.get(id) === child) this.onExit?.(id, code, signal, lines.slice(-20).join(''));
    });
    this.processes.set(id, child);
  }

  startAll(): void {
    for (const id of this.ids) this.start(id);
  }

  /** Sends a signal (SIGSTOP/SIGCONT to pause and resume a node). */
  signal(id: string, signal: NodeJS.Signals): void {
    this.processes.get(id)?.kill(signal);
  }

  /** SIGKILL: no chance to flush or hand anything over. */
  async kill(id: string): Promise<void> {
    const child = this.processes.get(id);
    if (!child) return;
    this.processes.delete(id);
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.processes.keys()].map((id) => this.kill(id)));
    rmSync(this.dataRoot, { recursive: true, force: true });
  }

  client(ids = this.ids): RaftwireClient {
    return new RaftwireClient({ endpoints: ids.map((id) => this.peers[id]!.client), timeoutMs: 2_000, maxRetries: 30 });
  }

  /** The leader every listed live node agrees on, polling each node's /health/ready. */
  async awaitLeader(among = [...this.processes.keys()], timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const seen = new Set<string | null>();
      for (const id of among) {
        try {
          const response = await fetch(`${this.peers[id]!.client}/health/ready`, { signal: AbortSignal.timeout(500) });
          seen.add(((await response.json()) as { leader: string | null }).leader);
        } catch {
          seen.add(null);
        }
      }
      const [leader] = [...seen];
      if (seen.size === 1 && leader && among.includes(leader)) return leader;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no agreed leader among ${among.join(', ')}; output:\n${[...this.output].map(([id, l]) => `[${id}] ${l.join('')}`).join('\n')}`);
  }

  async status(id: string): Promise<{ role: string; commitIndex: number; appliedIndex: number; firstIndex: number; lastIndex: number }> {
    const response = await fetch(`${this.peers[id]!.client}/v1/cluster`);
    return (await response.json()) as never;
  }
}
