/**
 * One node of bench/cluster.bench.ts: `raftwire start` (src/cli/start.ts) with two bench-only
 * switches the CLI does not offer on purpose.
 *
 * It runs the compiled package (dist/, what `npm start` and users run), not the TypeScript
 * sources through tsx: tsx's transform wraps every closure in a `__name` call, which cost about 4%
 * of the HTTP path in a profile and would be measured as ours. The bench compiles dist/ first.
 *
 * - `--unsafe-no-fsync`: the LMDB log never syncs (LmdbLogStore `durability: 'none'`). UNSAFE: an
 *   acknowledged write can be lost on a crash. It exists to see the ceiling of everything that is
 *   not the disk (server, client, Raft, transport), beside the durable figures.
 * - CPU profiles: run this file with `node --cpu-prof --cpu-prof-dir DIR` (the bench's `--cpu-prof`).
 * - `--alloc-prof DIR`: V8's sampling heap profiler from the first SIGUSR2 (the bench sends it
 *   once the cluster is up and preloaded, so start-up is not counted) to exit, counting objects
 *   the GC has already collected too (what was allocated, not what is left), written to
 *   `DIR/<id>-<pid>.heapprofile`. `node --heap-prof` cannot do this: it keeps live objects only.
 *   `npm run profile:alloc -- DIR` reads them.
 *
 * Usage: node bench/cluster-node.mjs [--unsafe-no-fsync] [--alloc-prof DIR] start --id n1 --peers … --data …
 */
import inspector from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LmdbLogStore } from '../dist/src/storage/index.js';
import { startCommand } from '../dist/src/cli/start.js';

const args = process.argv.slice(2);
const unsafe = args.includes('--unsafe-no-fsync');
const rest = args.filter((a) => a !== '--unsafe-no-fsync');
const allocAt = rest.indexOf('--alloc-prof');
const allocDir = allocAt === -1 ? undefined : rest.splice(allocAt, 2)[1];
if (rest[0] === 'start') rest.shift();

if (allocDir !== undefined) {
  const id = rest[rest.indexOf('--id') + 1] ?? 'node';
  const session = new inspector.Session();
  session.connect();
  let sampling = false;
  process.once('SIGUSR2', () => {
    sampling = true;
    // One sample per 16 KiB allocated on average: enough for per-function figures per operation.
    session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  });
  // The in-thread session answers synchronously, so the profile is written before the exit.
  process.on('exit', () => {
    if (!sampling) return;
    session.post('HeapProfiler.stopSampling', (error, result) => {
      if (error) console.error(`alloc profile: ${error.message}`);
      else writeFileSync(join(allocDir, `${id}-${process.pid}.heapprofile`), JSON.stringify(result.profile));
    });
  });
}

if (unsafe) {
  const open = LmdbLogStore.open.bind(LmdbLogStore);
  LmdbLogStore.open = (path, options = {}) => open(path, { ...options, durability: 'none' });
}

// --cpu-prof writes its profile on a normal exit only: turn SIGTERM/SIGINT into one.
startCommand(rest).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
