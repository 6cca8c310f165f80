#!/usr/bin/env node
// The layer rules of docs/architecture.md (from the design), as code, run in the default test run
// (test/layers.test.ts) and by `npm run layers`.
//   - an import never points up a layer (the table below: layer → layers it may import);
//   - src/core stays pure: no Node modules, no clock, no timers, no Math.random.
// Usage: node scripts/check-layers.mjs [project-root]   (exit 1 and one line per finding)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** layer → the layers it may import. Every layer may import itself; all but core may import util. */
export const LAYER_IMPORTS = {
  core: [],
  codec: ['core'],
  storage: ['core', 'codec'],
  resilience: [],
  transport: ['core', 'codec', 'resilience'],
  cache: ['core', 'codec'],
  node: ['core', 'codec', 'storage', 'transport', 'resilience'],
  cluster: ['core', 'codec', 'transport', 'resilience', 'node'],
  scheduler: ['core', 'codec', 'transport', 'resilience', 'cluster', 'node'],
  client: ['core', 'codec', 'transport', 'resilience'],
  server: ['core', 'codec', 'storage', 'transport', 'resilience', 'cache', 'node', 'cluster', 'scheduler', 'client'],
  framework: ['core', 'codec', 'storage', 'transport', 'resilience', 'cache', 'node', 'cluster', 'scheduler', 'server', 'client'],
  cli: ['core', 'codec', 'storage', 'transport', 'resilience', 'cache', 'node', 'cluster', 'scheduler', 'server', 'client', 'framework'],
  util: [],
};

// What would make the core impure, each with the reason printed.
const CORE_FORBIDDEN = [
  [/\bfrom\s+['"](node:[^'"]+|fs|net|http|https|os|child_process|crypto|dgram|worker_threads|perf_hooks)['"]/, 'imports a Node module'],
  [/\bimport\s*\(\s*['"]node:/, 'imports a Node module'],
  [/\brequire\s*\(/, 'uses require'],
  [/\bMath\.random\s*\(/, 'uses Math.random (inject the seeded generator)'],
  [/\bDate\.now\s*\(|\bnew Date\s*\(|\bperformance\.now\s*\(|\bprocess\.hrtime/, 'reads the clock (time enters as tick())'],
  [/\bset(Timeout|Interval|Immediate)\s*\(|\bqueueMicrotask\s*\(/, 'schedules work (the caller drives the core)'],
  [/\bprocess\./, 'touches the process'],
];

function listSources(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listSources(path));
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function stripComments(text) {
  // Keeps line numbers: block comments become blank lines, line comments are cut.
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (block) => block.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Returns the findings for the project at `root`, one string each. */
export function checkLayers(root) {
  const src = join(resolve(root), 'src');
  const layerOf = (file) => relative(src, file).split(sep)[0];
  const findings = [];
  let files;
  try {
    files = listSources(src);
  } catch {
    return { files: 0, findings: ['no src/ folder'] };
  }
  for (const file of files) {
    const layer = layerOf(file);
    const rel = relative(root, file);
    if (!(layer in LAYER_IMPORTS)) {
      if (file !== join(src, layer)) findings.push(`${rel}: folder '${layer}' is not a layer of the design`);
      continue;
    }
    const text = stripComments(readFileSync(file, 'utf8'));
    const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]);
    for (const spec of specifiers) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(src + sep)) {
        findings.push(`${rel}: imports '${spec}' from outside src/`);
        continue;
      }
      const to = layerOf(target);
      if (to === layer) continue;
      if (to === 'util' && layer !== 'core') continue;
      if (/\.(ts|js)$/.test(to)) continue; // src/index.ts, the package entry point, is above every layer
      if (!LAYER_IMPORTS[layer].includes(to)) findings.push(`${rel}: ${layer} imports ${to} ('${spec}'), which the layers do not allow`);
    }
    if (layer === 'core') {
      text.split('\n').forEach((line, i) => {
        for (const [pattern, why] of CORE_FORBIDDEN) if (pattern.test(line)) findings.push(`${rel}:${i + 1}: core ${why}`);
      });
    }
  }
  return { files: files.length, findings };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { files, findings } = checkLayers(process.argv[2] ?? '.');
  for (const f of findings) console.log(f);
  console.log(findings.length ? `${findings.length} layer finding(s)` : `layers: ${files} files, no findings`);
  process.exit(findings.length ? 1 : 0);
}
