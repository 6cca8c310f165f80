import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'raftwire-build-'));
const children = new Set<ChildProcess>();
const buildTimeoutMs = 50_000;

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the package's native sources in a scratch root, so the real build/ is never touched. */
function scratchPackage(): string {
  const dir = mkdtempSync(join(scratch, 'pkg-'));
  mkdirSync(join(dir, 'scripts'));
  cpSync(join(root, 'scripts', 'build-native.mjs'), join(dir, 'scripts', 'build-native.mjs'));
  cpSync(join(root, 'binding.gyp'), join(dir, 'binding.gyp'));
  cpSync(join(root, 'native'), join(dir, 'native'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

function runBuild(dir: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(dir, 'scripts', 'build-native.mjs')], {
      cwd: dir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), buildTimeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('scripts/build-native.mjs', () => {
  it('when the compiler fails: exits 0 with one clear warning and keeps the log', async () => {
    const dir = scratchPackage();
    const { code, stdout, stderr } = await runBuild(dir, { CC: 'false', CXX: 'false', RAFTWIRE_NATIVE: '1' });
    expect(code).toBe(0);
    const output = `${stdout}\n${stderr}`;
    const warnings = output.split('\n').filter((line) => line.startsWith('raftwire: native addon could not be built ('));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('raftwire will use its WASM/TypeScript paths');
    expect(existsSync(join(dir, 'build', 'native-build.log'))).toBe(true);
    expect(existsSync(join(dir, 'build', 'Release', 'raftwire_native.node'))).toBe(false);
  });

  it('RAFTWIRE_NATIVE=0 skips the build', async () => {
    const dir = scratchPackage();
    const { code, stdout } = await runBuild(dir, { RAFTWIRE_NATIVE: '0' });
    expect(code).toBe(0);
    expect(stdout).toContain('skipped (RAFTWIRE_NATIVE=0)');
    expect(existsSync(join(dir, 'build'))).toBe(false);
  });
});
