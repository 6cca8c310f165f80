#!/usr/bin/env node
// npm run profile:tasks -- <file.cpuprofile>… [--min-ms 60] [--from-s 0]
//
// The long single tasks in V8 CPU profiles (from `node --cpu-prof`, or bench:cluster --cpu-prof):
// a run of consecutive samples under the same top-level frame (GC and "(program)" samples allowed
// inside) is one task that held the event loop. A busy node is never idle, so idle gaps do not
// show stalls; long tasks do. This is how the snapshot stalls of docs/cache.md were found.
import { readFileSync } from 'node:fs';

const HELP = `npm run profile:tasks -- <file.cpuprofile>… [--min-ms 60] [--from-s 0]
Lists the single tasks of at least --min-ms in each profile (from --from-s seconds into it), with
the functions that took their time and the call paths under them.
  --min-ms MS   shortest task reported                      [60]
  --from-s S    skip tasks that started earlier (start-up)  [0]`;

const args = process.argv.slice(2);
if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
  console.log(HELP);
  process.exit(args.length === 0 ? 2 : 0);
}
function flag(name, fallback) {
  const at = args.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isFinite(value) || value < 0) {
    console.error(`--${name} needs a number ≥ 0\n\n${HELP}`);
    process.exit(2);
  }
  args.splice(at, 2);
  return value;
}
const minMs = flag('min-ms', 60);
const fromS = flag('from-s', 0);

const NEUTRAL = new Set(['(garbage collector)', '(program)']);

function report(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const rootId = profile.nodes[0].id;
  const frame = (id) => {
    const f = byId.get(id).callFrame;
    return `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  };
  const path = (id) => {
    const out = [];
    for (let at = id; at !== undefined && at !== rootId; at = parent.get(at)) out.push(at);
    return out.reverse();
  };
  let time = profile.startTime;
  const samples = profile.samples.map((id, i) => ({ id, t: (time += profile.timeDeltas[i]), dt: profile.timeDeltas[i] }));
  const tasks = [];
  let top = null;
  let first = 0;
  const close = (last) => {
    if (top === null) return;
    // A sample stands for the interval that ends at it: the task spans from the sample before its first.
    const ms = (samples[last].t - samples[first].t + samples[first].dt) / 1000;
    if (ms >= minMs && (samples[first].t - profile.startTime) / 1e6 >= fromS) tasks.push({ first, last, ms, top });
  };
  for (let i = 0; i < samples.length; i++) {
    const name = byId.get(samples[i].id).callFrame.functionName;
    if (NEUTRAL.has(name)) continue;
    const outer = path(samples[i].id)[0];
    if (outer !== top) {
      close(Math.max(0, i - 1));
      top = name === '(idle)' ? null : outer;
      first = i;
    }
  }
  close(samples.length - 1);
  console.log(`${file}: ${tasks.length} tasks of ${minMs} ms or more`);
  const largest = (map, k) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([what, ms]) => `      ${ms.toFixed(1)} ms  ${what}`)
      .join('\n');
  for (const task of tasks) {
    const self = new Map();
    const paths = new Map();
    let gapsMs = 0;
    for (let i = task.first; i <= task.last; i++) {
      const sample = samples[i];
      if (sample.dt > 20_000) gapsMs += sample.dt / 1000;
      const key = frame(sample.id);
      self.set(key, (self.get(key) ?? 0) + sample.dt / 1000);
      const chain = path(sample.id)
        .slice(0, 6)
        .map((id) => byId.get(id).callFrame.functionName || '(anonymous)')
        .join(' > ');
      paths.set(chain, (paths.get(chain) ?? 0) + sample.dt / 1000);
    }
    const at = ((samples[task.first].t - samples[task.first].dt - profile.startTime) / 1e6).toFixed(2);
    // A gap between samples over 20 ms: the process was descheduled, or in one long native call.
    console.log(`  +${at} s: ${task.ms.toFixed(0)} ms in ${frame(task.top)} (sample gaps over 20 ms: ${gapsMs.toFixed(0)} ms)`);
    console.log(`    self time:\n${largest(self, 5)}\n    paths:\n${largest(paths, 3)}`);
  }
}

for (const file of args) report(file);
