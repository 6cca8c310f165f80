import { InMemoryHub, InMemoryNetwork } from '../../src/transport/in-memory.js';
import type { NetworkInterface } from '../../src/transport/types.js';
import { describeConformance } from './conformance.js';

let hub = new InMemoryHub();
let created: NetworkInterface[] = [];

describeConformance('InMemoryNetwork', {
  async create(ids, { timeoutMs }) {
    hub = new InMemoryHub({ seed: 11 });
    created = ids.map((id) => new InMemoryNetwork(id, { hub, timeout: timeoutMs, baseDelay: 1, jitter: 1 }));
    for (const net of created) await net.start();
    return created;
  },
  addressOf: () => '127.0.0.1:1',
  ignoresAddresses: true,
  recreate(id, { timeoutMs }) {
    const net = new InMemoryNetwork(id, { hub, timeout: timeoutMs });
    created.push(net);
    return net;
  },
  async cleanup() {
    for (const net of created) await net.stop();
    created = [];
  },
  unknownTargetCode: 'TRANSPORT_ERR_TARGET_UNAVAILABLE',
  deadPeerCodes: ['TRANSPORT_ERR_TARGET_UNAVAILABLE'],
});
