import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { checkLayers } from '../scripts/check-layers.mjs';

type Report = { files: number; findings: string[] };
const check = checkLayers as (root: string) => Report;

describe('layer rules', () => {
  it('hold for this repository', () => {
    const report = check(join(import.meta.dirname, '..'));
    expect(report.findings).toEqual([]);
    expect(report.files).toBeGreaterThan(0);
  });

  describe('are enforced', () => {
    const root = mkdtempSync(join(tmpdir(), 'raftwire-layers-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const write = (path: string, text: string) => {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    write('src/core/raft.ts', "import { x } from '../codec/frame.js';\nconst t = Date.now();\nconst r = Math.random();\n// setTimeout( in a comment is fine\n");
    write('src/codec/frame.ts', "import { y } from '../storage/log.js';\nimport { z } from '../core/raft.js';\nimport { c } from '../util/clock.js';\n");
    write('src/transport/net.ts', "import { n } from '../node/raft-node.js';\nimport { readFileSync } from 'node:fs';\n");
    write('src/storage/log.ts', "export const y = 1;\n");

    const { findings } = check(root);

    it('an import pointing up a layer is a finding', () => {
      expect(findings).toContainEqual(expect.stringContaining("core imports codec"));
      expect(findings).toContainEqual(expect.stringContaining("codec imports storage"));
      expect(findings).toContainEqual(expect.stringContaining("transport imports node"));
    });
    it('downward imports, util imports and Node modules outside core are allowed', () => {
      expect(findings.some((f) => f.includes("codec imports core"))).toBe(false);
      expect(findings.some((f) => f.includes('util'))).toBe(false);
      expect(findings.some((f) => f.startsWith('src/transport/net.ts') && f.includes('Node module'))).toBe(false);
    });
    it('the core may not read the clock or use Math.random; comments do not count', () => {
      expect(findings).toContainEqual('src/core/raft.ts:2: core reads the clock (time enters as tick())');
      expect(findings).toContainEqual('src/core/raft.ts:3: core uses Math.random (inject the seeded generator)');
      expect(findings.some((f) => f.startsWith('src/core/raft.ts:4'))).toBe(false);
    });
  });
});
