#!/usr/bin/env node
/**
 * The `raftwire` command. `raftwire --help` lists the commands; `raftwire <command> --help` the
 * options of one. `npm start` runs `raftwire cluster --nodes 3`.
 */
import { parseArgs } from 'node:util';
import { clusterCommand } from './cluster.js';
import { kvCommand } from './kv.js';
import { memberCommand } from './member.js';
import { startCommand } from './start.js';
import { statusCommand } from './status.js';

export const HELP = `raftwire: a Raft-replicated key-value cache for Node.js

Usage: raftwire <command> [options]

Commands:
  cluster   run a local cluster of node processes (default 3), data under ./data
  start     run one node of a cluster
  kv        get, put or delete a key:  raftwire kv put greeting hello
  status    every member's role, term, leader and indexes; exit code 1 unless healthy
  member    list, add or remove members:  raftwire member add n4 --raft 127.0.0.1:7004 --client http://127.0.0.1:8004
  help      show this text

Run 'raftwire <command> --help' for the options of a command.
Docs: docs/cli.md, docs/server.md.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'cluster':
      return clusterCommand(rest);
    case 'start':
      return startCommand(rest);
    case 'kv':
      return kvCommand(rest);
    case 'status':
      return statusCommand(rest);
    case 'member':
      return memberCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(HELP);
      return 0;
    default:
      console.error(`raftwire: unknown command '${command}'\n\n${HELP}`);
      return 2;
  }
}

// parseArgs is re-exported for the subcommands' shared handling of errors.
export { parseArgs };

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const code = (error as { code?: string }).code;
    console.error(`raftwire: ${error instanceof Error ? error.message : String(error)}${code ? ` (${code})` : ''}`);
    process.exitCode = 1;
  },
);
