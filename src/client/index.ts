export { RaftwireClient, RaftwireClientError, type RaftwireClientOptions, type ReadConsistency } from './http-client.js';
