// Shared helpers of the storage tests: entries with recognisable payloads, temp directories.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry, EntryType } from '../../src/core/types.js';
import { LmdbLogStore, type LmdbLogStoreOptions } from '../../src/storage/index.js';

/** A payload determined by (index, term): any torn or misplaced byte shows. */
export function payload(index: number, term: number, length = 8 + ((index * 7919 + term * 31) % 57)): Uint8Array {
  const data = new Uint8Array(length);
  let x = (index * 2654435761 + term * 40503) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  return data;
}

export function entry(index: number, term: number, type: EntryType = 'normal'): Entry {
  return { index, term, type, data: payload(index, term) };
}

/** Entries [lo, hi] all of `term`. */
export function entries(lo: number, hi: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) out.push(entry(i, term, i % 5 === 0 ? 'confChange' : 'normal'));
  return out;
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `raftwire-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The error `LmdbLogStore.open` refuses with, or null when it opens (the store is closed again). */
export async function openError(path: string, options: LmdbLogStoreOptions = {}): Promise<unknown> {
  try {
    const store = await LmdbLogStore.open(path, options);
    await store.close();
  } catch (error) {
    return error;
  }
  return null;
}
