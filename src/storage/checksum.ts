/**
 * The checksum of every stored record and snapshot: CRC32C, same signature as `crc32c` in
 * src/codec/crc32c.ts.
 *
 * Storage takes the TypeScript reference kernel on purpose, for now: on this commit the codec's
 * dispatcher sends inputs ≥ 96 bytes to the native SSE4.2 kernel, whose three-stream path
 * (inputs ≥ 3 KiB) folds the streams in the wrong order and gives wrong answers whenever the
 * second and third 1 KiB blocks differ. A stored checksum must not depend on whether the addon
 * happened to load, or a node restarted without it would see every large record as corrupt.
 * Switch back to `crc32c` from '../codec/crc32c.js' once that kernel agrees with the reference
 * (check with data whose 1 KiB blocks differ, e.g. test/storage/helpers.ts `payload(1, 1, 25000)`).
 *
 * @module
 */
export { crc32cTs as checksum } from '../codec/crc32c-ts.js';
