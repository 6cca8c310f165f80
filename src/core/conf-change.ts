/**
 * Membership changes, one server at a time (Ongaro's thesis §4.1; see docs/membership.md).
 *
 * A change takes effect on a node as soon as its entry is in that node's log (appended), not when
 * it commits: the configuration of a node is the last `confChange` entry of its log, or the
 * snapshot's configuration when the log holds none. Because any two majorities of configurations
 * that differ by one server overlap, this is safe as long as (a) at most one change is uncommitted
 * at a time and (b) a new leader commits an entry of its own term before proposing a change (the
 * fix to the single-server bug Ongaro described on raft-dev in 2015). The leader enforces both.
 *
 * @example
 * ```ts
 * const bytes = encodeConfChange({ type: 'addLearner', nodeId: 'n4' });
 * applyConfChange({ voters: ['n1'], learners: [] }, decodeConfChange(bytes)); // { voters: ['n1'], learners: ['n4'] }
 * ```
 *
 * @module
 */
import { ConfChangeRejectedError } from './errors.js';
import { type ClusterConfig, type ConfChange, CONF_CHANGE_CONTEXT_BYTES_MAX, type Entry, NODE_ID_BYTES_MAX } from './types.js';

const CONF_CHANGE_TYPES = ['addVoter', 'addLearner', 'removeNode', 'promoteLearner'] as const;

/** Encoding versions, so the format can evolve: 1 has no context, 2 carries one. */
const CONF_CHANGE_VERSION = 1;
const CONF_CHANGE_VERSION_WITH_CONTEXT = 2;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Encodes a change as the `data` of a `confChange` entry: `[1, type, ...utf8(nodeId)]`, or with a
 * context `[2, type, idLength, ...utf8(nodeId), ...context]` (so entries written before contexts
 * existed still decode).
 *
 * @example
 * ```ts
 * encodeConfChange({ type: 'removeNode', nodeId: 'n3' }); // Uint8Array [1, 2, 110, 51]
 * ```
 */
export function encodeConfChange(change: ConfChange): Uint8Array {
  const typeCode = CONF_CHANGE_TYPES.indexOf(change.type);
  if (typeCode < 0) throw new ConfChangeRejectedError(`unknown conf change type ${JSON.stringify(change.type)}`);
  const id = utf8Encoder.encode(change.nodeId);
  if (id.length === 0 || id.length > NODE_ID_BYTES_MAX) {
    throw new ConfChangeRejectedError(`node id must be 1..${NODE_ID_BYTES_MAX} UTF-8 bytes, got ${id.length}`);
  }
  const context = change.context;
  if (context === undefined) {
    const bytes = new Uint8Array(2 + id.length);
    bytes[0] = CONF_CHANGE_VERSION;
    bytes[1] = typeCode;
    bytes.set(id, 2);
    return bytes;
  }
  if (context.length > CONF_CHANGE_CONTEXT_BYTES_MAX) {
    throw new ConfChangeRejectedError(`conf change context must be at most ${CONF_CHANGE_CONTEXT_BYTES_MAX} bytes, got ${context.length}`);
  }
  const bytes = new Uint8Array(3 + id.length + context.length);
  bytes[0] = CONF_CHANGE_VERSION_WITH_CONTEXT;
  bytes[1] = typeCode;
  bytes[2] = id.length;
  bytes.set(id, 3);
  bytes.set(context, 3 + id.length);
  return bytes;
}

/** Decodes what {@link encodeConfChange} produced; throws {@link ConfChangeRejectedError} on bad bytes. */
export function decodeConfChange(bytes: Uint8Array): ConfChange {
  const version = bytes[0];
  if (version === CONF_CHANGE_VERSION) {
    if (bytes.length < 3 || bytes.length > 2 + NODE_ID_BYTES_MAX) {
      throw new ConfChangeRejectedError(`conf change must be 3..${2 + NODE_ID_BYTES_MAX} bytes, got ${bytes.length}`);
    }
    return { type: decodeType(bytes[1]!), nodeId: decodeNodeId(bytes.subarray(2)) };
  }
  if (version === CONF_CHANGE_VERSION_WITH_CONTEXT) {
    const idLength = bytes[2] ?? 0;
    if (bytes.length < 4 || idLength === 0 || 3 + idLength > bytes.length || bytes.length - 3 - idLength > CONF_CHANGE_CONTEXT_BYTES_MAX) {
      throw new ConfChangeRejectedError(`conf change with context has a bad length (${bytes.length} bytes, node id ${idLength})`);
    }
    return {
      type: decodeType(bytes[1]!),
      nodeId: decodeNodeId(bytes.subarray(3, 3 + idLength)),
      // A copy: entry payloads may be views into a received frame.
      context: bytes.slice(3 + idLength),
    };
  }
  throw new ConfChangeRejectedError(`unknown conf change version ${String(version)}`);
}

function decodeType(code: number): ConfChange['type'] {
  const type = CONF_CHANGE_TYPES[code];
  if (type === undefined) throw new ConfChangeRejectedError(`unknown conf change type code ${code}`);
  return type;
}

function decodeNodeId(bytes: Uint8Array): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw new ConfChangeRejectedError('conf change node id is not valid UTF-8');
  }
}

/** Why `change` cannot apply to `config`, or null when it can. */
export function confChangeProblem(config: ClusterConfig, change: ConfChange): string | null {
  const isVoter = config.voters.includes(change.nodeId);
  const isLearner = config.learners.includes(change.nodeId);
  switch (change.type) {
    case 'addVoter':
      return isVoter ? `${change.nodeId} is already a voter` : null;
    case 'addLearner':
      if (isLearner) return `${change.nodeId} is already a learner`;
      return isVoter ? `${change.nodeId} is a voter; remove it first to make it a learner` : null;
    case 'removeNode':
      if (!isVoter && !isLearner) return `${change.nodeId} is not a member`;
      return isVoter && config.voters.length === 1 ? `cannot remove ${change.nodeId}, the last voter` : null;
    case 'promoteLearner':
      return isLearner ? null : `${change.nodeId} is not a learner`;
  }
}

/**
 * The configuration after `change`. A learner added as a voter (`addVoter`) is promoted. Returns a
 * new object; `config` is not modified. Throws {@link ConfChangeRejectedError} when the change does
 * not apply.
 */
export function applyConfChange(config: ClusterConfig, change: ConfChange): ClusterConfig {
  const problem = confChangeProblem(config, change);
  if (problem !== null) throw new ConfChangeRejectedError(problem);
  const voters = config.voters.filter((id) => id !== change.nodeId);
  const learners = config.learners.filter((id) => id !== change.nodeId);
  switch (change.type) {
    case 'addVoter':
    case 'promoteLearner':
      voters.push(change.nodeId);
      break;
    case 'addLearner':
      learners.push(change.nodeId);
      break;
    case 'removeNode':
      break;
  }
  return { voters, learners };
}

/** Same members, ignoring order. */
export function sameConfig(a: ClusterConfig, b: ClusterConfig): boolean {
  const sameSet = (x: string[], y: string[]): boolean => x.length === y.length && x.every((id) => y.includes(id));
  return sameSet(a.voters, b.voters) && sameSet(a.learners, b.learners);
}

/** A deep copy, so callers never share arrays with the core. */
export function copyConfig(config: ClusterConfig): ClusterConfig {
  return { voters: config.voters.slice(), learners: config.learners.slice() };
}

/** Term of the bootstrap entries: before any election (the first leader's term is 2 or more). */
export const BOOTSTRAP_TERM = 1;

/**
 * The log a new cluster starts from, as etcd's `Bootstrap` writes it: one change per initial
 * member (`addVoter`, then `addLearner`), in sorted id order, at term 1, committed by fiat. With
 * the initial configuration in the log, a node that joins later replays it from index 1 and
 * derives the exact configuration at every index, instead of trusting the addresses it was started
 * with to describe the membership. Every initial member must be given the same members, so all
 * write identical entries (the ids are sorted for that reason).
 *
 * @example
 * ```ts
 * bootstrapEntries({ voters: ['n2', 'n1'], learners: [] }).map((e) => e.index); // [1, 2]
 * ```
 */
export function bootstrapEntries(config: ClusterConfig): Entry[] {
  const changes: ConfChange[] = [
    ...[...config.voters].sort().map((nodeId): ConfChange => ({ type: 'addVoter', nodeId })),
    ...[...config.learners].sort().map((nodeId): ConfChange => ({ type: 'addLearner', nodeId })),
  ];
  let checked: ClusterConfig = { voters: [], learners: [] };
  for (const change of changes) checked = applyConfChange(checked, change); // throws on a duplicate
  return changes.map((change, i) => ({ index: i + 1, term: BOOTSTRAP_TERM, type: 'confChange', data: encodeConfChange(change) }));
}
