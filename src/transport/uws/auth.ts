/**
 * Peer authentication at WebSocket upgrade. The dialing node proves it holds the cluster secret
 * without sending it: it sends its id, the id it means to reach, a fresh nonce and
 * `HMAC-SHA256(secret, "raftwire-v1\n" + from + "\n" + to + "\n" + nonce)`. The server recomputes
 * and compares in constant time. Binding `to` stops a token for one node from opening another;
 * a captured token could be replayed to the same node, which is why clusters on untrusted networks
 * also turn on TLS.
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const headerFrom = 'x-raftwire-from';
export const headerTo = 'x-raftwire-to';
export const headerNonce = 'x-raftwire-nonce';
export const headerAuth = 'x-raftwire-auth';

/** Bound on the nonce a peer may send, in characters. */
export const nonceCharsMax = 64;

function mac(secret: string, from: string, to: string, nonce: string): Buffer {
  return createHmac('sha256', secret).update(`raftwire-v1\n${from}\n${to}\n${nonce}`).digest();
}

/** The upgrade headers a dialer sends. Without a secret, only the ids. */
export function authHeaders(secret: string | undefined, from: string, to: string): Record<string, string> {
  const headers: Record<string, string> = { [headerFrom]: from, [headerTo]: to };
  if (secret !== undefined) {
    const nonce = randomBytes(16).toString('hex');
    headers[headerNonce] = nonce;
    headers[headerAuth] = mac(secret, from, to, nonce).toString('hex');
  }
  return headers;
}

/** True when `auth` is the token for (from, to, nonce) under `secret`. */
export function verifyAuth(secret: string, from: string, to: string, nonce: string, auth: string): boolean {
  if (nonce.length === 0 || nonce.length > nonceCharsMax || auth.length !== 64) return false;
  const expected = mac(secret, from, to, nonce);
  const given = Buffer.from(auth, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
