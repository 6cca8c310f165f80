import { parseArgs } from 'node:util';
import { startCacheNode } from '../server/index.js';
import { parsePeers } from './peers.js';

export const START_HELP = `raftwire start: run one node

Options:
  --id <id>              this node's id (must be one of --peers)            [required]
  --peers <peers>        the cluster: JSON {"n1":{"raft":"h:p","client":"http://h:p"},…}
                         or compact n1=127.0.0.1:7001/8001,n2=…             [required]
  --data <dir>           data directory (log and snapshots)                 [default: ./data/<id>]
  --join                 this node is new to a running cluster: start with an empty log and no
                         configuration, and wait to be added (raftwire member add <id> …);
                         --peers lists this node and every current member (their addresses;
                         the membership itself comes from the leader's log)
  --transport <t>        uws (binary WebSocket, default) or http (JSON)
  --cluster-secret <s>   shared secret peers must prove (or RAFTWIRE_CLUSTER_SECRET)
  --auth-token <t>       bearer token clients must send (or RAFTWIRE_AUTH_TOKEN)
  --rate <n>             client requests per second before 429 (default: unlimited)
  --leader-wait <ms>     during an election, how long a write or read waits for a leader
                         before 503 (0: answer 503 at once)                [default: 1000]
  --snapshot-threshold <n>   applied entries between snapshots, at least; and the log since the
                         last one must hold half its bytes (docs/node.md)  [default: 10000]
  --snapshot-log-ratio <r>   that fraction; 0: every --snapshot-threshold entries  [default: 0.5]
  --election-timeout <min-max>  election timeout range, ms               [default: 150-300]
  --heartbeat <ms>       leader heartbeat interval                       [default: 50]
  --storage-writes <m>   async: take the next Raft batch while the last one syncs;
                         sync: one batch at a time (docs/node.md)          [default: sync]
  -h, --help             show this text

Stops cleanly on SIGINT/SIGTERM: drains, hands leadership away, closes the log.
Stops by itself, the same way, once it has applied its own removal (raftwire member remove <id>).`;

export async function startCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      id: { type: 'string' },
      peers: { type: 'string' },
      data: { type: 'string' },
      transport: { type: 'string', default: 'uws' },
      'cluster-secret': { type: 'string' },
      'auth-token': { type: 'string' },
      rate: { type: 'string' },
      'leader-wait': { type: 'string' },
      'snapshot-threshold': { type: 'string' },
      'snapshot-log-ratio': { type: 'string' },
      'election-timeout': { type: 'string' },
      heartbeat: { type: 'string' },
      'storage-writes': { type: 'string', default: 'sync' },
      join: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(START_HELP);
    return 0;
  }
  if (!values.id || !values.peers) {
    console.error(`raftwire start: --id and --peers are required\n\n${START_HELP}`);
    return 2;
  }
  if (values.transport !== 'uws' && values.transport !== 'http') {
    console.error(`raftwire start: --transport must be uws or http`);
    return 2;
  }
  if (values['storage-writes'] !== 'async' && values['storage-writes'] !== 'sync') {
    console.error(`raftwire start: --storage-writes must be async or sync`);
    return 2;
  }
  const snapshotLogRatio = values['snapshot-log-ratio'] === undefined ? undefined : Number(values['snapshot-log-ratio']);
  if (snapshotLogRatio !== undefined && !(Number.isFinite(snapshotLogRatio) && snapshotLogRatio >= 0)) {
    console.error(`raftwire start: --snapshot-log-ratio must be a number ≥ 0`);
    return 2;
  }
  const leaderWaitMs = values['leader-wait'] === undefined ? undefined : Number(values['leader-wait']);
  if (leaderWaitMs !== undefined && !(Number.isSafeInteger(leaderWaitMs) && leaderWaitMs >= 0)) {
    console.error(`raftwire start: --leader-wait must be a whole number of ms ≥ 0`);
    return 2;
  }
  const peers = parsePeers(values.peers);
  const raft: Record<string, number | boolean> = { asyncStorageWrites: values['storage-writes'] === 'async' };
  if (values['snapshot-threshold']) raft.snapshotThreshold = Number(values['snapshot-threshold']);
  if (values.heartbeat) raft.heartbeatIntervalMs = Number(values.heartbeat);
  if (values['election-timeout']) {
    const [min, max] = values['election-timeout'].split('-').map(Number);
    raft.electionTimeoutMinMs = min!;
    raft.electionTimeoutMaxMs = max!;
  }
  let removed = (): void => undefined;
  const handle = await startCacheNode({
    id: values.id,
    peers,
    dataDir: values.data ?? `./data/${values.id}`,
    transport: values.transport,
    clusterSecret: values['cluster-secret'] ?? process.env.RAFTWIRE_CLUSTER_SECRET,
    authToken: values['auth-token'] ?? process.env.RAFTWIRE_AUTH_TOKEN,
    requestsPerSecond: values.rate ? Number(values.rate) : undefined,
    raft,
    ...(snapshotLogRatio !== undefined ? { snapshotLogRatio } : {}),
    ...(leaderWaitMs !== undefined ? { leaderWaitMs } : {}),
    join: values.join,
    onRemoved: () => removed(),
    onStorageFull: (error) => console.error(`[${values.id}] ${error.message}; serving stale reads only, retrying every 5 s`),
    onFatal: (error) => {
      console.error(`[${values.id}] fatal: ${error.message}`);
      process.exit(1);
    },
  });
  console.log(`[${values.id}] serving clients on ${peers[values.id]!.client}, raft on ${peers[values.id]!.raft} (${values.transport})`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    removed = () => {
      console.log(`[${values.id}] removed from the cluster`);
      resolve();
    };
  });
  console.log(`[${values.id}] stopping`);
  await handle.stop();
  // Exit now rather than when the last client hangs up: closing uWS's listen socket leaves the
  // connections it accepted open (keep-alive clients would hold a stopped node's process alive).
  process.exit(0);
}
