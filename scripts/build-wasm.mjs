// Compiles assembly/ (the WASM wire codec and CRC32C) to build/codec.wasm with AssemblyScript.
// Runs from `npm run build` (and so from `prepare` on npm install). A compile error fails the
// build loudly: a package without its codec.wasm would silently fall back to the slower TS path.
// build/ is shared with node-gyp's output: create it if missing, never delete it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
const output = join(root, 'build', 'codec.wasm');

mkdirSync(join(root, 'build'), { recursive: true });
const args = [
  asc, join(root, 'assembly', 'index.ts'),
  '-o', output,
  '-O3', '--converge', '--noAssert',
  '--runtime', 'stub',
  // The module is fed through explicit pointers; keep its static data small and the heap after it.
  '--initialMemory', '2',
];
const started = Date.now();
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (result.error || result.status !== 0) {
  console.error(`[raftwire] build:wasm FAILED (asc exit ${result.status ?? result.error?.message}); see the compiler output above`);
  process.exit(1);
}
console.log(`[raftwire] build:wasm: build/codec.wasm (${statSync(output).size} bytes) in ${Date.now() - started} ms`);
