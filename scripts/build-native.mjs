// Builds the native addon (native/ → build/Release/raftwire_native.node) with node-gyp.
//
// Runs on `npm install` and `npm run build:native`. Only `configure` and `build`: `rebuild` and
// `clean` delete build/, where the WASM codec lives too. If anything fails, raftwire still works on
// its WASM/TypeScript paths, so this prints ONE warning, keeps the compiler output in
// build/native-build.log, and exits 0 so the install goes on.
//
// RAFTWIRE_NATIVE=0 skips the build (the runtime then uses the fallbacks as well).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const logPath = join(root, 'build', 'native-build.log');
const addonPath = join(root, 'build', 'Release', 'raftwire_native.node');
const require = createRequire(import.meta.url);
// A cold build compiles two small files; anything past this is a hung toolchain.
const stepTimeoutMs = 5 * 60_000;

function say(message) {
  console.log(`[raftwire] build:native: ${message}`);
}

function giveUp(reason) {
  console.warn(
    `raftwire: native addon could not be built (${reason}); raftwire will use its WASM/TypeScript paths` +
      (existsSync(logPath) ? ` (details: ${logPath})` : ''),
  );
  process.exit(0);
}

// Headers: npm passes its `nodedir` config as npm_config_nodedir. Run by hand, node-gyp would try
// to download them, so point it at the headers installed beside this node when they exist.
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'common.gypi')) ? [`--nodedir=${prefix}`] : [];
}

function runGyp(gypScript, step, log) {
  say(`${step}...`);
  const result = spawnSync(process.execPath, [gypScript, step, ...nodedirArgs()], {
    cwd: root,
    encoding: 'utf8',
    timeout: stepTimeoutMs,
    env: process.env,
  });
  log.push(`$ node-gyp ${step}\n${result.stdout ?? ''}${result.stderr ?? ''}`);
  if (result.error) return `node-gyp ${step}: ${result.error.message}`;
  if (result.status !== 0) return `node-gyp ${step} exited with ${result.status ?? result.signal}`;
  return null;
}

function main() {
  if (process.env.RAFTWIRE_NATIVE === '0') {
    say('skipped (RAFTWIRE_NATIVE=0)');
    return;
  }
  let gypScript;
  try {
    gypScript = require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    giveUp('node-gyp is not installed');
  }
  const log = [];
  const failure = runGyp(gypScript, 'configure', log) ?? runGyp(gypScript, 'build', log);
  mkdirSync(join(root, 'build'), { recursive: true });
  writeFileSync(logPath, log.join('\n'));
  if (failure) giveUp(failure);
  if (!existsSync(addonPath)) giveUp(`${addonPath} is missing after the build`);

  // Load it once here so a broken build is reported at install time, not at first use.
  try {
    const addon = require(addonPath);
    const check = addon.crc32c(new TextEncoder().encode('123456789'));
    if (check !== 0xe3069283) giveUp(`self-test failed: crc32c("123456789") = 0x${check.toString(16)}`);
    say(`done: ${addonPath} (CRC32C: ${addon.hardwareCrc ? 'SSE4.2 instruction' : 'software'})`);
  } catch (error) {
    giveUp(`it does not load: ${error instanceof Error ? error.message : String(error)}`);
  }
}

main();
