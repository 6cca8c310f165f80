/**
 * Where each member listens. The core knows members only by id; a node that joins at run time must
 * tell every replica its addresses, and a replica restarted later (or installing a snapshot) must
 * still know them. So the addresses travel in the log, inside the membership change itself (the
 * change's opaque `context`, as etcd carries a member's URLs), and in every snapshot (an envelope
 * around the state machine's bytes, {@link snapshotEnvelope}).
 *
 * @example
 * ```ts
 * const directory = new MemberDirectory({ n1: { raft: '127.0.0.1:7001', client: 'http://127.0.0.1:8001' } });
 * const context = encodeMemberContext({ raft: '127.0.0.1:7004', client: 'http://127.0.0.1:8004' });
 * // … the change is applied on every replica:
 * directory.set('n4', decodeMemberContext(context)!);
 * ```
 *
 * @module
 */
import { InvalidConfigError } from '../core/errors.js';
import type { NodeId } from '../core/types.js';
import { CONF_CHANGE_CONTEXT_BYTES_MAX } from '../core/types.js';

/** A member's addresses: its Raft transport (`host:port`) and, if it serves clients, its client URL. */
export interface MemberEndpoints {
  raft: string;
  client?: string;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Longest address string accepted from a peer or client. */
const ADDRESS_CHARS_MAX = 512;

function isEndpoints(value: unknown): value is MemberEndpoints {
  if (typeof value !== 'object' || value === null) return false;
  const { raft, client } = value as Record<string, unknown>;
  const fits = (s: unknown): boolean => typeof s === 'string' && s.length > 0 && s.length <= ADDRESS_CHARS_MAX;
  return fits(raft) && (client === undefined || fits(client));
}

/**
 * Checks endpoints a user or client supplied; throws {@link InvalidConfigError} saying what is wrong.
 * Only the shape is checked here: the transport parses the address when it is used.
 */
export function validateEndpoints(nodeId: NodeId, value: unknown): MemberEndpoints {
  if (!isEndpoints(value)) {
    throw new InvalidConfigError(`member ${nodeId}: endpoints must be {"raft": "host:port", "client"?: "http://host:port"}, each 1..${ADDRESS_CHARS_MAX} characters`);
  }
  return value.client === undefined ? { raft: value.raft } : { raft: value.raft, client: value.client };
}

/** The bytes a membership change carries in its `context`: the member's endpoints as JSON. */
export function encodeMemberContext(endpoints: MemberEndpoints): Uint8Array {
  const bytes = utf8Encoder.encode(JSON.stringify(endpoints));
  if (bytes.length > CONF_CHANGE_CONTEXT_BYTES_MAX) throw new InvalidConfigError(`member endpoints take ${bytes.length} bytes, over ${CONF_CHANGE_CONTEXT_BYTES_MAX}`);
  return bytes;
}

/**
 * Reads {@link encodeMemberContext}'s bytes; null when they are absent or not endpoints. Never
 * throws: a change with a context this version cannot read still changes the membership (the
 * context is advisory), it only leaves the address unknown.
 */
export function decodeMemberContext(bytes: Uint8Array | undefined): MemberEndpoints | null {
  if (bytes === undefined || bytes.length === 0) return null;
  try {
    const value: unknown = JSON.parse(utf8Decoder.decode(bytes));
    return isEndpoints(value) ? { raft: value.raft, ...(value.client === undefined ? {} : { client: value.client }) } : null;
  } catch {
    return null;
  }
}

/** Known endpoints by member id. Mutated only by the node's apply path. */
export class MemberDirectory {
  private readonly endpoints = new Map<NodeId, MemberEndpoints>();

  constructor(initial: Record<NodeId, MemberEndpoints> = {}) {
    for (const [id, endpoints] of Object.entries(initial)) this.endpoints.set(id, validateEndpoints(id, endpoints));
  }

  get(nodeId: NodeId): MemberEndpoints | undefined {
    return this.endpoints.get(nodeId);
  }

  /** Records `nodeId`'s endpoints (the newest announcement wins; the transport is told elsewhere). */
  set(nodeId: NodeId, endpoints: MemberEndpoints): void {
    this.endpoints.set(nodeId, endpoints);
  }

  /** Every id with known endpoints. */
  ids(): NodeId[] {
    return [...this.endpoints.keys()];
  }

  toJSON(): Record<NodeId, MemberEndpoints> {
    return Object.fromEntries(this.endpoints);
  }
}

/**
 * Snapshot envelope, version 1, little-endian:
 * `"RWS1"` · u32 length of the members JSON · members JSON · the state machine's bytes.
 * A snapshot without the magic (written before the envelope existed) is all state machine bytes.
 */
const ENVELOPE_MAGIC = [0x52, 0x57, 0x53, 0x31]; // "RWS1"
const ENVELOPE_HEADER_BYTES = 8;

/**
 * The member directory's envelope, which goes in front of the state machine's snapshot bytes: a
 * state machine that can write a prefix (`StateMachine.captureSnapshot`) writes it first, so a
 * large state is not copied once more to be wrapped ({@link withEnvelope} does that for the rest).
 */
export function snapshotEnvelope(members: Record<NodeId, MemberEndpoints>): Uint8Array {
  const json = utf8Encoder.encode(JSON.stringify(members));
  const out = new Uint8Array(ENVELOPE_HEADER_BYTES + json.length);
  out.set(ENVELOPE_MAGIC, 0);
  new DataView(out.buffer).setUint32(4, json.length, true);
  out.set(json, ENVELOPE_HEADER_BYTES);
  return out;
}

/** `envelope` followed by `stateMachineData` (a copy). */
export function withEnvelope(envelope: Uint8Array, stateMachineData: Uint8Array): Uint8Array {
  const out = new Uint8Array(envelope.length + stateMachineData.length);
  out.set(envelope, 0);
  out.set(stateMachineData, envelope.length);
  return out;
}

/** Splits an envelope and the state machine's bytes ({@link withEnvelope}); an unwrapped (older) snapshot gives no members. */
export function unwrapSnapshotData(data: Uint8Array): { members: Record<NodeId, MemberEndpoints>; stateMachineData: Uint8Array } {
  const wrapped = data.length >= ENVELOPE_HEADER_BYTES && ENVELOPE_MAGIC.every((byte, i) => data[i] === byte);
  if (!wrapped) return { members: {}, stateMachineData: data };
  const jsonLength = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(4, true);
  // A checksum already covers the snapshot (on disk and on the wire); a bad length here is a bug.
  if (ENVELOPE_HEADER_BYTES + jsonLength > data.length) throw new InvalidConfigError(`snapshot envelope says ${jsonLength} bytes of members, past its end (${data.length})`);
  const members: Record<NodeId, MemberEndpoints> = {};
  const parsed: unknown = JSON.parse(utf8Decoder.decode(data.subarray(ENVELOPE_HEADER_BYTES, ENVELOPE_HEADER_BYTES + jsonLength)));
  if (typeof parsed === 'object' && parsed !== null) {
    for (const [id, endpoints] of Object.entries(parsed)) if (isEndpoints(endpoints)) members[id] = endpoints;
  }
  return { members, stateMachineData: data.subarray(ENVELOPE_HEADER_BYTES + jsonLength) };
}
