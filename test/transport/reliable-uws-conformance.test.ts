import { ReliableNetwork } from '../../src/transport/reliable.js';
import { UwsNetwork } from '../../src/transport/uws/network.js';
import { describeConformance } from './conformance.js';
import { socketHarness } from './harness.js';

// The retrying wrapper over the real fast transport: healthy behaviour unchanged, a dead peer ends
// in RetryExhausted (whose lastError is the lost connection) after the configured attempts.
describeConformance(
  'ReliableNetwork over UwsNetwork',
  socketHarness(
    (id, port, nodeAddresses, timeout) =>
      new ReliableNetwork(new UwsNetwork(id, { port, nodeAddresses, timeout, clusterSecret: 'reliable-conformance-secret', reconnectDelayMs: 10, reconnectDelayMaxMs: 50 }), {
        maxRetries: 2,
        initialTimeout: timeout,
        maxTimeout: timeout,
        retryDelay: 20,
      }),
    ['TRANSPORT_ERR_RETRY_EXHAUSTED'],
    (n, peer) => ((n as ReliableNetwork).inner as UwsNetwork).isConnected(peer),
  ),
);
