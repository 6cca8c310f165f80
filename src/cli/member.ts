import { parseArgs } from 'node:util';
import { RaftwireClient } from '../client/index.js';

export const MEMBER_HELP = `raftwire member: list, add and remove cluster members

Usage:
  raftwire member list
  raftwire member add <id> --raft <host:port> --client <url>
  raftwire member remove <id>

Adding starts the node as a learner, waits until it has caught up with the log, then makes it a
voter; start the new node first with 'raftwire start --id <id> --join --peers …'. One change runs
at a time; both commands are safe to repeat. A removed node stops by itself.

Options:
  --endpoints <urls>   comma-separated client URLs of running members
                       [default: http://127.0.0.1:8001,…8002,…8003]
  --raft <host:port>   where the new member's Raft transport listens (add)
  --client <url>       where the new member serves clients (add)
  --timeout <ms>       give up after this long                           [default: 60000]
  --auth-token <t>     bearer token (or RAFTWIRE_AUTH_TOKEN)
  -h, --help           show this text`;

const DEFAULT_ENDPOINTS = 'http://127.0.0.1:8001,http://127.0.0.1:8002,http://127.0.0.1:8003';

export async function memberCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      endpoints: { type: 'string' },
      raft: { type: 'string' },
      client: { type: 'string' },
      timeout: { type: 'string', default: '60000' },
      'auth-token': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [verb, id] = positionals;
  if (values.help || !verb) {
    console.log(MEMBER_HELP);
    return values.help ? 0 : 2;
  }
  const timeoutMs = Number(values.timeout);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    console.error(`raftwire member: --timeout must be a positive number of milliseconds`);
    return 2;
  }
  // The client finds the leader, follows redirects and retries (both changes are idempotent).
  const client = new RaftwireClient({ endpoints: (values.endpoints ?? DEFAULT_ENDPOINTS).split(','), authToken: values['auth-token'] ?? process.env.RAFTWIRE_AUTH_TOKEN, discoverMembers: false });
  let reply: unknown;
  switch (verb) {
    case 'list':
      reply = await client.members();
      break;
    case 'add':
      if (!id || !values.raft) {
        console.error(`raftwire member add: an id and --raft are needed\n\n${MEMBER_HELP}`);
        return 2;
      }
      reply = { ok: true, config: await client.addMember(id, { raft: values.raft, ...(values.client ? { client: values.client } : {}) }, { timeoutMs }) };
      break;
    case 'remove':
      if (!id) {
        console.error(`raftwire member remove: an id is needed\n\n${MEMBER_HELP}`);
        return 2;
      }
      reply = { ok: true, config: await client.removeMember(id, { timeoutMs }) };
      break;
    default:
      console.error(`raftwire member: unknown action '${verb}'\n\n${MEMBER_HELP}`);
      return 2;
  }
  console.log(JSON.stringify(reply, null, 2));
  return 0;
}
