import { parseArgs } from 'node:util';
import { startCacheNode } from '../server/index.js';
import { NODE_OPTION_SPECS, NODE_OPTIONS_HELP, parseNodeOptions } from './node-options.js';
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
${NODE_OPTIONS_HELP}
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
      ...NODE_OPTION_SPECS,
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
  const tuning = parseNodeOptions(values);
  if (!tuning.ok) {
    console.error(`raftwire start: ${tuning.message}`);
    return 2;
  }
  const peers = parsePeers(values.peers);
  let removed = (): void => undefined;
  const handle = await startCacheNode({
    id: values.id,
    peers,
    dataDir: values.data ?? `./data/${values.id}`,
    ...tuning.options,
    join: values.join,
    onRemoved: () => removed(),
    onStorageFull: (error) => console.error(`[${values.id}] ${error.message}; serving stale reads only, retrying every 5 s`),
    onFatal: (error) => {
      console.error(`[${values.id}] fatal: ${error.message}`);
      process.exit(1);
    },
  });
  console.log(`[${values.id}] serving clients on ${peers[values.id]!.client}, raft on ${peers[values.id]!.raft} (${tuning.options.transport})`);
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
  // The node has closed its sockets and its log, and the process ends by itself (checked with a
  // keep-alive client still connected). Exit anyway: Ctrl-C must never leave a process that some
  // handle nobody expected keeps alive.
  process.exit(0);
}
