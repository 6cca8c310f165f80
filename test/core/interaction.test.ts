/**
 * Golden-file interaction scripts, in the manner of etcd-io/raft's interaction tests: each file in
 * test/core/testdata/ is a list of commands (lines starting with "> ") each followed by the output
 * it must produce — every Ready the nodes emit and every message delivered. `UPDATE=1 npx vitest
 * run test/core/interaction.test.ts` rewrites the expected output from the current behaviour
 * (review the diff before committing it).
 *
 * Commands:
 *   cluster <id>… [preVote=bool] [checkQuorum=bool]   new nodes, all voters, ticked past their startup lease
 *   add <id>                 a node outside the configuration (to join later)
 *   campaign <id>            tick only <id> until it starts an election
 *   tick <id|all> <n>        n ticks
 *   stabilize                handle Readies and deliver messages until quiet (prints both)
 *   propose <id> <text>      prints the index or the error code
 *   conf <id> <type> <node>  proposeConfChange
 *   read <id> <ctx> / lease <id> <ctx> / transfer <id> <to>
 *   partition <a> <b> / isolate <id> / heal
 *   snapshot <id>            snapshotTaken at the applied index
 *   restart <id>             rebuild from what it persisted
 *   status <id>
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRaftwireError, RawNode, type ConfChange, type Entry, type Message, type Ready } from '../../src/core/index.js';
import type { Stored } from './harness.js';

const dir = join(import.meta.dirname, 'testdata');

class Interaction {
  private readonly nodes = new Map<string, { node: RawNode; stored: Stored; options: Record<string, boolean> }>();
  private readonly cut = new Set<string>();
  private queue: Message[] = [];
  private voters: string[] = [];
  private out: string[] = [];

  run(command: string): string {
    this.out = [];
    const [name, ...args] = command.trim().split(/\s+/);
    try {
      this.dispatch(name, args);
    } catch (e) {
      if (!isRaftwireError(e)) throw e;
      this.out.push(`error ${e.code}: ${e.message}`);
    }
    return this.out.join('\n');
  }

  private dispatch(name: string, args: string[]): void {
    switch (name) {
      case 'cluster': {
        const ids = args.filter((a) => !a.includes('='));
        const options = Object.fromEntries(args.filter((a) => a.includes('=')).map((a) => [a.split('=')[0], a.split('=')[1] === 'true']));
        this.voters = ids;
        for (const id of ids) this.create(id, options);
        for (let i = 0; i < 10; i++) for (const id of ids) this.get(id).tick();
        return;
      }
      case 'add':
        this.create(args[0], {});
        for (let i = 0; i < 10; i++) this.get(args[0]).tick();
        return;
      case 'campaign': {
        const n = this.get(args[0]);
        for (let i = 0; i < 100 && n.status().role === 'follower'; i++) n.tick();
        this.out.push(`${args[0]} is ${n.status().role} in term ${n.status().term}`);
        return;
      }
      case 'tick': {
        const ids = args[0] === 'all' ? [...this.nodes.keys()] : [args[0]];
        for (let i = 0; i < Number(args[1]); i++) for (const id of ids) this.get(id).tick();
        return;
      }
      case 'stabilize':
        this.stabilize();
        return;
      case 'propose':
        this.out.push(`index ${this.get(args[0]).propose(new TextEncoder().encode(args[1]))}`);
        return;
      case 'conf':
        this.out.push(`index ${this.get(args[0]).proposeConfChange({ type: args[1] as ConfChange['type'], nodeId: args[2] })}`);
        return;
      case 'read':
        this.get(args[0]).readIndex(Number(args[1]));
        return;
      case 'lease':
        this.get(args[0]).leaseRead(Number(args[1]));
        return;
      case 'transfer':
        this.get(args[0]).transferLeader(args[1]);
        return;
      case 'partition':
        this.cut.add(`${args[0]}|${args[1]}`).add(`${args[1]}|${args[0]}`);
        return;
      case 'isolate':
        for (const other of this.nodes.keys()) if (other !== args[0]) this.cut.add(`${args[0]}|${other}`).add(`${other}|${args[0]}`);
        return;
      case 'heal':
        this.cut.clear();
        return;
      case 'snapshot': {
        const t = this.nodes.get(args[0])!;
        const index = t.node.status().appliedIndex;
        const term = t.stored.entries.find((e) => e.index === index)?.term ?? t.stored.snapshot?.meta.lastIncludedTerm ?? 0;
        const snapshot = { meta: { lastIncludedIndex: index, lastIncludedTerm: term, config: t.node.configAt(index) }, data: new TextEncoder().encode(`snap@${index}`) };
        t.node.snapshotTaken(snapshot);
        t.stored.snapshot = snapshot;
        t.stored.entries = t.stored.entries.filter((e) => e.index > index);
        this.out.push(`${args[0]} snapshot at ${index}@${term}, first index now ${t.node.status().firstIndex}`);
        return;
      }
      case 'restart': {
        const t = this.nodes.get(args[0])!;
        t.node = this.makeNode(args[0], t.stored, t.options);
        this.queue = this.queue.filter((m) => m.to !== args[0]);
        return;
      }
      case 'status': {
        const s = this.get(args[0]).status();
        this.out.push(`${s.id}: ${s.role} term ${s.term} vote ${s.vote} leader ${s.leaderId} commit ${s.commitIndex} applied ${s.appliedIndex} log [${s.firstIndex}, ${s.lastIndex}] voters ${s.config.voters.join(',')} learners ${s.config.learners.join(',') || '-'}`);
        if (s.progress !== null) for (const [id, p] of s.progress) this.out.push(`  ${id}: ${p.state} match ${p.matchIndex} next ${p.nextIndex}`);
        return;
      }
      default:
        throw new Error(`unknown command ${name}`);
    }
  }

  private create(id: string, options: Record<string, boolean>): void {
    const stored: Stored = { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] };
    this.nodes.set(id, { node: this.makeNode(id, stored, options), stored, options });
  }

  private makeNode(id: string, stored: Stored, options: Record<string, boolean>): RawNode {
    return new RawNode(
      // The longest timeout for everyone: only `campaign` starts elections, so scripts stay readable.
      { id, random: () => 0.99, tickMs: 10, electionTimeoutMinMs: 100, electionTimeoutMaxMs: 200, heartbeatIntervalMs: 30, maxSnapshotChunkBytes: 4, ...options },
      { hardState: { ...stored.hardState }, snapshot: stored.snapshot, entries: stored.entries.slice(), config: { voters: this.voters.slice(), learners: [] } },
    );
  }

  private get(id: string): RawNode {
    const t = this.nodes.get(id);
    if (t === undefined) throw new Error(`no node ${id}`);
    return t.node;
  }

  private stabilize(): void {
    for (let round = 0; round < 100; round++) {
      let busy = false;
      for (const [id, t] of this.nodes) {
        if (!t.node.hasReady()) continue;
        busy = true;
        const rd = t.node.ready();
        this.out.push(...describeReady(id, rd));
        persist(t.stored, rd);
        for (const m of rd.messages) if (!this.cut.has(`${m.from}|${m.to}`)) this.queue.push(m);
        t.node.advance();
      }
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) {
        this.out.push(`  deliver ${describeMessage(m)}`);
        this.nodes.get(m.to)?.node.step(m);
        busy = true;
      }
      if (!busy) return;
    }
    throw new Error('did not stabilize');
  }
}

function persist(stored: Stored, rd: Ready): void {
  if (rd.snapshot !== null) {
    stored.snapshot = rd.snapshot;
    stored.entries = []; // a snapshot from the leader replaces the whole log
  }
  if (rd.entries.length > 0) stored.entries = stored.entries.filter((e) => e.index < rd.entries[0].index).concat(rd.entries);
  if (rd.hardState !== null) stored.hardState = { ...rd.hardState };
}

const entry = (e: Entry): string => `${e.index}@${e.term}${e.type === 'confChange' ? ' conf' : ''}${e.data.length > 0 && e.type === 'normal' ? ` ${new TextDecoder().decode(e.data)}` : ''}`;
const entries = (es: Entry[]): string => es.map(entry).join(', ');

function describeReady(id: string, rd: Ready): string[] {
  const lines = [`${id} ready:`];
  if (rd.softState !== null) lines.push(`  role ${rd.softState.role} leader ${rd.softState.leaderId}`);
  if (rd.hardState !== null) lines.push(`  hardState term ${rd.hardState.term} vote ${rd.hardState.vote} commit ${rd.hardState.commit}${rd.mustSync ? ' (sync)' : ''}`);
  if (rd.snapshot !== null) lines.push(`  snapshot ${rd.snapshot.meta.lastIncludedIndex}@${rd.snapshot.meta.lastIncludedTerm} voters ${rd.snapshot.meta.config.voters.join(',')}`);
  if (rd.entries.length > 0) lines.push(`  entries ${entries(rd.entries)}`);
  if (rd.committedEntries.length > 0) lines.push(`  apply ${entries(rd.committedEntries)}`);
  for (const r of rd.readStates) lines.push(`  read ctx ${r.context} at ${r.index}`);
  for (const m of rd.messages) lines.push(`  send ${describeMessage(m)}`);
  return lines;
}

function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} t${m.term} ${m.type}`;
  switch (m.type) {
    case 'RequestVote':
      return `${head}${m.preVote ? ' pre' : ''}${m.leadershipTransfer ? ' transfer' : ''} last ${m.lastLogIndex}@${m.lastLogTerm}`;
    case 'RequestVoteResponse':
      return `${head}${m.preVote ? ' pre' : ''} ${m.voteGranted ? 'granted' : 'rejected'}`;
    case 'AppendEntries':
      return `${head} prev ${m.prevLogIndex}@${m.prevLogTerm} [${entries(m.entries)}] commit ${m.leaderCommit} ctx ${m.context}`;
    case 'AppendEntriesResponse':
      return `${head} ${m.success ? `ok ${m.lastLogIndex}` : `reject ${m.lastLogIndex} hint ${m.conflictIndex}@${m.conflictTerm}`} ctx ${m.context}`;
    case 'InstallSnapshot':
      return `${head} ${m.lastIncludedIndex}@${m.lastIncludedTerm} offset ${m.offset} bytes ${m.data.length}${m.done ? ' done' : ''}`;
    case 'InstallSnapshotResponse':
      return `${head} ${m.lastIncludedIndex} received ${m.bytesReceived}${m.success ? '' : ' failed'}`;
    case 'TimeoutNow':
      return head;
  }
}

describe('interaction scripts', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    it(file, () => {
      const text = readFileSync(join(dir, file), 'utf8');
      const blocks = text.split(/^> /m);
      const preamble = blocks.shift() ?? '';
      const interaction = new Interaction();
      let rewritten = preamble;
      for (const block of blocks) {
        const newline = block.indexOf('\n');
        const command = newline < 0 ? block : block.slice(0, newline);
        const expected = (newline < 0 ? '' : block.slice(newline + 1)).replace(/\n+$/, '');
        const actual = interaction.run(command);
        rewritten += `> ${command}\n${actual}${actual ? '\n' : ''}\n`;
        if (!process.env.UPDATE) expect(actual, `${file}: > ${command}`).toBe(expected);
      }
      if (process.env.UPDATE) writeFileSync(join(dir, file), rewritten.replace(/\n+$/, '\n'));
    });
  }
});
