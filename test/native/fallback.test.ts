import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { crc32cTs } from '../../src/codec/crc32c-ts.js';
import { loadNative, nativeWarningCode } from '../../src/codec/native.js';
import { wasmCodecPath } from '../../src/codec/wasm.js';
import { fallbackInputs } from './fixtures/fallback-inputs.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const childScript = fileURLToPath(new URL('./fixtures/fallback-child.ts', import.meta.url));
const childTimeoutMs = 50_000;
const children = new Set<ChildProcess>();
const scratch = mkdtempSync(join(tmpdir(), 'raftwire-native-'));

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface ChildReport {
  implementation: string;
  native: boolean;
  backing: string;
  crcs: number[];
  doubleRelease: string | undefined;
}

/** Runs the fixture under tsx with `env` on top of a clean native environment. */
function runChild(seed: number, env: Record<string, string>): Promise<{ report: ChildReport; stderr: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (env.RAFTWIRE_NATIVE === undefined) delete childEnv.RAFTWIRE_NATIVE;
  if (env.RAFTWIRE_NATIVE_PATH === undefined) delete childEnv.RAFTWIRE_NATIVE_PATH;
  if (env.RAFTWIRE_WASM === undefined) delete childEnv.RAFTWIRE_WASM;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', childScript, String(seed)], {
      cwd: root,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), childTimeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (code !== 0) {
        reject(new Error(`child exited with ${code ?? signal}\n${stderr}`));
        return;
      }
      resolve({ report: JSON.parse(stdout.trim().split('\n').pop()!) as ChildReport, stderr });
    });
  });
}

function expectedCrcs(seed: number): number[] {
  return fallbackInputs(seed).map(({ data, crc }) => crc32cTs(data, crc));
}

function warningCount(stderr: string): number {
  return stderr.split(`[${nativeWarningCode}]`).length - 1;
}

describe('fallback when the native addon is not used', () => {
  it('RAFTWIRE_NATIVE=0 (and no WASM): warns exactly once, uses the TS paths, same answers', async () => {
    const seed = 11;
    const { report, stderr } = await runChild(seed, { RAFTWIRE_NATIVE: '0', RAFTWIRE_WASM: '0' });
    expect(warningCount(stderr)).toBe(1);
    expect(stderr).toContain('RAFTWIRE_NATIVE=0');
    expect(report).toMatchObject({ implementation: 'ts', native: false, backing: 'js', doubleRelease: 'NATIVE_ERR_POOL_DOUBLE_RELEASE' });
    expect(report.crcs).toEqual(expectedCrcs(seed));
  });

  it('an addon file that fails to load: warns exactly once with the reason, same answers', async () => {
    const seed = 12;
    const broken = join(scratch, 'raftwire_native.node');
    writeFileSync(broken, 'not a shared object');
    const { report, stderr } = await runChild(seed, { RAFTWIRE_NATIVE_PATH: broken });
    expect(warningCount(stderr)).toBe(1);
    expect(stderr).toContain('failed to load');
    expect(report).toMatchObject({ implementation: wasmCodecPath() === null ? 'ts' : 'wasm', native: false, backing: 'js' });
    expect(report.crcs).toEqual(expectedCrcs(seed));
  });

  it.skipIf(wasmCodecPath() === null)('RAFTWIRE_NATIVE=0 with the WASM codec built: CRC32C on WASM, same answers', async () => {
    const seed = 14;
    const { report, stderr } = await runChild(seed, { RAFTWIRE_NATIVE: '0' });
    expect(warningCount(stderr)).toBe(1);
    expect(report).toMatchObject({ implementation: 'wasm', native: false, backing: 'js' });
    expect(report.crcs).toEqual(expectedCrcs(seed));
  });

  it.skipIf(loadNative() === null)('with the addon built: no warning, native paths, same answers', async () => {
    const seed = 13;
    const { report, stderr } = await runChild(seed, {});
    expect(warningCount(stderr)).toBe(0);
    expect(report.implementation).toMatch(/^native-/);
    expect(report).toMatchObject({ native: true, backing: 'native', doubleRelease: 'NATIVE_ERR_POOL_DOUBLE_RELEASE' });
    expect(report.crcs).toEqual(expectedCrcs(seed));
  });
});
