/**
 * `RaftwireClient`: talks to a raftwire cluster's HTTP API. It finds the leader by following
 * redirects (and remembers it), retries transient failures, sends a client id and a sequence
 * number with each write so a retried write is applied once, and gives every request a timeout.
 *
 * Failover is quick on purpose: a node that refuses or drops the connection is dead or restarting,
 * so the client tries the next known node at once, without backing off, until every node has been
 * tried; only then, or on a 503 (no leader elected yet), does it wait, and the first waits are
 * short (`retryDelayMs`, doubling up to `retryDelayMaxMs`) because an election takes one election
 * timeout (150-300 ms by default), not seconds.
 *
 * It learns the other members from the first node that answers (`GET /v1/cluster/members`), so
 * one endpoint is enough to fail over from (`discoverMembers`, `knownEndpoints`).
 *
 * @example
 * ```ts
 * const client = new RaftwireClient({ endpoints: ['http://127.0.0.1:8001', 'http://127.0.0.1:8002'] });
 * await client.put('greeting', 'hello', { ttlMs: 60_000 });
 * const value = await client.getText('greeting');            // 'hello' (linearizable)
 * await client.cas('greeting', 'hello', 'bye');                // true
 * ```
 */
import { RaftwireError } from '../core/errors.js';
import { MemberDiscovery } from './members.js';

/** Redirects followed for one attempt before giving up (a leader change mid-request can bounce once or twice). */
const REDIRECTS_MAX = 4;

export type ReadConsistency = 'linearizable' | 'lease' | 'stale';

export interface RaftwireClientOptions {
  /** Client URLs of the cluster's nodes; any one will do, the client follows the leader. */
  endpoints: string[];
  /** Per-request timeout, ms. Default 5000. */
  timeoutMs?: number;
  /**
   * Waits before giving up on a transient failure (503, every node unreachable, timeouts). Moving
   * on from an unreachable node to the next one does not count. Default 8.
   */
  maxRetries?: number;
  /** Bearer token, if the servers require one. */
  authToken?: string;
  /** This client's id for exactly-once writes. Default: random. */
  clientId?: string;
  /** First wait before retrying once every node was tried (or none has a leader), ms; doubles per wait. Default 25. */
  retryDelayMs?: number;
  /**
   * Longest such wait, ms. Default 1000. The first waits are short because an election ends
   * after about one election timeout (150-300 ms by default): 25, 50, 100, 200 ms finds the new
   * leader soon after; the later, longer ones ride out a cluster without quorum.
   */
  retryDelayMaxMs?: number;
  /**
   * Learn the other members' client URLs (`GET /v1/cluster/members`) from the first node that
   * answers, and again after each failover, and fail over to them too: one endpoint is enough to
   * start with. Default true.
   */
  discoverMembers?: boolean;
}

/** A request the cluster refused; `code` is the server's stable code (e.g. `CACHE_ERR_CAS_MISMATCH`). */
/** How long a membership change may wait on the leader by default (the server's default too). */
const MEMBERSHIP_TIMEOUT_MS_DEFAULT = 60_000;

export class RaftwireClientError extends RaftwireError {
  constructor(
    code: string,
    message: string,
    readonly status: number,
    readonly transient: boolean,
  ) {
    super(code, message);
  }
}

/** The node could not be reached (refused, reset, timed out): another node is worth a try at once. */
class UnreachableError extends RaftwireClientError {
  constructor(message: string) {
    super('CLIENT_ERR_UNREACHABLE', message, 0, true);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class RaftwireClient {
  private readonly endpoints: string[];
  private preferred = 0;
  /** The leader's client URL as the last redirect named it, when it is not among `endpoints`. */
  private leaderUrl: string | undefined;
  private sequence = 0;
  /** True until members were discovered, and again after each move to another node. */
  private membersStale = true;
  private readonly discovery: MemberDiscovery;
  /**
   * Sequences of writes not answered yet; the lowest bounds what the cluster must remember. They
   * are added in increasing order, so the first in iteration order is the lowest.
   */
  private readonly unanswered = new Set<number>();
  readonly clientId: string;

  constructor(private readonly options: RaftwireClientOptions) {
    if (options.endpoints.length === 0) throw new RaftwireClientError('CLIENT_ERR_NO_ENDPOINTS', 'at least one endpoint is needed', 0, false);
    this.endpoints = [...new Set(options.endpoints.map((e) => e.replace(/\/$/, '')))];
    this.discovery = new MemberDiscovery(this.endpoints, options);
    this.clientId = options.clientId ?? `client-${Math.random().toString(36).slice(2, 12)}`;
  }

  async get(key: string, consistency: ReadConsistency = 'linearizable'): Promise<Uint8Array | undefined> {
    const response = await this.request('GET', `/v1/kv/${encodeURIComponent(key)}?consistency=${consistency}`, undefined, true);
    return response === undefined ? undefined : new Uint8Array(await response.arrayBuffer());
  }

  async getText(key: string, consistency: ReadConsistency = 'linearizable'): Promise<string | undefined> {
    const value = await this.get(key, consistency);
    return value === undefined ? undefined : new TextDecoder().decode(value);
  }

  async put(key: string, value: string | Uint8Array, options: { ttlMs?: number } = {}): Promise<void> {
    const query = options.ttlMs ? `?ttl=${options.ttlMs}` : '';
    await this.request('PUT', `/v1/kv/${encodeURIComponent(key)}${query}`, typeof value === 'string' ? new TextEncoder().encode(value) : value);
  }

  /** Deletes `key`; true if it existed. */
  async delete(key: string): Promise<boolean> {
    const response = await this.request('DELETE', `/v1/kv/${encodeURIComponent(key)}`);
    return ((await response!.json()) as { deleted: boolean }).deleted;
  }

  /** Sets `key` to `value` if it currently holds `expected` (null: if absent). True if it did. */
  async cas(key: string, expected: string | null, value: string, options: { ttlMs?: number } = {}): Promise<boolean> {
    try {
      await this.request('POST', `/v1/kv/${encodeURIComponent(key)}/cas`, JSON.stringify({ expected, value, ttlMs: options.ttlMs }));
      return true;
    } catch (error) {
      if (error instanceof RaftwireClientError && error.code === 'CACHE_ERR_CAS_MISMATCH') return false;
      throw error;
    }
  }

  async increment(key: string, delta = 1): Promise<number> {
    const response = await this.request('POST', `/v1/kv/${encodeURIComponent(key)}/increment`, JSON.stringify({ delta }));
    return ((await response!.json()) as { value: number }).value;
  }

  /** The cluster view of whichever node answers. */
  async status(): Promise<unknown> {
    const response = await this.request('GET', '/v1/cluster');
    return response!.json();
  }

  /** The members with their roles and endpoints, and the leader, as one node sees them. */
  async members(): Promise<{ leaderId: string | null; members: { id: string; role: 'voter' | 'learner'; endpoints: { raft: string; client?: string } | null }[] }> {
    const response = await this.request('GET', '/v1/cluster/members');
    return (await response!.json()) as never;
  }

  /**
   * Adds a node started with `--join` (learner, catch-up, voter; docs/membership.md). Idempotent,
   * so it is retried like a write. `timeoutMs` bounds the wait on the leader (default 60 s).
   *
   * @example
   * ```ts
   * await client.addMember('n4', { raft: '10.0.0.4:7001', client: 'http://10.0.0.4:8001' });
   * ```
   */
  async addMember(id: string, endpoints: { raft: string; client?: string }, options: { timeoutMs?: number } = {}): Promise<{ voters: string[]; learners: string[] }> {
    const timeoutMs = options.timeoutMs ?? MEMBERSHIP_TIMEOUT_MS_DEFAULT;
    const response = await this.request('POST', `/v1/cluster/members?timeoutMs=${timeoutMs}`, JSON.stringify({ id, ...endpoints }), false, timeoutMs + 5_000);
    return ((await response!.json()) as { config: { voters: string[]; learners: string[] } }).config;
  }

  /** Removes a member (it stops by itself once it has heard). Idempotent. */
  async removeMember(id: string, options: { timeoutMs?: number } = {}): Promise<{ voters: string[]; learners: string[] }> {
    const timeoutMs = options.timeoutMs ?? MEMBERSHIP_TIMEOUT_MS_DEFAULT;
    const response = await this.request('DELETE', `/v1/cluster/members/${encodeURIComponent(id)}?timeoutMs=${timeoutMs}`, undefined, false, timeoutMs + 5_000);
    return ((await response!.json()) as { config: { voters: string[]; learners: string[] } }).config;
  }

  /**
   * One request with retries. Writes carry `X-Raftwire-Client-Id` and one sequence number for all
   * their attempts, so the cluster applies a retried write once. Returns undefined for a 404 when
   * `notFoundIsUndefined`.
   */
  private async request(method: string, path: string, body?: Uint8Array | string, notFoundIsUndefined = false, timeoutMs = this.options.timeoutMs ?? 5000): Promise<Response | undefined> {
    const isWrite = method !== 'GET';
    const sequence = isWrite ? ++this.sequence : 0;
    if (isWrite) this.unanswered.add(sequence);
    try {
      return await this.withRetries(() => this.attempt(method, path, body, sequence, notFoundIsUndefined, timeoutMs));
    } finally {
      this.unanswered.delete(sequence);
    }
  }

  /**
   * Retries transient failures. An unreachable node moves on to the next one at once while some
   * node has not been tried since the last wait; otherwise it waits first. `maxRetries` counts the
   * waits, not those free moves, so a client keeps its patience (about 3.6 s over the default 8
   * waits) however many nodes it knows.
   */
  private async withRetries<T>(attempt: () => Promise<T>): Promise<T> {
    const waitsMax = this.options.maxRetries ?? 8;
    let delayMs = this.options.retryDelayMs ?? 25;
    const delayMaxMs = this.options.retryDelayMaxMs ?? 1000;
    let unreachableInARow = 0;
    for (let waits = 0; ; ) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof RaftwireClientError) || !error.transient) throw error;
        // A node that is shutting down is as good as gone: move on as from a refused connection.
        const gone = error instanceof UnreachableError || error.code === 'HTTP_ERR_SHUTTING_DOWN';
        unreachableInARow = gone ? unreachableInARow + 1 : 0;
        // One pass over the known nodes without waiting; a remembered leader counts as one more.
        if (unreachableInARow > 0 && unreachableInARow <= this.endpoints.length) continue;
        if (waits++ >= waitsMax) throw error;
        unreachableInARow = 0;
        await sleep(delayMs);
        delayMs = Math.min(delayMaxMs, delayMs * 2);
      }
    }
  }

  private async attempt(method: string, path: string, body: Uint8Array | string | undefined, sequence: number, notFoundIsUndefined: boolean, timeoutMs: number): Promise<Response | undefined> {
    const endpoint = this.leaderUrl ?? this.endpoints[this.preferred % this.endpoints.length]!;
    const headers: Record<string, string> = {};
    if (this.options.authToken) headers.authorization = `Bearer ${this.options.authToken}`;
    if (sequence > 0) {
      headers['x-raftwire-client-id'] = this.clientId;
      headers['x-raftwire-sequence'] = String(sequence);
      headers['x-raftwire-acked-through'] = String((this.unanswered.values().next().value as number) - 1);
    }
    if (typeof body === 'string') headers['content-type'] = 'application/json';
    let response: Response;
    let url = `${endpoint}${path}`;
    // Redirects to the leader are followed here, not by fetch: fetch drops the Authorization
    // header on a redirect to another origin, and another port is another origin.
    for (let hop = 0; ; hop++) {
      try {
        response = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      } catch (error) {
        this.moveOn(); // try the next node
        throw new UnreachableError(`${url}: ${error instanceof Error ? error.message : String(error)}`);
      }
      this.discover(endpoint);
      const location = response.status === 307 || response.status === 308 ? response.headers.get('location') : null;
      if (location === null) break;
      if (hop >= REDIRECTS_MAX) throw new RaftwireClientError('CLIENT_ERR_REDIRECT_LOOP', `more than ${REDIRECTS_MAX} redirects from ${endpoint}`, response.status, true);
      url = location;
      this.rememberLeader(location);
    }
    if (response.ok) return response;
    if (response.status === 404 && notFoundIsUndefined) {
      const payload = (await response.json().catch(() => ({}))) as { code?: string };
      if (payload.code === 'KV_ERR_NOT_FOUND') return undefined;
    }
    const payload = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
    // A membership change that timed out on the leader already waited as long as it was allowed.
    const transient = (response.status === 503 || response.status === 504) && payload.code !== 'RAFT_ERR_MEMBERSHIP_TIMEOUT';
    if (transient) this.moveOn();
    throw new RaftwireClientError(payload.code ?? `HTTP_${response.status}`, payload.message ?? response.statusText, response.status, transient);
  }

  /** Remembers the leader a redirect named, for the next request: one of ours, or a URL of its own. */
  private rememberLeader(location: string): void {
    const leader = this.endpoints.findIndex((e) => location.startsWith(`${e}/`));
    if (leader >= 0) {
      this.preferred = leader;
      this.leaderUrl = undefined;
      return;
    }
    // The server answers `<leader's client URL><request path>`: keep the part before the path.
    const at = location.indexOf('/v1/');
    if (at > 0) this.leaderUrl = location.slice(0, at);
  }

  /** The endpoints this client fails over to: those it was given, then the members discovered. */
  get knownEndpoints(): readonly string[] {
    return [...this.endpoints];
  }

  /** Adds the members `endpoint` knows to the endpoints, in the background (see `discoverMembers`). */
  private discover(endpoint: string): void {
    if (this.membersStale && this.discovery.start(endpoint)) this.membersStale = false;
  }

  /** Gives up on the node just tried: a remembered leader first, then the next known node. */
  private moveOn(): void {
    this.membersStale = true;
    if (this.leaderUrl !== undefined) this.leaderUrl = undefined;
    else this.preferred++;
  }
}
