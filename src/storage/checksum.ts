/**
 * The checksum of every stored record and snapshot: CRC32C from the codec (native SSE4.2 kernel
 * for inputs of 96 bytes and more when the addon is loaded, the TypeScript reference otherwise).
 *
 * A stored checksum must not depend on which kernel computed it, or a node restarted without the
 * addon would find every large record "corrupt"; test/storage/checksum.test.ts checks that this
 * function agrees with the TypeScript reference on inputs long enough for every kernel path.
 *
 * @module
 */
export { crc32c as checksum } from '../codec/crc32c.js';
