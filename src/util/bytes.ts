/**
 * Byte-array equality, for the few places that compare contents (a CAS's expected value, a
 * snapshot's envelope).
 *
 * @example
 * ```ts
 * sameBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2])); // true
 * ```
 */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
