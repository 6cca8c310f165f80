import { afterEach, describe, expect, it, vi } from 'vitest';
import { startCommand } from '../../src/cli/start.js';

describe('raftwire start: flags checked before anything starts', () => {
  afterEach(() => vi.restoreAllMocks());

  it('refuses an unknown --storage-writes with exit code 2 and says which values it takes', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    const code = await startCommand(['--id', 'n1', '--peers', 'n1=127.0.0.1:7001/8001', '--storage-writes', 'fast']);
    expect(code).toBe(2);
    expect(errors.join('\n')).toContain('--storage-writes must be async or sync');
  });

  it('refuses a --snapshot-log-ratio that is not a number ≥ 0', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    for (const bad of ['-1', 'half', 'Infinity']) {
      expect(await startCommand(['--id', 'n1', '--peers', 'n1=127.0.0.1:7001/8001', `--snapshot-log-ratio=${bad}`])).toBe(2);
    }
    expect(errors.filter((line) => line.includes('--snapshot-log-ratio must be a number ≥ 0'))).toHaveLength(3);
  });

  it('refuses a --leader-wait that is not a whole number of ms ≥ 0', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    for (const bad of ['-5', 'soon', '1.5']) {
      expect(await startCommand(['--id', 'n1', '--peers', 'n1=127.0.0.1:7001/8001', `--leader-wait=${bad}`])).toBe(2);
    }
    expect(errors.filter((line) => line.includes('--leader-wait must be a whole number of ms ≥ 0'))).toHaveLength(3);
  });

  it('lists --storage-writes in --help', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    expect(await startCommand(['--help'])).toBe(0);
    expect(lines.join('\n')).toMatch(/--storage-writes <m>.*\n.*sync: one batch at a time/);
    expect(lines.join('\n')).toMatch(/--leader-wait <ms>.*\n.*before 503/);
  });
});
