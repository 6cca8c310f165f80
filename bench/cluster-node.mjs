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
 *
 * Usage: node bench/cluster-node.mjs [--unsafe-no-fsync] start --id n1 --peers … --data …
 */
import { LmdbLogStore } from '../dist/src/storage/index.js';
import { startCommand } from '../dist/src/cli/start.js';

const args = process.argv.slice(2);
const unsafe = args.includes('--unsafe-no-fsync');
const rest = args.filter((a) => a !== '--unsafe-no-fsync');
if (rest[0] === 'start') rest.shift();

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
