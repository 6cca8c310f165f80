// scripts/long-tasks.mjs (npm run profile:tasks) on a hand-made profile whose long task is known.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../scripts/long-tasks.mjs', import.meta.url));
const frame = (functionName: string) => ({ functionName, url: 'file:///app/src/node/x.js', lineNumber: 9, columnNumber: 0, scriptId: '1' });

describe('npm run profile:tasks', () => {
  it('reports a run of samples under one top-level frame as one task, GC inside it included, and not the short ones', () => {
    // root(1) → idle(2), gc(3), tick(4) → serialize(5), other(6)
    const nodes = [
      { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 6] },
      { id: 2, callFrame: frame('(idle)'), children: [] },
      { id: 3, callFrame: frame('(garbage collector)'), children: [] },
      { id: 4, callFrame: frame('tick'), children: [5] },
      { id: 5, callFrame: frame('serialize'), children: [] },
      { id: 6, callFrame: frame('other'), children: [] },
    ];
    // 10 ms apart: idle, then tick>serialize ×6 with a GC sample among them (a 70 ms task),
    // idle, then other ×2 (a 10 ms task, under the threshold), idle.
    const samples = [2, 5, 5, 5, 3, 5, 5, 5, 2, 6, 6, 2];
    const profile = { nodes, startTime: 0, endTime: samples.length * 10_000, samples, timeDeltas: samples.map(() => 10_000) };
    const dir = mkdtempSync(join(tmpdir(), 'raftwire-profile-'));
    try {
      const file = join(dir, 'x.cpuprofile');
      writeFileSync(file, JSON.stringify(profile));
      const out = execFileSync(process.execPath, [script, file, '--min-ms', '30'], { encoding: 'utf8' });
      expect(out).toContain('1 tasks of 30 ms or more');
      expect(out).toMatch(/\+0\.01 s: 70 ms in tick/);
      expect(out).toMatch(/60\.0 ms {2}serialize/);
      expect(out).toMatch(/10\.0 ms {2}\(garbage collector\)/);
      expect(out).not.toContain('in other');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
