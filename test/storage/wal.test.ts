// The write-ahead log of LmdbLogStore: what recovery keeps and what it refuses. A "crash" here is a
// copy of the log directory taken while the store is open (checkpoints off, so the copy holds
// writes that are in the WAL but not in LMDB), which is what a kill -9 leaves behind.
import { closeSync, cpSync, openSync, readFileSync, readdirSync, write, writeFileSync, writeSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isRaftwireError } from '../../src/core/errors.js';
import { LmdbLogStore, StorageCorruptionError, StorageFullError, StorageIoError, StorageLockedError } from '../../src/storage/index.js';
import type { LmdbLogStoreOptions } from '../../src/storage/index.js';
import { LOCK_FILE } from '../../src/storage/dir-lock.js';
import { checkRecordAt } from '../../src/storage/wal-record.js';
import type { WalIo } from '../../src/storage/wal.js';
import { entries, entry, openError, tempDir } from './helpers.js';

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

/** Checkpoints only when asked: everything written stays in the WAL. */
const walOnly: LmdbLogStoreOptions = { checkpointIntervalMs: Number.POSITIVE_INFINITY, checkpointBytes: Number.MAX_SAFE_INTEGER };

function newDir(): string {
  const dir = tempDir('wal');
  cleanups.push(() => dir.remove());
  return dir.path;
}

async function openStore(path: string, options: LmdbLogStoreOptions = {}): Promise<LmdbLogStore> {
  const store = await LmdbLogStore.open(path, options);
  cleanups.push(() => store.close());
  return store;
}

/**
 * The log directory as a kill -9 would leave it now, without the live store's lock and without a
 * spare being zero-filled in the background (`.tmp`: renamed under the copy's feet; open removes
 * such files anyway).
 */
function crashCopy(path: string): string {
  const copy = newDir();
  cpSync(path, copy, { recursive: true, filter: (source) => !source.endsWith(LOCK_FILE) && !source.endsWith('.tmp') });
  return copy;
}

function segmentFiles(path: string): string[] {
  return readdirSync(path).filter((name) => /^wal-[0-9a-f]{16}\.log$/.test(name)).sort();
}

/** Offsets of the records in a segment file, in order. */
function recordOffsets(file: string): number[] {
  const bytes = readFileSync(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offsets: number[] = [];
  for (let offset = 0; ; ) {
    const record = checkRecordAt(bytes, view, offset);
    if (!record.ok) return offsets;
    offsets.push(offset);
    offset = record.next;
  }
}

function damage(file: string, offset: number): void {
  const fd = openSync(file, 'r+');
  const byte = Buffer.alloc(1);
  byte[0] = readFileSync(file)[offset]! ^ 0x5a;
  writeSync(fd, byte, 0, 1, offset);
  closeSync(fd);
}

describe('WAL recovery', () => {
  it('replays writes that were durable in the WAL but not yet in LMDB (killed before the checkpoint)', async () => {
    const path = newDir();
    const store = await openStore(path, walOnly);
    await store.append(entries(1, 10, 1));
    await store.save({ entries: entries(11, 12, 2), hardState: { term: 2, vote: 'n2', commit: 9 } });
    await store.truncateSuffix(12);
    await store.compact(3);
    expect(store.checkpointSeq()).toBe(0);
    const copy = crashCopy(path);
    const reopened = await openStore(copy, { verifyOnOpen: 'all' });
    expect(reopened.recoveredRecords).toBe(4);
    expect(reopened.firstIndex()).toBe(4);
    expect(reopened.lastIndex()).toBe(11);
    expect(reopened.hardState()).toEqual({ term: 2, vote: 'n2', commit: 9 });
    expect(reopened.entries(4, 12)).toEqual([...entries(4, 10, 1), ...entries(11, 11, 2)]);
    // Replayed writes were checkpointed at open: LMDB holds them, the WAL segments are recycled.
    expect(reopened.checkpointSeq()).toBe(4);
    expect(reopened.walSegments()).toEqual([]);
  });

  it('drops a torn last record (a write that was never acknowledged) and opens', async () => {
    const path = newDir();
    const store = await openStore(path, walOnly);
    for (let i = 1; i <= 5; i++) await store.append([entry(i, 1)]);
    const copy = crashCopy(path);
    const [segment] = segmentFiles(copy);
    const offsets = recordOffsets(join(copy, segment!));
    expect(offsets).toHaveLength(5);
    damage(join(copy, segment!), offsets[4]! + 30); // inside the last record: a torn write
    const reopened = await openStore(copy);
    expect(reopened.lastIndex()).toBe(4);
    expect(reopened.entries(1, 5)).toEqual([1, 2, 3, 4].map((i) => entry(i, 1)));
    // And it writes on after the torn tail (in a new segment) and keeps that across a reopen.
    await reopened.append([entry(5, 3)]);
    await reopened.close();
    const again = await openStore(copy, { verifyOnOpen: 'all' });
    expect(again.entries(5, 6)).toEqual([entry(5, 3)]);
  });

  it('drops a whole last group when one of its records is damaged (a torn group commit)', async () => {
    const path = newDir();
    const store = await openStore(path, walOnly);
    await store.append(entries(1, 2, 1));
    // Three writes in one group: one WAL write.
    await Promise.all([store.append(entries(3, 3, 1)), store.append(entries(4, 4, 1)), store.append(entries(5, 5, 1))]);
    expect(store.commitCount).toBe(2);
    const copy = crashCopy(path);
    const [segment] = segmentFiles(copy);
    const offsets = recordOffsets(join(copy, segment!));
    damage(join(copy, segment!), offsets[1]! + 30);
    const reopened = await openStore(copy);
    expect(reopened.lastIndex()).toBe(2);
  });

  it('refuses to open on a damaged record followed by later writes, naming the file and offset', async () => {
    const path = newDir();
    const store = await openStore(path, walOnly);
    for (let i = 1; i <= 5; i++) await store.append([entry(i, 1)]);
    const copy = crashCopy(path);
    const [segment] = segmentFiles(copy);
    const file = join(copy, segment!);
    const offsets = recordOffsets(file);
    damage(file, offsets[1]! + 30);
    const error = await openError(copy);
    expect(error).toBeInstanceOf(StorageCorruptionError);
    const corruption = error as StorageCorruptionError;
    expect(corruption.code).toBe('STORAGE_ERR_CORRUPTION');
    expect(corruption.record).toBe('wal');
    expect(corruption.path).toBe(file);
    expect(corruption.offset).toBe(offsets[1]);
    expect(corruption.message).toContain('remove its data directory');
    // The lock of the refused open was released.
    expect(readdirSync(copy)).not.toContain(LOCK_FILE);
  });

  it('refuses to open when a segment LMDB does not hold yet is missing', async () => {
    const path = newDir();
    const store = await openStore(path, { ...walOnly, walSegmentBytes: 2048 });
    for (let i = 1; i <= 60; i++) await store.append([entry(i, 1)]);
    const copy = crashCopy(path);
    const segments = segmentFiles(copy);
    expect(segments.length).toBeGreaterThan(2);
    writeFileSync(join(copy, segments[1]!), Buffer.alloc(0));
    const error = await openError(copy);
    expect(error).toBeInstanceOf(StorageCorruptionError);
    expect((error as StorageCorruptionError).record).toBe('wal');
  });

  it('keeps WAL segments until a checkpoint puts their records in LMDB, then recycles them', async () => {
    const path = newDir();
    const store = await openStore(path, { ...walOnly, walSegmentBytes: 2048 });
    for (let i = 1; i <= 60; i++) await store.append([entry(i, 1)]);
    const segments = store.walSegments();
    expect(segments.length).toBeGreaterThan(2);
    expect(segmentFiles(path)).toEqual(segments);
    expect(store.checkpointSeq()).toBe(0);
    await store.checkpoint();
    expect(store.checkpointSeq()).toBe(60);
    // Only the segment being written stays; the others became spares or were deleted.
    expect(store.walSegments()).toEqual([segments[segments.length - 1]]);
    expect(segmentFiles(path)).toEqual(store.walSegments());
    // Recycled files hold old records; a reopen must not take them for new ones.
    for (let i = 61; i <= 120; i++) await store.append([entry(i, 2)]);
    const copy = crashCopy(path);
    const reopened = await openStore(copy, { verifyOnOpen: 'all' });
    expect(reopened.lastIndex()).toBe(120);
    expect(reopened.entries(55, 121).map((e) => e.term)).toEqual([...Array(6).fill(1), ...Array(60).fill(2)]);
  });

  it('serves reads from the in-memory tail and from LMDB alike, while a checkpoint is running', async () => {
    const path = newDir();
    const store = await openStore(path, { ...walOnly, walSegmentBytes: 8192 });
    await store.append(entries(1, 50, 1));
    await store.checkpoint();
    await store.append(entries(51, 100, 1));
    const pending = store.checkpoint();
    await store.append(entries(101, 120, 1));
    expect(store.entries(1, 121)).toEqual(entries(1, 120, 1));
    expect(store.term(75)).toBe(1);
    await pending;
    expect(store.entries(40, 121, 300).length).toBeGreaterThan(0);
    expect(store.entries(1, 121)).toEqual(entries(1, 120, 1));
  });
});

describe('WAL write failures', () => {
  function failingIo(code: string, failAfter: number): WalIo {
    let writes = 0;
    return {
      write(fd, buffer, offset, length, position, callback) {
        if (writes++ >= failAfter) {
          const error = Object.assign(new Error(`${code}: injected`), { code });
          setImmediate(() => callback(error, 0));
          return;
        }
        write(fd, buffer, offset, length, position, callback);
      },
    };
  }

  it('rejects a write whose WAL write fails with StorageIoError, refuses later writes, keeps reads and acknowledged data', async () => {
    const path = newDir();
    const store = await LmdbLogStore.open(path, { walIo: failingIo('EIO', 2) });
    await store.append(entries(1, 2, 1));
    await store.append(entries(3, 4, 1));
    const failed = await store.append(entries(5, 6, 1)).then(() => null, (error: unknown) => error);
    expect(failed).toBeInstanceOf(StorageIoError);
    expect((failed as StorageIoError).code).toBe('STORAGE_ERR_IO');
    expect(store.lastIndex()).toBe(4);
    expect(store.entries(1, 5)).toEqual(entries(1, 4, 1));
    const later = await store.setHardState({ term: 1, vote: null, commit: 4 }).then(() => null, (error: unknown) => error);
    expect(isRaftwireError(later) && later.code).toBe('STORAGE_ERR_IO');
    await store.close();
    const reopened = await openStore(path, { verifyOnOpen: 'all' });
    expect(reopened.lastIndex()).toBe(4);
    expect(reopened.hardState().commit).toBe(0);
  });

  it('maps ENOSPC from the WAL write to StorageFullError', async () => {
    const path = newDir();
    const store = await LmdbLogStore.open(path, { walIo: failingIo('ENOSPC', 0) });
    cleanups.push(() => store.close());
    const failed = await store.append(entries(1, 1, 1)).then(() => null, (error: unknown) => error);
    expect(failed).toBeInstanceOf(StorageFullError);
    expect(store.lastIndex()).toBe(0);
  });
});

describe('directory lock', () => {
  it('refuses a second open of the same directory, naming the holder, until the first closes', async () => {
    const path = newDir();
    const store = await LmdbLogStore.open(path);
    const error = await openError(path);
    expect(error).toBeInstanceOf(StorageLockedError);
    expect((error as StorageLockedError).code).toBe('STORAGE_ERR_LOCKED');
    expect((error as StorageLockedError).pid).toBe(process.pid);
    await store.close();
    const again = await openStore(path);
    expect(again.lastIndex()).toBe(0);
  });

  it('refuses an open while another process holds the log, and opens once that process is killed', async () => {
    const path = newDir();
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./lock-child.ts', import.meta.url)), path], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    cleanups.push(async () => {
      child.kill('SIGKILL');
      await exited;
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (text: Buffer) => text.toString().includes('open') && resolve());
      child.on('close', (code) => reject(new Error(`lock child exited with ${code}`)));
    });
    const error = await openError(path);
    expect(error).toBeInstanceOf(StorageLockedError);
    expect((error as StorageLockedError).pid).toBe(child.pid);
    // kill -9 leaves the lock file behind; the restart takes it over and finds the acknowledged write.
    child.kill('SIGKILL');
    await exited;
    expect(readdirSync(path)).toContain(LOCK_FILE);
    const store = await openStore(path);
    expect(store.entries(1, 2)[0]!.data).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('takes over a stale lock left by a dead process', async () => {
    const path = newDir();
    await (await LmdbLogStore.open(path)).close();
    // A pid that existed and is gone now.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(path, LOCK_FILE), `${Number(dead.stdout)}\n${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}\n`);
    const store = await openStore(path);
    expect(store.lastIndex()).toBe(0);
    // A lock written before the last reboot is stale too, whatever its pid.
    await store.close();
    writeFileSync(join(path, LOCK_FILE), `${process.pid}\nnot-this-boot\n`);
    const again = await openStore(path);
    expect(again.lastIndex()).toBe(0);
  });
});
