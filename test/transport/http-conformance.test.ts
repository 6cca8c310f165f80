import { HttpNetwork } from '../../src/transport/http.js';
import { describeConformance } from './conformance.js';
import { socketHarness } from './harness.js';

describeConformance(
  'HttpNetwork',
  socketHarness((id, port, nodeAddresses, timeout) => new HttpNetwork(id, { port, nodeAddresses, timeout }), ['TRANSPORT_ERR_CONNECTION_LOST', 'TRANSPORT_ERR_TIMEOUT']),
);
