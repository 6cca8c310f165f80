/**
 * HTTP load through wrk (Debian's `wrk`), the load generator issue #6 suggests: a C client does
 * not cap the server the way a Node `http` client sharing these two cores does. The bench installs
 * it with apt-get when it is missing and it can (root); otherwise it falls back to
 * bench/cluster-loadgen.mjs and says so in the results.
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

/** A wrk Lua script issuing `op` over `keys` keys with 100-byte values. */
function script(op: string, keys: number): string {
  let path = scripts.get(`${op}/${keys}`);
  if (path) return path;
  const issue =
    op === 'write'
      ? `wrk.method = "PUT"\nwrk.body = string.rep("x", 100)\nlocal n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format(nil, "/v1/kv/k" .. (n % ${keys}))\nend\n`
      : `local n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format("GET", "/v1/kv/k" .. (n % ${keys}) .. "?consistency=${op}")\nend\n`;
  // wrk counts 3xx as success: a follower's 307 (after a leader change mid-run) would count as a
  // served write in a fraction of the time. Count every answer that is not 200 as an error.
  const countNot200 =
    `local threads = {}\nsetup = function(thread) table.insert(threads, thread) end\nnot200 = 0\n` +
    `response = function(status, headers, body) if status ~= 200 then not200 = not200 + 1 end end\n` +
    `done = function(summary, latency, requests)\n  local total = 0\n  for _, t in ipairs(threads) do total = total + t:get("not200") end\n  io.write("raftwire-not-200: " .. total .. "\\n")\nend\n`;
  const lua = issue + countNot200;
  path = join(mkdtempSync(join(tmpdir(), 'raftwire-wrk-')), `${op}.lua`);
  writeFileSync(path, lua);
  scripts.set(`${op}/${keys}`, path);
  return path;
}

/** wrk's durations: `88.00us`, `3.04ms`, `1.20s`, `1.00m`, `1.00h`. */
function ms(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!match) {
    if (text !== 'NaN') process.stderr.write(`wrk: cannot read the duration ${JSON.stringify(text)}\n`);
    return NaN;
  }
  const value = Number(match[1]);
  const scale: Record<string, number> = { us: 0.001, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  return value * scale[match[2]!]!;
}

/**
 * A percentile from wrk's "Latency Distribution" (a line "  50%  3.97ms"). Anchored to the start
 * of the line: a "+/- Stdev" column such as "75.50%" also ends in "50%", and unanchored the
 * match once read the word after it ("Latency") as the p50.
 */
export function percentile(out: string, p: 50 | 75 | 90 | 99): number {
  return ms(new RegExp(`^\\s*${p}%\\s+(\\S+)\\s*$`, 'm').exec(out)?.[1] ?? 'NaN');
}

/** One wrk run: closed-loop `concurrency` connections for `durationMs`. */
export function runWrk(url: string, op: string, concurrency: number, durationMs: number, keys = 1024): Promise<{ ops: number; errors: number; seconds: number; p50Ms: number; p99Ms: number }> {
  return new Promise((resolve, reject) => {
    const args = ['-t1', `-c${concurrency}`, `-d${Math.max(1, Math.round(durationMs / 1000))}s`, '--latency', '-s', script(op, keys), url];
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${out}`));
      const requests = Number(/(\d+) requests in ([\d.]+)(ms|s)/.exec(out)?.[1] ?? NaN);
      const seconds = ms(`${/(\d+) requests in ([\d.]+(?:ms|s))/.exec(out)?.[2] ?? 'NaN'}`) / 1000;
      const errors = Number(/raftwire-not-200: (\d+)/.exec(out)?.[1] ?? 0) + Number(/Socket errors: connect (\d+)/.exec(out)?.[1] ?? 0);
      resolve({ ops: requests - errors, errors, seconds, p50Ms: percentile(out, 50), p99Ms: percentile(out, 99) });
    });
  });
}
