import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NODE_OPTION_SPECS, NODE_OPTIONS_HELP, nodeOptionArgs, nodeSecretsEnv, parseNodeOptions } from './node-options.js';
import { localPeers } from './peers.js';
import { mergeStartSettings, readConfigFile } from './start-settings.js';

export const CLUSTER_HELP = `raftwire cluster: run a local cluster, one process per node

Options:
  --nodes <n>            how many nodes                                  [default: 3]
  --data <dir>           data directory; node i keeps its state in <dir>/n<i>   [default: ./data]
  --host <host>          interface to listen on                          [default: 127.0.0.1]
  --raft-port <p>        first raft port (node i gets p + i - 1)         [default: 7001]
  --client-port <p>      first client port                               [default: 8001]
  -h, --help             show this text

Every node gets these, checked once before any node starts (see raftwire start --help):
${NODE_OPTIONS_HELP}
  --config <file>        a JSON object of these settings, read by every node (or RAFTWIRE_CONFIG);
                         RAFTWIRE_* variables set them too, as for raftwire start

The data survives restarts: run it again and the cluster resumes where it stopped.
Ctrl-C stops every node cleanly.`;

export async function clusterCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string', default: '3' },
      data: { type: 'string', default: './data' },
      host: { type: 'string', default: '127.0.0.1' },
      'raft-port': { type: 'string', default: '7001' },
      'client-port': { type: 'string', default: '8001' },
      ...NODE_OPTION_SPECS,
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(CLUSTER_HELP);
    return 0;
  }
  const count = Number(values.nodes);
  if (!Number.isInteger(count) || count < 1 || count > 9) {
    console.error('raftwire cluster: --nodes must be 1..9');
    return 2;
  }
  // The nodes' settings as each node will see them (flags, then RAFTWIRE_* variables, then the
  // config file, as `raftwire start` merges them), checked here once.
  const config = readConfigFile(values.config, process.env);
  if (!config.ok) {
    console.error(`raftwire cluster: ${config.message}`);
    return 2;
  }
  const nodeFlags = Object.fromEntries(Object.keys(NODE_OPTION_SPECS).map((name) => [name, values[name as keyof typeof NODE_OPTION_SPECS]]));
  const merged = mergeStartSettings(nodeFlags, process.env, config.text, config.path);
  if (!merged.ok) {
    console.error(`raftwire cluster: ${merged.message}`);
    return 2;
  }
  if (merged.values.join === true) {
    console.error('raftwire cluster: join is set (in the config file or RAFTWIRE_JOIN); the nodes of a new local cluster start together, none joins');
    return 2;
  }
  const tuning = parseNodeOptions(merged.values);
  if (!tuning.ok) {
    console.error(`raftwire cluster: ${tuning.message}`);
    return 2;
  }
  // Each node reads the same file (its --id, --peers and --data flags win over the file's).
  const nodeArgs = [...nodeOptionArgs(values), ...(config.path === undefined ? [] : ['--config', resolve(config.path)])];
  const env = nodeSecretsEnv(tuning.options, process.env);
  const raftPort = Number(values['raft-port']);
  const clientPort = Number(values['client-port']);
  for (const [flag, port] of [['--raft-port', raftPort], ['--client-port', clientPort]] as const) {
    if (!Number.isInteger(port) || port < 1 || port + count - 1 > 65535) {
      console.error(`raftwire cluster: ${flag} must be a port such that ${flag} + ${count - 1} ≤ 65535`);
      return 2;
    }
  }
  const peers = localPeers(count, values.host, raftPort, clientPort);
  // Another cluster on these ports (a second `npm start`) would answer our readiness probe and be
  // reported as ours, while our nodes fail to take its ports or its data directory.
  const taken = await answering(Object.values(peers).map((p) => p.client));
  if (taken !== undefined) {
    console.error(`raftwire cluster: ${taken} already answers: is another cluster running? Stop it, or choose other ports (--client-port, --raft-port)`);
    return 2;
  }
  const peersJson = JSON.stringify(peers);
  const dataRoot = resolve(values.data);
  console.log(`raftwire: starting ${count} nodes, data in ${dataRoot}`);
  const children = new Map<string, ChildProcess>();
  let stopping = false;
  // Resolved by Ctrl-C / SIGTERM (true), or by the last node exiting on its own (false).
  let finish: (stopped: boolean) => void = () => undefined;
  const finished = new Promise<boolean>((done) => (finish = done));
  for (const id of Object.keys(peers)) {
    // Same node binary, same loader flags (tsx when run from source), same script.
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, 'start', '--id', id, '--peers', peersJson, '--data', `${dataRoot}/${id}`, ...nodeArgs], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env,
    });
    children.set(id, child);
    child.on('exit', (code, signal) => {
      children.delete(id);
      if (stopping) return;
      if (children.size > 0) console.error(`raftwire: node ${id} exited (${signal ?? `code ${code}`}); the others keep serving`);
      else {
        console.error(`raftwire: node ${id} exited (${signal ?? `code ${code}`}); no node is left, so the cluster stops`);
        finish(false);
      }
    });
  }
  for (const [id, p] of Object.entries(peers)) console.log(`  ${id}: client ${p.client}   raft ${p.raft}`);

  const leader = await waitForLeader(Object.values(peers).map((p) => p.client), 20_000, () => children.size > 0);
  if (leader) {
    const url = peers[leader]?.client ?? peers.n1!.client;
    // The token itself is not printed: the terminal may be shared or logged.
    const auth = tuning.options.authToken === undefined ? '' : ' -H "authorization: Bearer $RAFTWIRE_AUTH_TOKEN"';
    // curl drops an Authorization header on a redirect to another port unless told to trust it.
    const follow = auth === '' ? '-L' : '--location-trusted';
    console.log(`raftwire: cluster ready, leader ${leader}. Try:
  curl${auth} -X PUT --data hello ${url}/v1/kv/greeting
  curl${auth} ${url}/v1/kv/greeting
  curl${auth} ${follow} -X PUT --data again ${peers.n1!.client}/v1/kv/greeting   (any node: ${follow} follows the redirect to the leader)
Press Ctrl-C to stop.`);
  } else if (children.size > 0) {
    console.error('raftwire: no leader after 20 s; the nodes keep trying (see their output above)');
  }

  const stop = () => finish(true);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const stopped = await finished;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  if (!stopped) return 1;
  stopping = true;
  console.log('\nraftwire: stopping the cluster');
  await Promise.all(
    [...children.values()].map(
      (child) =>
        new Promise<void>((done) => {
          child.once('exit', () => done());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
        }),
    ),
  );
  console.log('raftwire: stopped');
  return 0;
}

/** The first of `clients` that answers HTTP at all, if any. */
async function answering(clients: string[]): Promise<string | undefined> {
  for (const url of clients) {
    try {
      await fetch(`${url}/health`, { signal: AbortSignal.timeout(300) });
      return url;
    } catch {
      // nothing there: free
    }
  }
  return undefined;
}

/** The leader the nodes agree on, or null after `timeoutMs` or once `alive()` is false. */
async function waitForLeader(clients: string[], timeoutMs: number, alive: () => boolean): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && alive()) {
    for (const url of clients) {
      try {
        const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(500) });
        const body = (await response.json()) as { ready: boolean; leader: string | null };
        if (body.ready && body.leader) return body.leader;
      } catch {
        // not up yet
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return null;
}
