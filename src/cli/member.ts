import { parseArgs } from 'node:util';

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
  const endpoints = (values.endpoints ?? DEFAULT_ENDPOINTS).split(',');
  const token = values['auth-token'] ?? process.env.RAFTWIRE_AUTH_TOKEN;
  let request: { method: string; path: string; body?: string };
  switch (verb) {
    case 'list':
      request = { method: 'GET', path: '/v1/cluster/members' };
      break;
    case 'add':
      if (!id || !values.raft) {
        console.error(`raftwire member add: an id and --raft are needed\n\n${MEMBER_HELP}`);
        return 2;
      }
      request = { method: 'POST', path: `/v1/cluster/members?timeoutMs=${timeoutMs}`, body: JSON.stringify({ id, raft: values.raft, client: values.client }) };
      break;
    case 'remove':
      if (!id) {
        console.error(`raftwire member remove: an id is needed\n\n${MEMBER_HELP}`);
        return 2;
      }
      request = { method: 'DELETE', path: `/v1/cluster/members/${encodeURIComponent(id)}?timeoutMs=${timeoutMs}` };
      break;
    default:
      console.error(`raftwire member: unknown action '${verb}'\n\n${MEMBER_HELP}`);
      return 2;
  }
  const reply = await send(endpoints, request, token, timeoutMs);
  console.log(JSON.stringify(reply.body, null, 2));
  return reply.status === 200 ? 0 : 1;
}

/**
 * Sends to the first member that answers, following redirects to the leader (fetch keeps the method
 * and body on a 307). A node that is down, or has no leader yet (503), is skipped for the next one.
 */
async function send(endpoints: string[], request: { method: string; path: string; body?: string }, token: string | undefined, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  const deadline = Date.now() + timeoutMs;
  let last: { status: number; body: unknown } = { status: 0, body: { code: 'CLI_ERR_UNREACHABLE', message: `no member answered at ${endpoints.join(', ')}` } };
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const base = endpoints[attempt % endpoints.length]!.replace(/\/$/, '');
    try {
      const response = await fetch(`${base}${request.path}`, {
        method: request.method,
        body: request.body,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
      });
      const text = await response.text();
      last = { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
      if (response.status !== 503) return last;
    } catch (error) {
      last = { status: 0, body: { code: 'CLI_ERR_UNREACHABLE', message: `${base}: ${error instanceof Error ? error.message : String(error)}` } };
    }
    if (attempt % endpoints.length === endpoints.length - 1) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return last;
}
