import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { envName, mergeStartSettings } from '../../src/cli/start-settings.js';
import { startCommand } from '../../src/cli/start.js';
import { freePorts } from '../support/ports.js';

const CLI = join(import.meta.dirname, '../../src/cli/main.ts');

describe('raftwire start settings: flags, environment, config file', () => {
  it('a flag wins over the environment, which wins over the file', () => {
    const file = JSON.stringify({ id: 'n1', 'leader-wait': 100, heartbeat: 30, rate: '50', peers: { n1: { raft: '127.0.0.1:7001', client: 'http://127.0.0.1:8001' } } });
    const merged = mergeStartSettings({ 'leader-wait': '300' }, { RAFTWIRE_LEADER_WAIT: '200', RAFTWIRE_HEARTBEAT: '20' }, file, 'node.json');
    expect(merged).toEqual({
      ok: true,
      values: { id: 'n1', peers: '{"n1":{"raft":"127.0.0.1:7001","client":"http://127.0.0.1:8001"}}', 'leader-wait': '300', heartbeat: '20', rate: '50' },
    });
  });

  it('names every setting RAFTWIRE_ and the flag in capitals', () => {
    expect(envName('leader-wait')).toBe('RAFTWIRE_LEADER_WAIT');
    expect(envName('cluster-secret')).toBe('RAFTWIRE_CLUSTER_SECRET');
    expect(envName('id')).toBe('RAFTWIRE_ID');
  });

  it('join: a switch in each source', () => {
    expect(mergeStartSettings({}, {}, '{"join": true}')).toEqual({ ok: true, values: { join: true } });
    expect(mergeStartSettings({}, { RAFTWIRE_JOIN: 'false' }, '{"join": true}')).toEqual({ ok: true, values: { join: false } });
    expect(mergeStartSettings({ join: true }, { RAFTWIRE_JOIN: '0' }, undefined)).toEqual({ ok: true, values: { join: true } });
    expect(mergeStartSettings({}, { RAFTWIRE_JOIN: 'maybe' }, undefined)).toMatchObject({ ok: false, message: 'RAFTWIRE_JOIN must be true or false; got "maybe"' });
  });

  it('refuses a file that is not JSON, not an object, or holds an unknown setting or a bad value, naming the file', () => {
    expect(mergeStartSettings({}, {}, '{id: n1}', 'node.json')).toMatchObject({ ok: false, message: expect.stringContaining('node.json is not valid JSON') });
    expect(mergeStartSettings({}, {}, '[]', 'node.json')).toMatchObject({ ok: false, message: 'node.json must hold a JSON object of settings' });
    expect(mergeStartSettings({}, {}, '{"leaderWait": 5}', 'node.json')).toMatchObject({ ok: false, message: expect.stringContaining('node.json: unknown setting "leaderWait"; the settings are the flag names: id, peers, data, join,') });
    expect(mergeStartSettings({}, {}, '{"join": "yes"}', 'node.json')).toMatchObject({ ok: false, message: 'node.json: "join" must be true or false' });
    expect(mergeStartSettings({}, {}, '{"rate": [1]}', 'node.json')).toMatchObject({ ok: false, message: 'node.json: "rate" must be a string or a number' });
  });
});

describe('raftwire start --config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'raftwire-config-'));
  let child: ChildProcess | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    child = undefined;
  });

  it('refuses an unreadable file, and a setting from the file that does not pass, with exit code 2', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    expect(await startCommand(['--config', join(dir, 'missing.json')])).toBe(2);
    expect(errors[0]).toContain(`cannot read the config file ${join(dir, 'missing.json')}`);
    const file = join(dir, 'bad-heartbeat.json');
    writeFileSync(file, JSON.stringify({ id: 'n1', peers: 'n1=127.0.0.1:7001/8001', heartbeat: 200 }));
    expect(await startCommand(['--config', file])).toBe(2);
    expect(errors[1]).toMatch(/heartbeatIntervalMs \(200\) must be less than electionTimeoutMinMs/);
  });

  it('starts a node from the file and the environment alone', async () => {
    const [raft, client] = await freePorts(2);
    const file = join(dir, 'n1.json');
    writeFileSync(file, JSON.stringify({ id: 'n1', peers: { n1: { raft: `127.0.0.1:${raft}`, client: `http://127.0.0.1:${client}` } }, data: join(dir, 'n1') }));
    child = spawn(process.execPath, ['--import', 'tsx', CLI, 'start'], { env: { ...process.env, RAFTWIRE_CONFIG: file, RAFTWIRE_AUTH_TOKEN: 'from-env' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await vi.waitFor(() => expect(output).toContain('[n1] serving clients'), { timeout: 20_000, interval: 50 });
    const url = `http://127.0.0.1:${client}/v1/kv/from-config`;
    await vi.waitFor(async () => expect((await fetch(url, { method: 'PUT', body: 'yes', headers: { authorization: 'Bearer from-env' } })).status).toBe(200), { timeout: 10_000, interval: 100 });
    expect((await fetch(url)).status).toBe(401); // the token came from the environment
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  }, 40_000);
});
