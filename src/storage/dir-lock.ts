/**
 * One process per log directory: a lock file `raftwire.lock` holding the owner's pid and the
 * machine's boot id, created with `O_EXCL`. A lock whose pid is not running (or that was written
 * before the last reboot) is stale, left by a process that died without closing (kill -9, power
 * cut), and is taken over, so a crash never blocks the restart.
 *
 * Limits: two processes breaking the same stale lock at the same instant can both win (the window
 * is one unlink and one create); a stale lock whose pid was reused by an unrelated live process
 * since (same boot) blocks until that process ends or the file is removed by hand.
 *
 * @module
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { StorageLockedError } from './errors.js';

export const LOCK_FILE = 'raftwire.lock';
const attemptsMax = 3;

function bootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class DirectoryLock {
  private constructor(
    readonly path: string,
    private readonly content: string,
  ) {}

  /** Takes the lock of `dir` (created if missing) or throws {@link StorageLockedError}. */
  static acquire(dir: string): DirectoryLock {
    fs.mkdirSync(dir, { recursive: true });
    const path = join(dir, LOCK_FILE);
    const boot = bootId();
    const content = `${process.pid}\n${boot}\n`;
    for (let attempt = 0; attempt < attemptsMax; attempt++) {
      try {
        fs.writeFileSync(path, content, { flag: 'wx' });
        return new DirectoryLock(path, content);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      let holder = '';
      try {
        holder = fs.readFileSync(path, 'utf8');
      } catch {
        continue; // released meanwhile
      }
      const [pidText, holderBoot] = holder.split('\n');
      const pid = Number(pidText);
      if (!Number.isSafeInteger(pid) || pid <= 0) {
        // Written halfway (the holder died between create and write): stale.
        fs.rmSync(path, { force: true });
        continue;
      }
      const sameBoot = holderBoot === undefined || holderBoot === '' || boot === '' || holderBoot === boot;
      if (sameBoot && (pid === process.pid || isRunning(pid))) throw new StorageLockedError(dir, pid);
      fs.rmSync(path, { force: true });
    }
    throw new StorageLockedError(dir, null);
  }

  /** Removes the lock file if it is still ours. */
  release(): void {
    try {
      if (fs.readFileSync(this.path, 'utf8') === this.content) fs.rmSync(this.path, { force: true });
    } catch {
      // Already gone.
    }
  }
}
