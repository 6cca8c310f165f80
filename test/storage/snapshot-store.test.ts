// SnapshotStore: chunked write, atomic install, keep-last-K, chunked read, checksums on open.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SnapshotMeta } from '../../src/core/types.js';
import { SnapshotStore, StorageCorruptionError, snapshotId } from '../../src/storage/index.js';
import { tempDir } from './helpers.js';
import { payload } from './helpers.js';

let dirs: Array<{ path: string; remove(): void }> = [];
afterEach(() => {
  for (const dir of dirs) dir.remove();
  dirs = [];
});

function dir(): string {
  const d = tempDir('snapshots');
  dirs.push(d);
  return d.path;
}

const meta = (index: number, term: number): SnapshotMeta => ({ lastIncludedIndex: index, lastIncludedTerm: term, config: { voters: ['a', 'b', 'c'], learners: [] } });

async function writeSnapshot(store: SnapshotStore, m: SnapshotMeta, data: Uint8Array, chunkBytes = 1000) {
  const writer = await store.createWriter(m);
  for (let offset = 0; offset < data.length; offset += chunkBytes) await writer.write(data.subarray(offset, offset + chunkBytes));
  return writer.commit();
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return null;
}

describe('SnapshotStore', () => {
  it('writes in chunks and reads back the same bytes in chunks', async () => {
    const store = await SnapshotStore.open(dir());
    const data = payload(1, 1, 25_000);
    const info = await writeSnapshot(store, meta(100, 3), data, 777);
    expect(info).toMatchObject({ id: snapshotId(meta(100, 3)), meta: meta(100, 3), dataBytes: 25_000 });
    expect(await store.latest()).toEqual(info);
    const reader = await store.openReader(info.id);
    const parts: Uint8Array[] = [];
    for (let offset = 0; ; ) {
      const chunk = await reader.read(offset, 4096);
      if (chunk.length === 0) break;
      parts.push(chunk);
      offset += chunk.length;
    }
    await reader.close();
    expect(Buffer.concat(parts)).toEqual(Buffer.from(data));
    expect((await store.readAll(info.id)).data).toEqual(data);
  });

  it('takes one write larger than its 1 MB write pieces, with the checksum carried across them', async () => {
    const store = await SnapshotStore.open(dir());
    const data = payload(2, 1, 2_500_000);
    const info = await writeSnapshot(store, meta(200, 4), data, data.length);
    expect(info.dataBytes).toBe(2_500_000);
    // A fresh store verifies the whole file's checksum when it opens it.
    const reopened = await SnapshotStore.open(store.dir);
    expect(Buffer.from((await reopened.readAll(info.id)).data).equals(Buffer.from(data))).toBe(true);
  });

  it('shows nothing until commit; abort and a crashed writer leave nothing behind', async () => {
    const path = dir();
    const store = await SnapshotStore.open(path);
    const writer = await store.createWriter(meta(5, 1));
    await writer.write(payload(5, 1, 100));
    expect(await store.latest()).toBeNull();
    await writer.abort();
    expect(readdirSync(path)).toEqual([]);
    // A writer that never finished (the process died) leaves a .partial file: open removes it.
    const crashed = await store.createWriter(meta(6, 1));
    await crashed.write(payload(6, 1, 100));
    expect(readdirSync(path).some((name) => name.endsWith('.partial'))).toBe(true);
    await SnapshotStore.open(path);
    expect(readdirSync(path)).toEqual([]);
    await crashed.abort();
  });

  it('keeps the last K snapshots, newest by index then term', async () => {
    const path = dir();
    const store = await SnapshotStore.open(path, { keep: 2 });
    for (const [index, term] of [[10, 1], [30, 2], [20, 2], [30, 3]] as const) await writeSnapshot(store, meta(index, term), payload(index, term, 300));
    const kept = await store.list();
    expect(kept.map((s) => [s.meta.lastIncludedIndex, s.meta.lastIncludedTerm])).toEqual([[30, 3], [30, 2]]);
    expect(readdirSync(path)).toHaveLength(2);
  });

  it('an empty snapshot is a valid snapshot', async () => {
    const store = await SnapshotStore.open(dir());
    const info = await writeSnapshot(store, meta(1, 1), new Uint8Array(0));
    expect((await store.readAll(info.id)).data).toEqual(new Uint8Array(0));
  });

  it('refuses a snapshot whose data was damaged (checked on open)', async () => {
    const path = dir();
    const store = await SnapshotStore.open(path);
    const info = await writeSnapshot(store, meta(42, 7), payload(42, 7, 5000));
    const file = join(path, `${info.id}.snap`);
    const bytes = readFileSync(file);
    bytes[1234]! ^= 0x01;
    writeFileSync(file, bytes);
    const error = await errorOf(store.openReader(info.id));
    expect(error).toBeInstanceOf(StorageCorruptionError);
    expect((error as StorageCorruptionError).record).toBe('snapshot');
  });

  it('refuses a snapshot whose metadata or trailer was damaged, or that was cut short', async () => {
    const path = dir();
    const store = await SnapshotStore.open(path);
    const info = await writeSnapshot(store, meta(42, 7), payload(42, 7, 5000));
    const file = join(path, `${info.id}.snap`);
    const good = readFileSync(file);
    for (const damage of [good.length - 40, good.length - 10, -1]) {
      const bytes = damage === -1 ? good.subarray(0, good.length - 100) : Buffer.from(good);
      if (damage !== -1) bytes[damage]! ^= 0x10;
      writeFileSync(file, bytes);
      expect(await errorOf(store.latest())).toBeInstanceOf(StorageCorruptionError);
    }
    writeFileSync(file, good);
    expect((await store.latest())?.id).toBe(info.id);
  });

  it('rejects ids that are not snapshot ids (no path tricks)', async () => {
    const store = await SnapshotStore.open(dir());
    const error = await errorOf(store.openReader('../../etc/passwd'));
    expect((error as { code?: string }).code).toBe('STORAGE_ERR_INVALID_WRITE');
    expect(existsSync(store.dir)).toBe(true);
  });
});
