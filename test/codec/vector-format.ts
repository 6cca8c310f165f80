// The JSON shape of test/vectors/*.json: byte fields as {"$bytes": "<hex>"}, frames as hex.
import type { WireMessage } from '../../src/codec/index.js';

export interface FrameVector {
  name: string;
  requestId: number;
  message: unknown;
  frameHex: string;
}

export interface RejectVector {
  name: string;
  why: string;
  frameHex: string;
  /** A CodecError code, or 'needMore'. */
  expect: string;
}

export function toJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('hex') };
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  }
  return value;
}

export function fromJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromJson);
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record['$bytes'] === 'string') return new Uint8Array(Buffer.from(record['$bytes'], 'hex'));
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fromJson(v)]));
  }
  return value;
}

export const messageFromJson = (value: unknown): WireMessage => fromJson(value) as WireMessage;
export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
export const unhex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
