import { parseArgs } from 'node:util';
import { RaftwireClient } from '../client/index.js';

export const KV_HELP = `raftwire kv: read and write keys

Usage:
  raftwire kv get <key> [--consistency linearizable|lease|stale]
  raftwire kv put <key> <value> [--ttl <ms>]
  raftwire kv del <key>

Options:
  --endpoints <urls>   comma-separated client URLs   [default: http://127.0.0.1:8001,…8002,…8003]
  --auth-token <t>     bearer token (or RAFTWIRE_AUTH_TOKEN)
  -h, --help           show this text`;

const DEFAULT_ENDPOINTS = 'http://127.0.0.1:8001,http://127.0.0.1:8002,http://127.0.0.1:8003';

// One request per command: learning the other members would only cost a second one.
function client(values: { endpoints?: string; 'auth-token'?: string }): RaftwireClient {
  return new RaftwireClient({ endpoints: (values.endpoints ?? DEFAULT_ENDPOINTS).split(','), authToken: values['auth-token'] ?? process.env.RAFTWIRE_AUTH_TOKEN, discoverMembers: false });
}

export async function kvCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      endpoints: { type: 'string' },
      'auth-token': { type: 'string' },
      consistency: { type: 'string', default: 'linearizable' },
      ttl: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [verb, key, value] = positionals;
  if (values.help || !verb) {
    console.log(KV_HELP);
    return values.help ? 0 : 2;
  }
  if (!key) {
    console.error(`raftwire kv ${verb}: a key is needed\n\n${KV_HELP}`);
    return 2;
  }
  const kv = client(values);
  switch (verb) {
    case 'get': {
      const consistency = values.consistency as 'linearizable' | 'lease' | 'stale';
      const text = await kv.getText(key, consistency);
      if (text === undefined) {
        console.error(`(not found)`);
        return 1;
      }
      console.log(text);
      return 0;
    }
    case 'put':
      if (value === undefined) {
        console.error(`raftwire kv put: a value is needed`);
        return 2;
      }
      await kv.put(key, value, { ttlMs: values.ttl ? Number(values.ttl) : undefined });
      console.log('OK');
      return 0;
    case 'del':
    case 'delete':
      console.log((await kv.delete(key)) ? 'deleted' : '(not found)');
      return 0;
    default:
      console.error(`raftwire kv: unknown action '${verb}'\n\n${KV_HELP}`);
      return 2;
  }
}
