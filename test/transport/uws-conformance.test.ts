import { UwsNetwork } from '../../src/transport/uws/network.js';
import { describeConformance } from './conformance.js';
import { socketHarness } from './harness.js';

const clusterSecret = 'conformance-secret-0123456789';

describeConformance(
  'UwsNetwork',
  socketHarness(
    (id, port, nodeAddresses, timeout) => new UwsNetwork(id, { port, nodeAddresses, timeout, clusterSecret }),
    ['TRANSPORT_ERR_CONNECTION_LOST', 'TRANSPORT_ERR_TIMEOUT'],
    (n, peer) => (n as UwsNetwork).isConnected(peer),
  ),
);
