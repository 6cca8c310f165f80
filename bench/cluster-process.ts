/**
 * The bench's cluster: test/cluster/process-cluster.ts's `ProcessCluster`, whose nodes run through
 * bench/cluster-node.mjs so the bench can turn fsync off (`--unsafe-no-fsync`) and take CPU and
 * allocation profiles.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ProcessCluster } from '../test/cluster/process-cluster.js';

const NODE = join(import.meta.dirname, 'cluster-node.mjs');

export interface BenchClusterOptions {
  /** UNSAFE: logs never fsync (see bench/cluster-node.mjs). */
  unsafeNoFsync?: boolean;
  /** Directory for the nodes' V8 CPU profiles, written when a node stops (SIGTERM). */
  cpuProfDir?: string;
  /** Directory for the nodes' allocation profiles (bench/cluster-node.mjs), written when a node stops. */
  allocProfDir?: string;
}

export class BenchCluster extends ProcessCluster {
  constructor(
    ids: string[],
    private readonly nodeArgs: string[],
    private readonly benchOptions: BenchClusterOptions = {},
  ) {
    super(ids, nodeArgs);
  }

  override start(id: string, args: string[] = []): void {
    const execArgs: string[] = [];
    if (this.benchOptions.cpuProfDir) execArgs.push('--cpu-prof', '--cpu-prof-dir', this.benchOptions.cpuProfDir);
    const flags = this.benchOptions.unsafeNoFsync ? ['--unsafe-no-fsync'] : [];
    if (this.benchOptions.allocProfDir) flags.push('--alloc-prof', this.benchOptions.allocProfDir);
    const child = spawn(process.execPath, [...execArgs, NODE, ...flags, 'start', '--id', id, '--peers', JSON.stringify(this.peersFor(id)), '--data', join(this.dataRoot, id), ...this.nodeArgs, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = this.output.get(id) ?? [];
    this.output.set(id, lines);
    child.stdout!.on('data', (d: Buffer) => lines.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => lines.push(d.toString()));
    this.processes.set(id, child);
  }

  /** Sends `signal` to every running node (SIGUSR2 starts the allocation profiles). */
  signalAll(signal: NodeJS.Signals): void {
    for (const child of this.processes.values()) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }

  /** Stops every node with SIGTERM (so profiles get written), SIGKILL after `graceMs`. */
  async stopGracefully(graceMs = 5000): Promise<void> {
    await Promise.all(
      [...this.processes.entries()].map(async ([id, child]) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => void this.kill(id), graceMs);
        await exited;
        clearTimeout(timer);
        this.processes.delete(id);
      }),
    );
  }
}
