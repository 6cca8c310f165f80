// scripts/alloc-profile.mjs (npm run profile:alloc) on hand-made sampling heap profiles whose
// bytes per operation are known.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../scripts/alloc-profile.mjs', import.meta.url));

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number; scriptId: string };
  selfSize: number;
  children: HeapNode[];
}
const node = (functionName: string, selfSize: number, children: HeapNode[] = []): HeapNode => ({
  callFrame: { functionName, url: 'file:///app/dist/src/server/x.js', lineNumber: 9, columnNumber: 0, scriptId: '1' },
  selfSize,
  children,
});

function withProfiles(files: Record<string, unknown>, run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'raftwire-alloc-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(content));
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('npm run profile:alloc', () => {
  it('divides each node’s allocations by the run’s operations, per function and per call path, and marks the leader', () => {
    // n1: serve 6,000 B of its own, encode 3,000 under serve, and 1,000 elsewhere: 10,000 B.
    const leader = { head: node('(root)', 0, [node('serve', 6_000, [node('encode', 3_000)]), node('tick', 1_000)]) };
    const follower = { head: node('(root)', 0, [node('apply', 2_000)]) };
    const files = { 'n1-10.heapprofile': leader, 'n2-11.heapprofile': follower, 'ops.json': { ops: 100, leader: 'n1' } };
    withProfiles(files, (dir) => {
      const out = execFileSync(process.execPath, [script, dir, '--top', '5'], { encoding: 'utf8' });
      expect(out).toMatch(/n1-10\.heapprofile \(leader\): 100 B per operation/);
      expect(out).toMatch(/n2-11\.heapprofile: 20 B per operation/);
      expect(out).not.toMatch(/n2-11\.heapprofile \(leader\)/);
      expect(out).toMatch(/│\s+60\s+│ 'serve server\/x\.js:10'/);
      expect(out).toMatch(/│\s+30\s+│ 'encode server\/x\.js:10 < serve server\/x\.js:10/);
    });
  });

  it('takes --ops when there is no ops.json, and refuses to guess without either', () => {
    const files = { 'n1-1.heapprofile': { head: node('(root)', 0, [node('apply', 5_000)]) } };
    withProfiles(files, (dir) => {
      expect(execFileSync(process.execPath, [script, dir, '--ops', '50'], { encoding: 'utf8' })).toMatch(/100 B per operation/);
      expect(() => execFileSync(process.execPath, [script, dir], { encoding: 'utf8', stdio: 'pipe' })).toThrow(/ops\.json/);
    });
  });
});
