/**
 * The small fixed facts of the UwsNetwork protocol: path, answer types, close codes, bounds, and
 * the lazy loading of uWebSockets.js.
 * @module
 */
import type { ClientReply, WireMessage } from '../../codec/index.js';
import type { RpcRequest } from '../types.js';

export type UwsModule = typeof import('uWebSockets.js');
let uwsModule: UwsModule | undefined;

/**
 * uWebSockets.js is a native module: load it on first start, so that importing the transport layer
 * (for InMemoryNetwork, say) never loads a native binary.
 */
export async function loadUws(): Promise<UwsModule> {
  if (uwsModule === undefined) {
    const imported = (await import('uWebSockets.js')) as UwsModule & { default?: UwsModule };
    uwsModule = imported.default ?? imported;
  }
  return uwsModule;
}

/** WebSocket path peers connect to. */
export const raftWsPath = '/raft';

/** The frame type that answers each request type (TimeoutNow is acknowledged with a ClientReply). */
export const answerTypeOf: Record<RpcRequest['type'], WireMessage['type']> = {
  RequestVote: 'RequestVoteResponse',
  AppendEntries: 'AppendEntriesResponse',
  InstallSnapshot: 'InstallSnapshotResponse',
  TimeoutNow: 'ClientReply',
};

/** The acknowledgement of a TimeoutNow. */
export const ackReply: ClientReply = { type: 'ClientReply', status: 'ok', code: '', value: null, leaderHint: null };

/** Bounds on a handler error's code and message as sent back to the caller, in characters. */
export const errorCodeCharsMax = 128;
export const errorMessageCharsMax = 1024;

/** Close codes we send. */
export const closeProtocolError = 1008;
export const closeGoingAway = 1001;
/** How long stop() waits for a dialed connection's close handshake before cutting it. */
export const stopCloseWaitMs = 1000;
