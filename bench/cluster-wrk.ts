/**
 * HTTP load through wrk (Debian's `wrk`), the load generator issue #6 suggests: a C client does
 * not cap the server the way a Node `http` client sharing these two cores does. The bench installs
 * it with apt-get when it is missing and it can (root); otherwise it falls back to
 * bench/cluster-loadgen.ts and says so in the results.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function ensureWrk(log: (line: string) => void): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (error) {
    // wrk --version exits 1 but runs; only a missing binary throws ENOENT.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return true;
    if (process.getuid?.() !== 0) return false;
    log('installing wrk from Debian packages (apt-get install wrk)…');
    try {
      execFileSync('apt-get', ['install', '-y', '-qq', 'wrk'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
      return true;
    } catch {
      return false;
    }
  }
  return true;
}

const scripts = new Map<string, string>();

/** A wrk Lua script issuing `op` over 1,024 keys with 100-byte values. */
function script(op: string): string {
  let path = scripts.get(op);
  if (path) return path;
  const lua =
    op === 'write'
      ? `wrk.method = "PUT"\nwrk.body = string.rep("x", 100)\nlocal n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format(nil, "/v1/kv/k" .. (n % 1024))\nend\n`
      : `local n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format("GET", "/v1/kv/k" .. (n % 1024) .. "?consistency=${op}")\nend\n`;
  path = join(mkdtempSync(join(tmpdir(), 'raftwire-wrk-')), `${op}.lua`);
  writeFileSync(path, lua);
  scripts.set(op, path);
  return path;
}

function ms(text: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
}

/** One wrk run: closed-loop `concurrency` connections for `durationMs`. */
export function runWrk(url: string, op: string, concurrency: number, durationMs: number): Promise<{ ops: number; errors: number; seconds: number; p50Ms: number; p99Ms: number }> {
  return new Promise((resolve, reject) => {
    const args = ['-t1', `-c${concurrency}`, `-d${Math.max(1, Math.round(durationMs / 1000))}s`, '--latency', '-s', script(op), url];
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${out}`));
      const requests = Number(/(\d+) requests in ([\d.]+)(ms|s)/.exec(out)?.[1] ?? NaN);
      const seconds = ms(`${/(\d+) requests in ([\d.]+(?:ms|s))/.exec(out)?.[2] ?? 'NaN'}`) / 1000;
      const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + Number(/Socket errors: connect (\d+)/.exec(out)?.[1] ?? 0);
      resolve({ ops: requests - errors, errors, seconds, p50Ms: ms(/50%\s+(\S+)/.exec(out)?.[1] ?? 'NaN'), p99Ms: ms(/99%\s+(\S+)/.exec(out)?.[1] ?? 'NaN') });
    });
  });
}
