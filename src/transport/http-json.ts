/**
 * The JSON bodies of `HttpNetwork`: the core message with every byte payload as base64, which is
 * what the original HTTP/JSON network layer put on the wire. Decoding validates at the gateway: a
 * body that is not the expected shape is a {@link ProtocolError} (the server answers 400).
 * @module
 */
import type {
  AppendEntriesRequest,
  ClusterConfig,
  Entry,
  InstallSnapshotRequest,
  RequestVoteRequest,
  TimeoutNowRequest,
} from '../core/types.js';
import { ProtocolError } from './errors.js';
import type { RpcRequest } from './types.js';

/** URL path of each request type. */
export const httpPaths = {
  RequestVote: '/raft/request-vote',
  AppendEntries: '/raft/append-entries',
  InstallSnapshot: '/raft/install-snapshot',
  TimeoutNow: '/raft/timeout-now',
} as const satisfies Record<RpcRequest['type'], string>;

const typeByPath = new Map<string, RpcRequest['type']>(Object.entries(httpPaths).map(([type, path]) => [path, type as RpcRequest['type']]));

/** The request type served at `path`, or undefined. */
export function requestTypeOfPath(path: string): RpcRequest['type'] | undefined {
  return typeByPath.get(path);
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Serialises a full request; byte payloads become base64 strings. */
export function encodeJsonRequest(req: RpcRequest): string {
  switch (req.type) {
    case 'AppendEntries':
      return JSON.stringify({ ...req, entries: req.entries.map((e) => ({ index: e.index, term: e.term, type: e.type, data: base64(e.data) })) });
    case 'InstallSnapshot':
      return JSON.stringify({ ...req, data: base64(req.data) });
    default:
      return JSON.stringify(req);
  }
}

type Json = Record<string, unknown>;

function field(body: Json, name: string): unknown {
  return body[name];
}

function integer(body: Json, name: string): number {
  const v = field(body, name);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ProtocolError(`field ${name} must be a non-negative safe integer`);
  return v;
}

function text(body: Json, name: string): string {
  const v = field(body, name);
  if (typeof v !== 'string' || v.length === 0) throw new ProtocolError(`field ${name} must be a non-empty string`);
  return v;
}

function flag(body: Json, name: string, fallback: boolean): boolean {
  const v = field(body, name);
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ProtocolError(`field ${name} must be a boolean`);
  return v;
}

function bytes(body: Json, name: string): Uint8Array {
  const v = field(body, name);
  if (typeof v !== 'string') throw new ProtocolError(`field ${name} must be a base64 string`);
  return Buffer.from(v, 'base64');
}

function object(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProtocolError(`${what} must be a JSON object`);
  return value as Json;
}

function ids(value: unknown, name: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new ProtocolError(`field ${name} must be a list of node ids`);
  return value as string[];
}

function config(body: Json): ClusterConfig {
  const v = field(body, 'config');
  if (v === undefined) return { voters: [], learners: [] };
  const c = object(v, 'config');
  return { voters: ids(c.voters, 'config.voters'), learners: ids(c.learners, 'config.learners') };
}

/** Parses and validates a request body of `type`; throws {@link ProtocolError}. */
export function decodeJsonRequest(type: RpcRequest['type'], text_: string): RpcRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text_);
  } catch (error) {
    throw new ProtocolError(`malformed JSON: ${(error as Error).message}`);
  }
  const body = object(parsed, 'request body');
  const base = { from: text(body, 'from'), to: text(body, 'to'), term: integer(body, 'term') };
  switch (type) {
    case 'RequestVote': {
      const req: RequestVoteRequest = {
        type, ...base, candidateId: text(body, 'candidateId'), lastLogIndex: integer(body, 'lastLogIndex'), lastLogTerm: integer(body, 'lastLogTerm'),
        preVote: flag(body, 'preVote', false), leadershipTransfer: flag(body, 'leadershipTransfer', false),
      };
      return req;
    }
    case 'AppendEntries': {
      const list = field(body, 'entries');
      if (!Array.isArray(list)) throw new ProtocolError('field entries must be a list');
      const entries: Entry[] = list.map((raw, i) => {
        const e = object(raw, `entries[${i}]`);
        const entryType = e.type ?? 'normal';
        if (entryType !== 'normal' && entryType !== 'confChange') throw new ProtocolError(`entries[${i}].type must be normal or confChange`);
        return { index: integer(e, 'index'), term: integer(e, 'term'), type: entryType, data: bytes(e, 'data') };
      });
      const req: AppendEntriesRequest = {
        type, ...base, leaderId: text(body, 'leaderId'), prevLogIndex: integer(body, 'prevLogIndex'), prevLogTerm: integer(body, 'prevLogTerm'),
        entries, leaderCommit: integer(body, 'leaderCommit'), context: field(body, 'context') === undefined ? 0 : integer(body, 'context'),
      };
      return req;
    }
    case 'InstallSnapshot': {
      const req: InstallSnapshotRequest = {
        type, ...base, leaderId: text(body, 'leaderId'), lastIncludedIndex: integer(body, 'lastIncludedIndex'), lastIncludedTerm: integer(body, 'lastIncludedTerm'),
        offset: integer(body, 'offset'), data: bytes(body, 'data'), done: flag(body, 'done', false), config: config(body),
      };
      return req;
    }
    case 'TimeoutNow': {
      const req: TimeoutNowRequest = { type, ...base, leaderId: text(body, 'leaderId') };
      return req;
    }
  }
}
