export { RaftwireClient, RaftwireClientError, type RaftwireClientOptions, type ReadConsistency } from './http-client.js';
export { RaftwireWsClient, type RaftwireWsClientOptions } from './ws-client.js';
