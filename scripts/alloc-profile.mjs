#!/usr/bin/env node
// npm run profile:alloc -- <dir> [--top 20] [--ops N]
//
// Bytes allocated per client operation, per node and per function, from the allocation profiles
// that `npm run bench:cluster -- --alloc-prof <dir>` leaves in <dir> (one .heapprofile per node,
// sampled by V8 with the objects the GC already collected included, and ops.json with the run's
// client operations). Garbage per operation is what young-generation GC time scales with, so this
// is the figure to compare before and after a change to a hot path (docs/server.md, "Speed").
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const HELP = `npm run profile:alloc -- <dir> [--top 20] [--ops N]
Per node in <dir> (from bench:cluster --alloc-prof <dir>): bytes allocated per client operation
in total, then the functions that allocated most, by their own allocations and by call path.
  --top N   functions listed per node                       [20]
  --ops N   client operations to divide by                 [<dir>/ops.json]`;

const args = process.argv.slice(2);
if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
  console.log(HELP);
  process.exit(args.length === 0 ? 2 : 0);
}
function flag(name) {
  const at = args.indexOf(`--${name}`);
  if (at === -1) return undefined;
  const value = Number(args[at + 1]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} needs a whole number ≥ 1\n\n${HELP}`);
    process.exit(2);
  }
  args.splice(at, 2);
  return value;
}
const top = flag('top') ?? 20;
let ops = flag('ops');
const dir = args[0];
let leader;
if (ops === undefined) {
  try {
    ({ ops, leader } = JSON.parse(readFileSync(join(dir, 'ops.json'), 'utf8')));
  } catch {
    console.error(`no ${join(dir, 'ops.json')}: pass --ops N\n\n${HELP}`);
    process.exit(2);
  }
}
const files = readdirSync(dir).filter((f) => f.endsWith('.heapprofile')).sort();
if (files.length === 0) {
  console.error(`no .heapprofile files in ${dir}`);
  process.exit(2);
}

const where = (frame) => `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`;
const perOp = (bytes) => Math.round(bytes / ops);

for (const file of files) {
  const { head } = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const self = new Map();
  const paths = new Map();
  let total = 0;
  // Iterative walk: deep async stacks would overflow a recursive one.
  const stack = [{ node: head, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop();
    const name = where(node.callFrame);
    if (node.selfSize > 0) {
      total += node.selfSize;
      self.set(name, (self.get(name) ?? 0) + node.selfSize);
      const key = [name, ...path.slice(-3).reverse()].join(' < ');
      paths.set(key, (paths.get(key) ?? 0) + node.selfSize);
    }
    for (const child of node.children) stack.push({ node: child, path: [...path, name] });
  }
  const role = leader !== undefined && file.startsWith(`${leader}-`) ? ' (leader)' : '';
  console.log(`\n${file}${role}: ${perOp(total)} B per operation (${(total / 1e6).toFixed(1)} MB over ${ops} operations)`);
  console.table([...self].sort((a, b) => b[1] - a[1]).slice(0, top).map(([fn, bytes]) => ({ 'B/op': perOp(bytes), function: fn })));
  console.table([...paths].sort((a, b) => b[1] - a[1]).slice(0, Math.ceil(top / 2)).map(([path, bytes]) => ({ 'B/op': perOp(bytes), 'call path (innermost first)': path })));
}
