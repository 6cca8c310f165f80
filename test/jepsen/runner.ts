/**
 * The fault-injection runner: N real raftwire processes (uWS transport, LMDB on disk), clients
 * recording every invocation and completion, and a nemesis that, on a schedule drawn from a seed,
 * kills nodes with SIGKILL and restarts them, pauses them with SIGSTOP/SIGCONT, partitions them
 * through TCP proxies placed between every pair of nodes (one node cut off; a bridge: two sides
 * that only one node reaches both of; one way: a node that hears the others but is not heard, or
 * the reverse), and kills the leader in the middle of a membership change (a node removed, then
 * added back). At the end the faults heal, every
 * key is read once more, and the whole history goes to the linearizability checker.
 *
 * @example
 * ```ts
 * const report = await runJepsen({ timeMs: 60_000, seed: 1 });
 * report.verdict.ok; report.operations; report.historyFile;
 * ```
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RaftwireClient, RaftwireClientError, RaftwireWsClient } from '../../src/client/index.js';
import { Prng } from '../../src/util/prng.js';
import { ProcessCluster } from '../cluster/process-cluster.js';
import { freePorts } from '../support/ports.js';
import type { KvInput, KvOutput } from './kv-model.js';
import { checkLinearizability, type Operation, type Verdict } from './linearizability.js';
import { PartitionProxy } from './proxy.js';
import { renderTimeline } from './timeline.js';

export type NemesisKind = 'kill' | 'pause' | 'partition' | 'bridge' | 'oneWay' | 'killLeader' | 'membership';
export const NEMESIS_KINDS: readonly NemesisKind[] = ['kill', 'pause', 'partition', 'bridge', 'oneWay', 'killLeader', 'membership'];

export interface JepsenOptions {
  timeMs: number;
  /**
   * Faults to inject at least: the nemesis goes on past `timeMs` until there were this many
   * (never past 4 × `timeMs`). How long a fault takes depends on the machine's load (a
   * membership change under load can take many seconds), so a short run on a busy machine would
   * otherwise inject too few to mean anything. With the number of kinds, every kind comes once.
   */
  faultsMin?: number;
  seed: number;
  nodes?: number;
  clients?: number;
  keys?: number;
  nemeses?: readonly NemesisKind[];
  /** The nodes' Ready processing (`raftwire start --storage-writes`); their default when unset. */
  storageWrites?: 'sync' | 'async';
  /** How the clients talk to the cluster: `RaftwireClient` over HTTP (default) or `RaftwireWsClient`. */
  protocol?: 'http' | 'ws';
  /**
   * The consistency the clients' reads ask for: `linearizable` (default, ReadIndex) or `lease`
   * (the leader's lease; linearizable too while the nodes' clocks run at the same rate, which
   * these processes on one machine share). The final read of every key is linearizable.
   */
  reads?: 'linearizable' | 'lease';
  /** Where history.json (and timeline.html on failure) go. */
  outDir?: string;
  log?: (line: string) => void;
}

export interface JepsenReport {
  seed: number;
  verdict: Verdict;
  operations: number;
  okOperations: number;
  unknownOperations: number;
  acknowledgedWrites: number;
  faults: Record<NemesisKind, number>;
  /** Nodes whose process ended by itself with an error (a node that was removed exits 0). */
  failedNodes: string[];
  historyFile: string;
  timelineFile: string | null;
}

/** Operations the clients time out on: long enough to ride out an election, short enough to keep going. */
const OP_TIMEOUT_MS = 1_500;
/**
 * Attempts after the first. A write retried with its session's sequence is applied at most once,
 * so retrying through an unavailable stretch (a leader killed while only two voters remain) turns
 * what would be an unknown outcome into a known one; each unknown write stays open forever in
 * the checker's search and makes it exponentially slower.
 */
const WRITE_RETRIES = 10;

export async function runJepsen(options: JepsenOptions): Promise<JepsenReport> {
  const log = options.log ?? (() => undefined);
  const rand = new Prng(options.seed);
  const ids = Array.from({ length: options.nodes ?? 3 }, (_, i) => `n${i + 1}`);
  const nemeses = options.nemeses ?? NEMESIS_KINDS;
  const nodeArgs = ['--election-timeout', '300-600', '--heartbeat', '50', '--snapshot-threshold', '200'];
  if (options.storageWrites !== undefined) nodeArgs.push('--storage-writes', options.storageWrites);
  const cluster = new ProcessCluster(ids, nodeArgs);
  await cluster.init();
  // A node leaving by itself is news: removed (exit 0, expected under the membership nemesis) or
  // failed (anything else: a bug, counted in the report).
  const failedNodes: string[] = [];
  cluster.onExit = (id, code, signal, lastOutput) => {
    if (code === 0) return;
    failedNodes.push(`${id} (code ${code}, signal ${signal})`);
    log(`${id} exited by itself (code ${code}, signal ${signal}); last output:\n${lastOutput}`);
  };

  // A proxy for every ordered pair: node a reaches node b's raft port through proxy (a→b).
  const proxies = new Map<string, PartitionProxy>();
  const proxyPorts = await freePorts(ids.length * ids.length);
  for (const a of ids) {
    for (const b of ids) {
      if (a === b) continue;
      const proxy = new PartitionProxy(Number(cluster.peers[b]!.raft.split(':')[1]));
      await proxy.listen(proxyPorts.pop());
      proxies.set(`${a}>${b}`, proxy);
    }
  }
  cluster.peersFor = (id) =>
    Object.fromEntries(ids.map((other) => [other, other === id ? cluster.peers[other]! : { ...cluster.peers[other]!, raft: `127.0.0.1:${proxies.get(`${id}>${other}`)!.port}` }]));

  const history: Operation[] = [];
  const faults: Record<NemesisKind, number> = { kill: 0, pause: 0, partition: 0, bridge: 0, oneWay: 0, killLeader: 0, membership: 0 };
  const origin = performance.now();
  const now = () => performance.now() - origin;
  let running = true;
  try {
    cluster.startAll();
    await cluster.awaitLeader();
    log(`cluster up (${ids.join(', ')}), seed ${options.seed}`);
    const keys = Array.from({ length: options.keys ?? 4 }, (_, i) => `key${i}`);
    const clients = Array.from({ length: options.clients ?? 4 }, (_, c) => clientLoop(cluster, { clientId: c, keys, rand: rand.fork(), history, now, running: () => running, protocol: options.protocol ?? 'http', reads: options.reads ?? 'linearizable' }));
    await nemesisLoop(options.timeMs, options.faultsMin ?? 0, cluster, ids, proxies, nemeses, rand.fork(), faults, log);
    running = false;
    await Promise.all(clients);

    // Heal, then read every key once more: the final state is part of the history.
    for (const proxy of proxies.values()) proxy.unblock();
    for (const id of ids) if (!isRunning(cluster, id)) cluster.start(id);
    // A membership change cut short may have left a node out: bring every node back as a voter.
    for (const id of ids) await changeMembership(cluster, ids, 'POST', id, log);
    await cluster.awaitLeader(ids, 30_000);
    const reader = new RaftwireClient({ endpoints: ids.map((id) => cluster.peers[id]!.client), timeoutMs: 5_000, maxRetries: 20 });
    for (const key of keys) {
      const invokeMs = now();
      const value = await reader.getText(key);
      history.push({ clientId: 99, input: { op: 'get', key }, output: { value: value ?? null }, invokeMs, returnMs: now() });
    }
  } finally {
    running = false;
    for (const proxy of proxies.values()) await proxy.close();
    await cluster.stopAll();
  }

  // The history is saved before the check: a search that runs long can be read meanwhile.
  const outDir = options.outDir ?? join(cluster.dataRoot, '..', `raftwire-jepsen-${options.seed}`);
  mkdirSync(outDir, { recursive: true });
  const historyFile = join(outDir, 'history.json');
  writeFileSync(historyFile, JSON.stringify(history, (_k, v: unknown) => (v === Infinity ? 'Infinity' : v), 1));
  const unknown = history.filter((op) => op.output === undefined).length;
  log(`history saved (${history.length} operations, ${unknown} of unknown outcome): ${historyFile}; checking`);
  const verdict = checkLinearizability(history);
  let timelineFile: string | null = null;
  if (!verdict.ok && !verdict.unknown) {
    timelineFile = join(outDir, 'timeline.html');
    writeFileSync(timelineFile, renderTimeline(history, verdict));
  }
  const isWrite = (op: Operation) => op.input.op !== 'get';
  return {
    seed: options.seed,
    verdict,
    operations: history.length,
    okOperations: history.filter((op) => op.output !== undefined).length,
    unknownOperations: history.filter((op) => op.output === undefined).length,
    acknowledgedWrites: history.filter((op) => isWrite(op) && op.output !== undefined).length,
    faults,
    failedNodes,
    historyFile,
    timelineFile,
  };
}

/** What one client's loop works with: its id, the keys, its generator and where it records. */
interface ClientRun {
  clientId: number;
  keys: string[];
  rand: Prng;
  history: Operation[];
  now: () => number;
  running: () => boolean;
  protocol: 'http' | 'ws';
  reads: 'linearizable' | 'lease';
}

async function clientLoop(cluster: ProcessCluster, run: ClientRun): Promise<void> {
  const { clientId, protocol, reads } = run;
  const endpoints = cluster.ids.map((id) => cluster.peers[id]!.client);
  let client: KvClient;
  if (protocol === 'http') client = httpKvClient(new RaftwireClient({ endpoints, timeoutMs: OP_TIMEOUT_MS, maxRetries: WRITE_RETRIES, clientId: `jepsen-${clientId}` }), reads);
  else {
    // Each client starts on another node; it fails over to the rest.
    const rotated = [...endpoints.slice(clientId % endpoints.length), ...endpoints.slice(0, clientId % endpoints.length)];
    client = wsKvClient(await RaftwireWsClient.connect(rotated, { timeoutMs: OP_TIMEOUT_MS, maxRetries: WRITE_RETRIES, clientId: `jepsen-ws-${clientId}`, consistency: reads }));
  }
  try {
    await loopOperations(client, run);
  } finally {
    client.close?.();
  }
}

/** What the loop needs of a client, over either protocol. */
interface KvClient {
  getText(key: string): Promise<string | undefined>;
  put(key: string, value: string): Promise<void>;
  delete(key: string): Promise<unknown>;
  cas(key: string, expected: string | null, value: string): Promise<boolean>;
  close?(): void;
}

function httpKvClient(http: RaftwireClient, reads: 'linearizable' | 'lease'): KvClient {
  return {
    getText: (key) => http.getText(key, reads),
    put: (key, value) => http.put(key, value),
    delete: (key) => http.delete(key),
    cas: (key, expected, value) => http.cas(key, expected, value),
  };
}

function wsKvClient(ws: RaftwireWsClient): KvClient {
  const encode = (text: string) => new TextEncoder().encode(text);
  return {
    getText: async (key) => {
      const value = await ws.get(key);
      return value === undefined ? undefined : new TextDecoder().decode(value);
    },
    put: (key, value) => ws.set(key, encode(value)),
    delete: (key) => ws.delete(key),
    cas: (key, expected, value) => ws.cas(key, expected === null ? null : encode(expected), encode(value)),
    close: () => ws.close(),
  };
}

async function loopOperations(client: KvClient, { clientId, keys, rand, history, now, running, protocol }: ClientRun): Promise<void> {
  let written = 0;
  while (running()) {
    const key = rand.pick(keys);
    const roll = rand.next();
    const value = `${clientId}.${++written}`;
    const input: KvInput =
      roll < 0.5 ? { op: 'get', key } : roll < 0.8 ? { op: 'set', key, value } : roll < 0.85 ? { op: 'delete', key } : { op: 'cas', key, expected: rand.chance(0.3) ? null : `${rand.int(4)}.${Math.max(1, written - rand.int(3))}`, value };
    const invokeMs = now();
    let output: KvOutput | undefined;
    try {
      output = await perform(client, input);
    } catch (error) {
      // A read that failed changed nothing: leave it out. A write that failed may have been
      // applied (timed out after the leader got it): its outcome is unknown.
      if (input.op === 'get') continue;
      // Refused before proposing (an HTTP 4xx). Over WebSocket no status tells, so such a
      // failure stays unknown, which the checker allows either way.
      if (protocol === 'http' && error instanceof RaftwireClientError && !error.transient && error.status >= 400 && error.status < 500) continue;
      history.push({ clientId, input, output: undefined, invokeMs, returnMs: Infinity, error: error instanceof RaftwireClientError ? error.code : String(error) });
      continue;
    }
    history.push({ clientId, input, output, invokeMs, returnMs: now() });
  }
}

async function perform(client: KvClient, input: KvInput): Promise<KvOutput> {
  switch (input.op) {
    case 'get':
      return { value: (await client.getText(input.key)) ?? null };
    case 'set':
      await client.put(input.key, input.value);
      return {};
    case 'delete':
      await client.delete(input.key);
      return {};
    case 'cas':
      return { ok: await client.cas(input.key, input.expected, input.value) };
  }
}

async function nemesisLoop(
  timeMs: number,
  faultsMin: number,
  cluster: ProcessCluster,
  ids: string[],
  proxies: Map<string, PartitionProxy>,
  nemeses: readonly NemesisKind[],
  rand: Prng,
  faults: Record<NemesisKind, number>,
  log: (line: string) => void,
): Promise<void> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const started = Date.now();
  const injected = () => Object.values(faults).reduce((a, b) => a + b, 0);
  const goOn = () => Date.now() - started < timeMs || (injected() < faultsMin && Date.now() - started < 4 * timeMs);
  let cycle: NemesisKind[] = [];
  while (goOn()) {
    await sleep(rand.between(1_000, 2_500));
    if (!goOn()) break;
    // Every kind once per cycle, in a seeded order: a short run still covers them all.
    if (cycle.length === 0) cycle = rand.shuffle([...nemeses]);
    const kind = cycle.pop()!;
    const faultMs = rand.between(800, 2_500);
    faults[kind]++;
    switch (kind) {
      case 'kill':
      case 'killLeader': {
        let victim = rand.pick(ids);
        if (kind === 'killLeader') victim = await cluster.awaitLeader(ids, 5_000).catch(() => victim);
        log(`nemesis: SIGKILL ${victim}${kind === 'killLeader' ? ' (leader)' : ''}, restart in ${faultMs} ms`);
        await cluster.kill(victim);
        await sleep(faultMs);
        cluster.start(victim);
        break;
      }
      case 'pause': {
        const victim = rand.pick(ids);
        log(`nemesis: SIGSTOP ${victim} for ${faultMs} ms`);
        cluster.signal(victim, 'SIGSTOP');
        await sleep(faultMs);
        cluster.signal(victim, 'SIGCONT');
        break;
      }
      case 'membership': {
        // Remove a node and add it back; the leader is killed in the middle of one of the two.
        const victim = rand.pick(ids);
        const killDuringRemove = rand.chance(0.5);
        const killAfterMs = rand.between(0, 80);
        log(`nemesis: remove ${victim} and add it back, SIGKILL the leader ${killAfterMs} ms into the ${killDuringRemove ? 'removal' : 're-addition'}, restart it in ${faultMs} ms`);
        const killLeaderSoon = async () => {
          const leader = await cluster.awaitLeader(ids.filter((id) => isRunning(cluster, id)), 5_000).catch(() => undefined);
          await sleep(killAfterMs);
          if (leader === undefined) return;
          await cluster.kill(leader);
          await sleep(faultMs);
          cluster.start(leader);
        };
        await Promise.all([changeMembership(cluster, ids, 'DELETE', victim, log), killDuringRemove ? killLeaderSoon() : undefined]);
        // A removed node stops by itself; start it again (it stays without a vote until added).
        await Promise.race([cluster.exited(victim), sleep(3_000)]);
        if (!isRunning(cluster, victim)) cluster.start(victim);
        await Promise.all([changeMembership(cluster, ids, 'POST', victim, log), killDuringRemove ? undefined : killLeaderSoon()]);
        break;
      }
      case 'partition': {
        const isolated = rand.pick(ids);
        log(`nemesis: partition ${isolated} from the others for ${faultMs} ms`);
        cutBetween(proxies, [isolated], ids.filter((other) => other !== isolated));
        await sleep(faultMs);
        for (const proxy of proxies.values()) proxy.unblock();
        break;
      }
      case 'bridge': {
        // Two sides that cannot reach each other, and one node that reaches both (Jepsen's
        // bridge): the bridge may be elected by both, or the old leader keeps one side.
        const [bridge, ...rest] = rand.shuffle([...ids]);
        const sideA = rest.slice(0, Math.ceil(rest.length / 2));
        const sideB = rest.slice(sideA.length);
        log(`nemesis: bridge ${bridge} between [${sideA.join(', ')}] and [${sideB.join(', ')}], cut from each other, for ${faultMs} ms`);
        cutBetween(proxies, sideA, sideB);
        await sleep(faultMs);
        for (const proxy of proxies.values()) proxy.unblock();
        break;
      }
      case 'oneWay': {
        // A node whose bytes stop reaching the others while theirs still reach it, or the reverse.
        // Connections stay open: only timeouts can tell.
        const node = rand.pick(ids);
        const mute = rand.chance(0.5);
        log(`nemesis: one way: ${node} ${mute ? 'is not heard by' : 'does not hear'} the others for ${faultMs} ms`);
        for (const other of ids) {
          if (other === node) continue;
          // Proxy node>other carries node's bytes toward its target; other>node carries them back.
          proxies.get(`${node}>${other}`)!.stall(mute ? 'toTarget' : 'fromTarget');
          proxies.get(`${other}>${node}`)!.stall(mute ? 'fromTarget' : 'toTarget');
        }
        await sleep(faultMs);
        for (const proxy of proxies.values()) proxy.unblock();
        break;
      }
    }
  }
}

/** Blocks both directions between every node of `sideA` and every node of `sideB`. */
function cutBetween(proxies: Map<string, PartitionProxy>, sideA: readonly string[], sideB: readonly string[]): void {
  for (const a of sideA) {
    for (const b of sideB) {
      proxies.get(`${a}>${b}`)!.block();
      proxies.get(`${b}>${a}`)!.block();
    }
  }
}

function isRunning(cluster: ProcessCluster, id: string): boolean {
  const child = cluster.processes.get(id);
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/**
 * Removes (`DELETE`) or adds back (`POST`) node `id` through the running nodes other than `id`
 * (RaftwireClient finds the leader), asking again (both are idempotent) until it succeeds or 30 s
 * pass.
 */
async function changeMembership(cluster: ProcessCluster, ids: string[], method: 'POST' | 'DELETE', id: string, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = 'none';
  while (Date.now() < deadline) {
    // A removed node stops by itself once it applies its removal, which can come late (its leader
    // was killed before telling it): by then the re-addition may already be waiting for it.
    if (method === 'POST' && !isRunning(cluster, id)) {
      log(`nemesis: ${id} is not running (it stopped after its removal); starting it to add it back`);
      cluster.start(id);
    }
    const live = ids.filter((other) => other !== id && isRunning(cluster, other));
    const client = new RaftwireClient({ endpoints: (live.length > 0 ? live : ids).map((other) => cluster.peers[other]!.client), timeoutMs: 8_000, maxRetries: 2 });
    try {
      if (method === 'POST') await client.addMember(id, { raft: cluster.peers[id]!.raft, client: cluster.peers[id]!.client }, { timeoutMs: 5_000 });
      else await client.removeMember(id, { timeoutMs: 5_000 });
      return;
    } catch (error) {
      last = error instanceof RaftwireClientError ? `${error.code}: ${error.message}` : String(error);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  log(`nemesis: could not ${method === 'POST' ? 'add back' : 'remove'} ${id} within 30 s (last answer: ${last})`);
}
