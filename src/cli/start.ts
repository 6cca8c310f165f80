import { parseArgs } from 'node:util';
import { startCacheNode } from '../server/index.js';
import { NODE_OPTION_SPECS, NODE_OPTIONS_HELP, parseNodeOptions } from './node-options.js';
import { parsePeers } from './peers.js';
import { mergeStartSettings, readConfigFile } from './start-settings.js';

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
${NODE_OPTIONS_HELP}
  --config <file>        a JSON object of these settings, keyed by flag name (or RAFTWIRE_CONFIG)
  -h, --help             show this text

Every setting can also come from the environment, RAFTWIRE_ and the flag name in capitals
(RAFTWIRE_ID, RAFTWIRE_PEERS, RAFTWIRE_LEADER_WAIT, …), or from the config file:
  {"id": "n1", "peers": {"n1": {"raft": "127.0.0.1:7001", "client": "http://127.0.0.1:8001"}}, "leader-wait": 250}
A flag wins over the environment, which wins over the file (docs/cli.md).

Stops cleanly on SIGINT/SIGTERM: drains, hands leadership away, closes the log.
Stops by itself, the same way, once it has applied its own removal (raftwire member remove <id>).`;

export async function startCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      id: { type: 'string' },
      peers: { type: 'string' },
      data: { type: 'string' },
      ...NODE_OPTION_SPECS,
      join: { type: 'boolean' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(START_HELP);
    return 0;
  }
  const config = readConfigFile(values.config, process.env);
  if (!config.ok) {
    console.error(`raftwire start: ${config.message}`);
    return 2;
  }
  const { config: _config, help: _help, ...flags } = values;
  const merged = mergeStartSettings(flags, process.env, config.text, config.path);
  if (!merged.ok) {
    console.error(`raftwire start: ${merged.message}`);
    return 2;
  }
  const settings = merged.values;
  if (!settings.id || !settings.peers) {
    console.error(`raftwire start: --id and --peers are required (as flags, RAFTWIRE_ID and RAFTWIRE_PEERS, or in --config)\n\n${START_HELP}`);
    return 2;
  }
  const tuning = parseNodeOptions(settings);
  if (!tuning.ok) {
    console.error(`raftwire start: ${tuning.message}`);
    return 2;
  }
  const peers = parsePeers(settings.peers);
  let removed = (): void => undefined;
  const handle = await startCacheNode({
    id: settings.id,
    peers,
    dataDir: settings.data ?? `./data/${settings.id}`,
    ...tuning.options,
    join: settings.join ?? false,
    onRemoved: () => removed(),
    onStorageFull: (error) => console.error(`[${settings.id}] ${error.message}; serving stale reads only, retrying every 5 s`),
    onFatal: (error) => {
      console.error(`[${settings.id}] fatal: ${error.message}`);
      process.exit(1);
    },
  });
  console.log(`[${settings.id}] serving clients on ${peers[settings.id]!.client}, raft on ${peers[settings.id]!.raft} (${tuning.options.transport})`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    removed = () => {
      console.log(`[${settings.id}] removed from the cluster`);
      resolve();
    };
  });
  console.log(`[${settings.id}] stopping`);
  await handle.stop();
  // The node has closed its sockets and its log, and the process ends by itself (checked with a
  // keep-alive client still connected). Exit anyway: Ctrl-C must never leave a process that some
  // handle nobody expected keeps alive.
  process.exit(0);
}
