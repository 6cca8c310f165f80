/**
 * The flags that tune one node, shared by `raftwire start` (which runs one node with them) and
 * `raftwire cluster` (which checks them once and hands them to every node it starts). Checking
 * them in the cluster's own process matters: a bad value would otherwise make every child exit
 * with code 2 while the cluster waited 20 s for a leader that could never come.
 *
 * @example
 * ```ts
 * const parsed = parseNodeOptions({ 'leader-wait': '250', heartbeat: '20' });
 * if (!parsed.ok) console.error(parsed.message);
 * else parsed.options.leaderWaitMs; // 250
 * nodeOptionArgs({ 'leader-wait': '250', 'auth-token': 't' }); // ['--leader-wait', '250']: secrets go by env
 * ```
 */
import { resolveRaftConfig, type RaftConfig } from '../core/config.js';
import { InvalidConfigError } from '../core/errors.js';
import type { CacheNodeOptions } from '../server/index.js';

/** `parseArgs` specs of the node flags (all strings, so a cluster can hand them on verbatim). */
export const NODE_OPTION_SPECS = {
  transport: { type: 'string' },
  'cluster-secret': { type: 'string' },
  'auth-token': { type: 'string' },
  rate: { type: 'string' },
  'leader-wait': { type: 'string' },
  'snapshot-threshold': { type: 'string' },
  'snapshot-log-ratio': { type: 'string' },
  'election-timeout': { type: 'string' },
  heartbeat: { type: 'string' },
  'storage-writes': { type: 'string' },
  'body-bytes-max': { type: 'string' },
  'inflight-max': { type: 'string' },
  'request-timeout': { type: 'string' },
  'ws-connections-max': { type: 'string' },
} as const;

export type NodeOptionName = keyof typeof NODE_OPTION_SPECS;
export type NodeOptionValues = Partial<Record<NodeOptionName, string>>;

/** The help lines of the node flags, in `NODE_OPTION_SPECS` order. */
export const NODE_OPTIONS_HELP = `  --transport <t>        uws (binary WebSocket, default) or http (JSON)
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
  --body-bytes-max <n>   largest client request body, bytes (413 past it)  [default: 1052672]
  --inflight-max <n>     client requests served at once (503 past it)      [default: 10000]
  --request-timeout <ms> a client request not answered by then gets 504    [default: 10000]
  --ws-connections-max <n>   open WebSocket client connections (503 past it)  [default: 10000]`;

/** What the node flags set in `startCacheNode`'s options. */
export type NodeTuning = Pick<
  CacheNodeOptions,
  'transport' | 'clusterSecret' | 'authToken' | 'requestsPerSecond' | 'raft' | 'snapshotLogRatio' | 'leaderWaitMs' | 'bodyBytesMax' | 'inflightRequestsMax' | 'requestTimeoutMs' | 'webSocketConnectionsMax'
>;

/** The server limits: flag, option, and the least value that makes sense. */
const LIMIT_FLAGS = [
  ['body-bytes-max', 'bodyBytesMax', 1024, 'bytes'],
  ['inflight-max', 'inflightRequestsMax', 1, 'requests'],
  ['request-timeout', 'requestTimeoutMs', 1, 'ms'],
  ['ws-connections-max', 'webSocketConnectionsMax', 1, 'connections'],
] as const;

export type ParsedNodeOptions = { ok: true; options: NodeTuning } | { ok: false; message: string };

const WHOLE = /^\d+$/;

/**
 * Checks the node settings and turns them into options. `values` are already merged from flags,
 * `RAFTWIRE_*` variables and the config file (`mergeStartSettings`, the one place that knows
 * the environment). Raft's timing settings are checked by the core's own `resolveRaftConfig`, so
 * the message says how to fix the value exactly as a running node would.
 */
export function parseNodeOptions(values: NodeOptionValues): ParsedNodeOptions {
  const fail = (message: string): ParsedNodeOptions => ({ ok: false, message });
  const transport = values.transport ?? 'uws';
  if (transport !== 'uws' && transport !== 'http') return fail('--transport must be uws or http');
  const storageWrites = values['storage-writes'] ?? 'sync';
  if (storageWrites !== 'async' && storageWrites !== 'sync') return fail('--storage-writes must be async or sync');
  const options: NodeTuning = { transport };
  if (values['cluster-secret'] !== undefined) options.clusterSecret = values['cluster-secret'];
  if (values['auth-token'] !== undefined) options.authToken = values['auth-token'];
  if (values.rate !== undefined) {
    if (!WHOLE.test(values.rate) || Number(values.rate) < 1) return fail('--rate must be a whole number of requests per second ≥ 1');
    options.requestsPerSecond = Number(values.rate);
  }
  if (values['leader-wait'] !== undefined) {
    if (!WHOLE.test(values['leader-wait'])) return fail('--leader-wait must be a whole number of ms ≥ 0');
    options.leaderWaitMs = Number(values['leader-wait']);
  }
  if (values['snapshot-log-ratio'] !== undefined) {
    const ratio = Number(values['snapshot-log-ratio']);
    if (values['snapshot-log-ratio'].trim() === '' || !(Number.isFinite(ratio) && ratio >= 0)) return fail('--snapshot-log-ratio must be a number ≥ 0');
    options.snapshotLogRatio = ratio;
  }
  for (const [flag, option, least, unit] of LIMIT_FLAGS) {
    const value = values[flag];
    if (value === undefined) continue;
    if (!WHOLE.test(value) || Number(value) < least || !Number.isSafeInteger(Number(value))) return fail(`--${flag} must be a whole number of ${unit} ≥ ${least}`);
    options[option] = Number(value);
  }
  const raft: Omit<RaftConfig, 'id' | 'random'> = { asyncStorageWrites: storageWrites === 'async' };
  if (values['snapshot-threshold'] !== undefined) {
    if (!WHOLE.test(values['snapshot-threshold'])) return fail('--snapshot-threshold must be a whole number of entries');
    raft.snapshotThreshold = Number(values['snapshot-threshold']);
  }
  if (values.heartbeat !== undefined) {
    if (!WHOLE.test(values.heartbeat)) return fail('--heartbeat must be a whole number of ms');
    raft.heartbeatIntervalMs = Number(values.heartbeat);
  }
  if (values['election-timeout'] !== undefined) {
    const range = /^(\d+)-(\d+)$/.exec(values['election-timeout']);
    if (range === null) return fail('--election-timeout must be <min>-<max> in ms, e.g. 150-300');
    raft.electionTimeoutMinMs = Number(range[1]);
    raft.electionTimeoutMaxMs = Number(range[2]);
  }
  try {
    resolveRaftConfig({ ...raft, id: 'check', random: () => 0 });
  } catch (error) {
    // The core names its config fields; each maps to one flag, listed here so the user finds it.
    if (error instanceof InvalidConfigError) return fail(`--election-timeout, --heartbeat or --snapshot-threshold (electionTimeoutMinMs/MaxMs, heartbeatIntervalMs, snapshotThreshold): ${error.message}`);
    throw error;
  }
  options.raft = raft;
  return { ok: true, options };
}

/**
 * The node flags that were given, as arguments for a `raftwire start` child (order of the specs).
 * The secrets are left out: a command line is visible to every user of the machine (`ps`), so
 * they go to children through the environment instead ({@link nodeSecretsEnv}).
 */
export function nodeOptionArgs(values: NodeOptionValues): string[] {
  const args: string[] = [];
  for (const name of Object.keys(NODE_OPTION_SPECS) as NodeOptionName[]) {
    const value = values[name];
    if (value !== undefined && !SECRET_FLAGS.has(name)) args.push(`--${name}`, value);
  }
  return args;
}

const SECRET_FLAGS: ReadonlySet<NodeOptionName> = new Set(['cluster-secret', 'auth-token']);

/** `env` with the secrets of `options` set in the variables `raftwire start` reads them from. */
export function nodeSecretsEnv(options: NodeTuning, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const childEnv = { ...env };
  if (options.clusterSecret !== undefined) childEnv.RAFTWIRE_CLUSTER_SECRET = options.clusterSecret;
  if (options.authToken !== undefined) childEnv.RAFTWIRE_AUTH_TOKEN = options.authToken;
  return childEnv;
}
