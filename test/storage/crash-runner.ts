// The crash test's parent side, shared by crash.test.ts (default run) and crash-cli.ts (long
// runs): start crash-child.ts, SIGKILL it after a seeded random delay, reopen the log and check
// that every acknowledged entry is there with its exact bytes, that nothing is torn, and that
// the store accepts appends again.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Entry } from '../../src/core/types.js';
import { LmdbLogStore } from '../../src/storage/index.js';
import { readState } from '../../src/storage/lmdb-verify.js';
import { Prng } from '../../src/util/prng.js';
import { payload, tempDir } from './helpers.js';

/** What the crash child writes at `index`: term and bytes are functions of the index alone. */
export function crashEntry(index: number): Entry {
  const term = 1 + Math.floor(index / 500);
  return { index, term, type: index % 7 === 0 ? 'confChange' : 'normal', data: payload(index, term, 1 + ((index * 131) % 300)) };
}

export interface CrashRound {
  round: number;
  delayMs: number;
  /** Writes the child issued, and the latest it saw acknowledged. */
  issuedWrites: number;
  ackedWrite: number;
  /** Where the log ended once the latest acknowledged write was durable. */
  ackedIndex: number;
  /** The later write whose end state the reopened log matched (ackedWrite itself when no later one landed). */
  matchedWrite: number;
  /** Highest compaction point acknowledged. */
  ackedCompact: number;
  /** Compacted entries LMDB still held at the kill (removed a budget per checkpoint). */
  staleAtOpen: number;
  lastIndex: number;
  /** WAL records the reopened store replayed: writes durable in the WAL but not yet in LMDB at the kill. */
  replayed: number;
}

export interface CrashReport {
  seed: number;
  rounds: CrashRound[];
}

const childPath = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The state a durable write leaves the log in, if no later write is durable. */
export interface WriteEnd {
  lastIndex: number;
  commit: number;
}

export interface ChildRun {
  /** writes[seq - 1]: what write number seq leaves behind. */
  writes: WriteEnd[];
  ackedWrite: number;
  ackedCompact: number;
  exit: { code: number | null; signal: NodeJS.Signals | null };
  stderr: string;
}

interface StartedChild {
  /** Tells the child to open the log, then SIGKILLs it `delayMs` after its first acknowledgement. */
  run(delayMs: number): Promise<ChildRun>;
  kill(): Promise<void>;
}

/** Starts a child that loads its modules and waits for "go" before touching the log. */
function startChild(dir: string, seed: number): StartedChild {
  const child = spawn(process.execPath, ['--import', 'tsx', childPath, dir, String(seed)], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  const writes: WriteEnd[] = [];
  let ackedWrite = 0;
  let ackedCompact = 0;
  let protocolError: string | undefined;
  let pending = '';
  let stderr = '';
  let onFirstAck: (() => void) | null = null;
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  child.stdin.on('error', () => {}); // the child may be gone before it reads
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text: string) => {
    pending += text;
    let newline: number;
    while ((newline = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      const [kind, value, last, commit] = line.split(' ');
      if (kind === 'w') {
        if (Number(value) !== writes.length + 1) protocolError ??= `crash child announced write ${value} after ${writes.length}`;
        writes.push({ lastIndex: Number(last), commit: Number(commit) });
      }
      if (kind === 'a') ackedWrite = Math.max(ackedWrite, Number(value));
      if (kind === 'c') ackedCompact = Math.max(ackedCompact, Number(value));
      if (kind === 'a' && onFirstAck !== null) {
        onFirstAck();
        onFirstAck = null;
      }
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => (stderr += text));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await closed;
  };
  return {
    kill,
    async run(delayMs) {
      // A child that never acknowledges anything is a failure, not a hang.
      const startTimer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      let killTimer: NodeJS.Timeout | null = null;
      onFirstAck = () => {
        clearTimeout(startTimer);
        killTimer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      };
      child.stdin.end('go\n');
      const exit = await closed;
      clearTimeout(startTimer);
      if (killTimer !== null) clearTimeout(killTimer);
      if (protocolError !== undefined) throw new Error(protocolError);
      return { writes, ackedWrite, ackedCompact, exit, stderr };
    },
  };
}

/** Compacted entries LMDB holds below the compaction point it records (read before the store opens, which removes them). */
async function staleInLmdb(dir: string): Promise<number> {
  const { open } = await import('lmdb');
  const raw = open<Buffer, string | number>({ path: dir, encoding: 'binary' });
  try {
    const { prevIndex } = readState(raw, dir).bounds;
    return [...raw.getKeys({ start: 0, end: prevIndex + 1 })].filter((key) => typeof key === 'number').length;
  } finally {
    await raw.close();
  }
}

/** Checks the reopened log against what the child acknowledged; throws on any loss or damage. */
export async function checkLog(dir: string, acked: Pick<ChildRun, 'writes' | 'ackedWrite' | 'ackedCompact'>): Promise<{ lastIndex: number; matchedWrite: number; replayed: number; staleAtOpen: number }> {
  const { writes, ackedWrite, ackedCompact } = acked;
  const staleAtOpen = await staleInLmdb(dir);
  const store = await LmdbLogStore.open(dir, { verifyOnOpen: 'all' });
  try {
    if (store.firstIndex() - 1 < ackedCompact) throw new Error(`lost a compaction: the log starts at ${store.firstIndex()}, compaction through ${ackedCompact} was acknowledged`);
    const lastIndex = store.lastIndex();
    const commit = store.hardState().commit;
    // Writes are durable in the order they were issued, so the log must be in the state some
    // write at or after the latest acknowledged one left it in. Looking from the newest down
    // names the latest write that can explain it.
    let matchedWrite = 0;
    for (let seq = writes.length; seq >= ackedWrite && matchedWrite === 0; seq--) {
      const end = writes[seq - 1]!;
      if (end.lastIndex === lastIndex && end.commit === commit) matchedWrite = seq;
    }
    if (matchedWrite === 0) {
      const want = writes[ackedWrite - 1]!;
      throw new Error(
        `lost acknowledged writes: the log ends at ${lastIndex} with commit ${commit}, which no write from ` +
          `acknowledged write ${ackedWrite} (end ${want.lastIndex}, commit ${want.commit}) to issued write ${writes.length} leaves`,
      );
    }
    for (let lo = store.firstIndex(); lo <= lastIndex; ) {
      const batch = store.entries(lo, lastIndex + 1, 1 << 20);
      for (const entry of batch) {
        const want = crashEntry(entry.index);
        if (entry.term !== want.term || entry.type !== want.type || Buffer.compare(entry.data, want.data) !== 0) {
          throw new Error(`entry ${entry.index} differs from what was written (term ${entry.term}, ${entry.data.length} bytes)`);
        }
      }
      lo += batch.length;
    }
    // The store takes appends again after the crash.
    await store.append([crashEntry(lastIndex + 1)]);
    if (store.lastIndex() !== lastIndex + 1) throw new Error('append after reopen did not land');
    return { lastIndex: lastIndex + 1, matchedWrite, replayed: store.recoveredRecords, staleAtOpen };
  } finally {
    await store.close();
  }
}

/** Runs `rounds` kill-and-reopen rounds on one log directory (removed afterwards). */
export async function runCrashRounds(options: { rounds: number; seed: number; delayMsMax?: number; onRound?: (round: CrashRound) => void }): Promise<CrashReport> {
  const rand = new Prng(options.seed);
  const dir = tempDir('crash');
  const report: CrashReport = { seed: options.seed, rounds: [] };
  // Children load their modules ahead of their round (a second or more under load); two start
  // ahead so the rounds need not wait for it. Seeds are drawn in start order, so a run replays.
  const lookahead = 2;
  const waiting: StartedChild[] = [];
  let started = 0;
  const topUp = () => {
    while (waiting.length < lookahead && started < options.rounds) {
      waiting.push(startChild(dir.path, rand.nextU32()));
      started++;
    }
  };
  try {
    topUp();
    for (let round = 0; round < options.rounds; round++) {
      const delayMs = rand.int(options.delayMsMax ?? 150);
      const current = waiting.shift()!;
      topUp();
      const run = await current.run(delayMs);
      if (run.exit.signal !== 'SIGKILL') {
        throw new Error(`round ${round}: child ended by itself (code ${run.exit.code}, signal ${run.exit.signal}): ${run.stderr}`);
      }
      if (run.ackedWrite === 0) throw new Error(`round ${round}: child acknowledged nothing: ${run.stderr}`);
      const { lastIndex, matchedWrite, replayed, staleAtOpen } = await checkLog(dir.path, run).catch((error: Error) => {
        throw new Error(`round ${round} (seed ${options.seed}): ${error.message}`, { cause: error });
      });
      const result: CrashRound = {
        round,
        delayMs,
        issuedWrites: run.writes.length,
        ackedWrite: run.ackedWrite,
        ackedIndex: run.writes[run.ackedWrite - 1]!.lastIndex,
        matchedWrite,
        ackedCompact: run.ackedCompact,
        staleAtOpen,
        lastIndex,
        replayed,
      };
      report.rounds.push(result);
      options.onRound?.(result);
    }
  } finally {
    for (const child of waiting) await child.kill();
    dir.remove();
  }
  return report;
}
