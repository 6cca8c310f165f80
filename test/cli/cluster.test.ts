/**
 * `raftwire cluster`: flags are checked before any node starts, and the node flags reach every
 * node (secrets through the environment, never on a command line).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clusterCommand } from '../../src/cli/cluster.js';
import { freePorts } from '../support/ports.js';

const CLI = join(import.meta.dirname, '../../src/cli/main.ts');

/** Command lines of the live processes whose arguments mention `marker`. */
function processesMentioning(marker: string): { pid: number; args: string[] }[] {
  const found: { pid: number; args: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.some((arg) => arg.includes(marker))) found.push({ pid: Number(entry), args });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe('raftwire cluster', () => {
  let cluster: ChildProcess | undefined;
  let dataRoot: string | undefined;

  afterEach(async () => {
    vi.restoreAllMocks();
    if (cluster !== undefined && cluster.exitCode === null && cluster.signalCode === null) {
      const exited = new Promise((resolve) => cluster!.once('exit', resolve));
      cluster.kill('SIGINT');
      await exited;
    }
    cluster = undefined;
    if (dataRoot !== undefined) {
      // Whatever the test left behind (a failed assertion before the SIGINT) is stopped here.
      for (const { pid } of processesMentioning(dataRoot)) process.kill(pid, 'SIGKILL');
      rmSync(dataRoot, { recursive: true, force: true });
      dataRoot = undefined;
    }
  });

  it('refuses a bad node flag with exit code 2 before it starts any node', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const data = join(mkdtempSync(join(tmpdir(), 'raftwire-cli-')), 'never');
    expect(await clusterCommand(['--data', data, '--heartbeat', '200'])).toBe(2);
    expect(await clusterCommand(['--data', data, '--leader-wait', 'soon'])).toBe(2);
    expect(await clusterCommand(['--data', data, '--client-port', '65535'])).toBe(2);
    expect(errors[0]).toMatch(/heartbeatIntervalMs \(200\) must be less than electionTimeoutMinMs/);
    expect(errors[1]).toContain('--leader-wait must be a whole number of ms');
    expect(errors[2]).toContain('--client-port must be a port such that --client-port + 2 ≤ 65535');
    expect(existsSync(data)).toBe(false);
  });

  it('checks the nodes’ settings from a config file and RAFTWIRE_* variables before it starts any node', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const dir = mkdtempSync(join(tmpdir(), 'raftwire-cli-'));
    const data = join(dir, 'never');
    const file = join(dir, 'cluster.json');
    writeFileSync(file, JSON.stringify({ heartbeat: 200 }));
    expect(await clusterCommand(['--data', data, '--config', file])).toBe(2);
    writeFileSync(file, JSON.stringify({ join: true }));
    expect(await clusterCommand(['--data', data, '--config', file])).toBe(2);
    vi.stubEnv('RAFTWIRE_LEADER_WAIT', 'soon');
    expect(await clusterCommand(['--data', data])).toBe(2);
    vi.unstubAllEnvs();
    expect(errors[0]).toMatch(/heartbeatIntervalMs \(200\) must be less than electionTimeoutMinMs/);
    expect(errors[1]).toContain('join is set');
    expect(errors[2]).toContain('--leader-wait must be a whole number of ms');
    expect(existsSync(data)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to start on ports another cluster answers on, with exit code 2, before it starts any node', async () => {
    const [raftPort, clientPort] = await freePorts(2);
    const other = createServer((_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => other.listen(clientPort, '127.0.0.1', resolve));
    try {
      const errors: string[] = [];
      vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
      vi.spyOn(console, 'log').mockImplementation(() => undefined);
      const data = join(mkdtempSync(join(tmpdir(), 'raftwire-cli-')), 'never');
      expect(await clusterCommand(['--nodes', '1', '--data', data, '--raft-port', String(raftPort), '--client-port', String(clientPort)])).toBe(2);
      expect(errors[0]).toContain(`http://127.0.0.1:${clientPort} already answers: is another cluster running?`);
      expect(existsSync(data)).toBe(false); // no node was started
    } finally {
      other.close();
    }
  });

  it('stops with exit code 1 once every node has exited on its own', async () => {
    dataRoot = mkdtempSync(join(tmpdir(), 'raftwire-cli-cluster-'));
    const [raftPort, clientPort] = await freePorts(2);
    // A file where the node's data directory should be: the node cannot open its log and exits.
    writeFileSync(join(dataRoot, 'n1'), 'not a directory');
    cluster = spawn(process.execPath, ['--import', 'tsx', CLI, 'cluster', '--nodes', '1', '--data', dataRoot, '--raft-port', String(raftPort), '--client-port', String(clientPort)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    cluster.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    cluster.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => cluster!.once('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(output).toContain('no node is left, so the cluster stops');
    expect(output).not.toContain('cluster ready');
  });

  it('lists the node flags in --help', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    expect(await clusterCommand(['--help'])).toBe(0);
    for (const flag of ['--leader-wait', '--election-timeout', '--heartbeat', '--auth-token', '--storage-writes']) expect(lines.join('\n')).toContain(flag);
  });

  it('hands the node flags to its nodes, the token through their environment, and stops them on Ctrl-C', async () => {
    dataRoot = mkdtempSync(join(tmpdir(), 'raftwire-cli-cluster-'));
    const [raftPort, clientPort] = await freePorts(2);
    const token = `token-${process.pid}-${Date.now()}`;
    const config = join(dataRoot, 'cluster.json');
    writeFileSync(config, JSON.stringify({ 'snapshot-threshold': 500 }));
    cluster = spawn(
      process.execPath,
      ['--import', 'tsx', CLI, 'cluster', '--nodes', '1', '--data', dataRoot, '--raft-port', String(raftPort), '--client-port', String(clientPort), '--auth-token', token, '--leader-wait', '50', '--heartbeat', '20', '--config', config],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    cluster.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    cluster.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await vi.waitFor(() => expect(output).toContain('cluster ready'), { timeout: 30_000, interval: 100 });

    const url = `http://127.0.0.1:${clientPort}/v1/kv/greeting`;
    expect((await fetch(url, { method: 'PUT', body: 'hello' })).status).toBe(401);
    const authorization = `Bearer ${token}`;
    expect((await fetch(url, { method: 'PUT', body: 'hello', headers: { authorization } })).status).toBe(200);
    expect(await (await fetch(url, { headers: { authorization } })).text()).toBe('hello');

    // The node got the tuning flags on its command line and the token in its environment only.
    const nodes = processesMentioning(join(dataRoot, 'n1'));
    expect(nodes).toHaveLength(1);
    const args = nodes[0]!.args;
    expect(args.slice(args.indexOf('--leader-wait'), args.indexOf('--leader-wait') + 2)).toEqual(['--leader-wait', '50']);
    expect(args.slice(args.indexOf('--heartbeat'), args.indexOf('--heartbeat') + 2)).toEqual(['--heartbeat', '20']);
    expect(args.slice(args.indexOf('--config'), args.indexOf('--config') + 2)).toEqual(['--config', config]);
    expect(args.join(' ')).not.toContain(token);
    expect(output).not.toContain(token);
    expect(output).toContain('authorization: Bearer $RAFTWIRE_AUTH_TOKEN" --location-trusted -X PUT');

    const exited = new Promise<number | null>((resolve) => cluster!.once('exit', (code) => resolve(code)));
    cluster.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('raftwire: stopped');
    expect(processesMentioning(dataRoot)).toEqual([]);
  }, 60_000);
});
