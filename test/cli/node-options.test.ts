import { describe, expect, it } from 'vitest';
import { nodeOptionArgs, nodeSecretsEnv, parseNodeOptions } from '../../src/cli/node-options.js';
import { mergeStartSettings } from '../../src/cli/start-settings.js';

/** The settings as `raftwire start` gets them: flags merged with `env` (no config file), then checked. */
function parse(values: Parameters<typeof parseNodeOptions>[0], env: NodeJS.ProcessEnv) {
  const merged = mergeStartSettings(values, env, undefined);
  if (!merged.ok) throw new Error(merged.message);
  return parseNodeOptions(merged.values);
}

const refusal = (values: Parameters<typeof parseNodeOptions>[0]) => {
  const parsed = parse(values, {});
  if (parsed.ok) throw new Error(`accepted ${JSON.stringify(values)}`);
  return parsed.message;
};

describe('node flags shared by raftwire start and raftwire cluster', () => {
  it('turns every flag into the option startCacheNode takes', () => {
    const parsed = parse(
      {
        transport: 'http',
        'cluster-secret': 's3cret',
        'auth-token': 'tok',
        rate: '500',
        'leader-wait': '0',
        'snapshot-threshold': '2000',
        'snapshot-log-ratio': '0.25',
        'election-timeout': '300-600',
        heartbeat: '100',
        'storage-writes': 'async',
        'body-bytes-max': '65536',
        'inflight-max': '500',
        'request-timeout': '2500',
        'ws-connections-max': '64',
      },
      {},
    );
    expect(parsed).toEqual({
      ok: true,
      options: {
        transport: 'http',
        clusterSecret: 's3cret',
        authToken: 'tok',
        requestsPerSecond: 500,
        leaderWaitMs: 0,
        snapshotLogRatio: 0.25,
        bodyBytesMax: 65536,
        inflightRequestsMax: 500,
        requestTimeoutMs: 2500,
        webSocketConnectionsMax: 64,
        raft: { asyncStorageWrites: true, snapshotThreshold: 2000, heartbeatIntervalMs: 100, electionTimeoutMinMs: 300, electionTimeoutMaxMs: 600 },
      },
    });
  });

  it('leaves out what was not given, and reads the secrets from the environment', () => {
    expect(parse({}, {})).toEqual({ ok: true, options: { transport: 'uws', raft: { asyncStorageWrites: false } } });
    const parsed = parse({}, { RAFTWIRE_CLUSTER_SECRET: 'from-env', RAFTWIRE_AUTH_TOKEN: 'env-token' });
    expect(parsed.ok && parsed.options.clusterSecret).toBe('from-env');
    expect(parsed.ok && parsed.options.authToken).toBe('env-token');
    // A flag wins over the environment.
    const flagged = parse({ 'auth-token': 'flag-token' }, { RAFTWIRE_AUTH_TOKEN: 'env-token' });
    expect(flagged.ok && flagged.options.authToken).toBe('flag-token');
    // The limits too, by the flag's name in capitals.
    const limited = parse({}, { RAFTWIRE_WS_CONNECTIONS_MAX: '7', RAFTWIRE_REQUEST_TIMEOUT: '900' });
    expect(limited.ok && [limited.options.webSocketConnectionsMax, limited.options.requestTimeoutMs]).toEqual([7, 900]);
  });

  it('refuses each malformed flag, naming it', () => {
    expect(refusal({ transport: 'tcp' })).toContain('--transport must be uws or http');
    expect(refusal({ 'body-bytes-max': '100' })).toContain('--body-bytes-max must be a whole number of bytes ≥ 1024');
    expect(refusal({ 'inflight-max': '0' })).toContain('--inflight-max must be');
    expect(refusal({ 'request-timeout': '1.5' })).toContain('--request-timeout must be');
    expect(refusal({ 'ws-connections-max': 'many' })).toContain('--ws-connections-max must be');
    expect(refusal({ 'storage-writes': 'fast' })).toContain('--storage-writes must be async or sync');
    for (const bad of ['0', '-3', 'lots', '1.5']) expect(refusal({ rate: bad })).toContain('--rate must be');
    for (const bad of ['-5', 'soon', '1.5', '']) expect(refusal({ 'leader-wait': bad })).toContain('--leader-wait must be');
    for (const bad of ['-1', 'half', 'Infinity', ' ']) expect(refusal({ 'snapshot-log-ratio': bad })).toContain('--snapshot-log-ratio must be');
    expect(refusal({ 'snapshot-threshold': 'many' })).toContain('--snapshot-threshold must be');
    expect(refusal({ heartbeat: '5ms' })).toContain('--heartbeat must be');
    for (const bad of ['300', '150-', 'a-b', '150..300']) expect(refusal({ 'election-timeout': bad })).toContain('--election-timeout must be <min>-<max>');
  });

  it('refuses Raft timings the core would refuse, with the core’s advice', () => {
    // Well-formed, but inconsistent: caught here rather than in every node after it started.
    expect(refusal({ 'election-timeout': '300-200' })).toMatch(/--election-timeout.*must be greater than electionTimeoutMinMs/);
    expect(refusal({ heartbeat: '200' })).toMatch(/--heartbeat.*heartbeatIntervalMs \(200\) must be less than electionTimeoutMinMs \(150\)/);
    expect(refusal({ heartbeat: '55' })).toMatch(/must be a multiple of tickMs/);
    expect(refusal({ 'snapshot-threshold': '0' })).toMatch(/snapshotThreshold must be a positive integer/);
  });

  it('hands given flags on to a child in a fixed order, secrets never on its command line', () => {
    expect(nodeOptionArgs({ heartbeat: '20', 'auth-token': 't', 'leader-wait': '250', 'cluster-secret': 's', transport: 'http' })).toEqual([
      '--transport', 'http', '--leader-wait', '250', '--heartbeat', '20',
    ]);
    expect(nodeOptionArgs({})).toEqual([]);
    const env = nodeSecretsEnv({ clusterSecret: 's', authToken: 't' }, { PATH: '/bin' });
    expect(env).toEqual({ PATH: '/bin', RAFTWIRE_CLUSTER_SECRET: 's', RAFTWIRE_AUTH_TOKEN: 't' });
    expect(nodeSecretsEnv({}, { PATH: '/bin' })).toEqual({ PATH: '/bin' });
  });
});
