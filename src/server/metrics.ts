/**
 * Prometheus metrics for one node, on `prom-client` (the de-facto Node client: exposition format,
 * histograms and registries done right, so we don't hand-roll them). Values that already live in
 * the node (term, commit index, …) are read at scrape time rather than mirrored on every change.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RaftNode } from '../node/index.js';

/** One label combination's count, bumped on the hot path. */
export interface CountCell {
  count: number;
}

/**
 * The counts of a labeled counter, kept as plain numbers and handed to prom-client when it is
 * scraped (its `collect`). prom-client's `inc` hashes the labels into a string on every call:
 * about 230 B of garbage and the hashing per HTTP request on the leader.
 *
 * @example
 * ```ts
 * const cell = cells.cell({ route: 'kv.put', status: '200' }); // once per label set
 * cell.count++;                                                 // per request
 * ```
 */
export class CounterCells<Label extends string> {
  private readonly cells: { labels: Partial<Record<Label, string>>; cell: CountCell }[] = [];

  /** A new cell for `labels` (the caller keeps it: one per label combination). */
  cell(labels: Partial<Record<Label, string>>): CountCell {
    const cell = { count: 0 };
    this.cells.push({ labels, cell });
    return cell;
  }

  /** Sets `counter` to these counts (at scrape time). */
  publish(counter: Counter<Label>): void {
    counter.reset();
    for (const { labels, cell } of this.cells) if (cell.count > 0) counter.inc(labels, cell.count);
  }
}

export class ServerMetrics {
  readonly registry = new Registry();
  /** Where `raftwire_http_requests_total` is counted (published at scrape time). */
  readonly requestCounts = new CounterCells<'route' | 'status'>();
  /** Where `raftwire_proposals_total` is counted (published at scrape time). */
  readonly proposalCounts = new CounterCells<'result'>();
  readonly requestSeconds: Histogram<'route'>;
  readonly inflightRequests: Gauge;
  readonly rateLimited: Counter;
  /** Where `raftwire_http_inflight_requests` is read from at scrape time (the HTTP server sets it). */
  inflightSource: (() => number) | undefined;
  /** Where `raftwire_ws_connections` is read from at scrape time (the HTTP server sets it). */
  webSocketConnectionsSource: (() => number) | undefined;

  constructor(node: RaftNode<unknown>, labels: { nodeId: string }) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ node: labels.nodeId });
    const state = () => node.getState();
    new Gauge({ name: 'raft_term', help: 'Current Raft term', registers, collect() { this.set(state().term); } });
    new Gauge({ name: 'raft_commit_index', help: 'Highest log index known committed', registers, collect() { this.set(state().commitIndex); } });
    new Gauge({ name: 'raft_applied_index', help: 'Highest log index applied to the state machine', registers, collect() { this.set(state().appliedIndex); } });
    new Gauge({ name: 'raft_last_log_index', help: 'Index of the last entry in the log', registers, collect() { this.set(state().lastIndex); } });
    new Gauge({ name: 'raft_is_leader', help: '1 when this node is the leader', registers, collect() { this.set(node.isLeader() ? 1 : 0); } });
    new Counter({
      name: 'raft_leader_changes_total',
      help: 'Times this node saw a new leader',
      registers,
      collect() {
        this.reset();
        this.inc(node.getStats().leaderChanges);
      },
    });
    new Gauge({ name: 'raftwire_pending_proposals', help: 'Proposals waiting to be applied (queue depth)', registers, collect() { this.set(node.getStats().pendingProposals); } });
    new Gauge({ name: 'raftwire_pending_reads', help: 'Reads waiting for ReadIndex or apply (queue depth)', registers, collect() { this.set(node.getStats().pendingReads); } });
    const requestCounts = this.requestCounts;
    const proposalCounts = this.proposalCounts;
    // Counted in the cells above, not with `inc`: a Counter's own counts are replaced at each scrape.
    new Counter({
      name: 'raftwire_http_requests_total',
      help: 'Client HTTP requests by route and status',
      labelNames: ['route', 'status'],
      registers,
      collect() {
        requestCounts.publish(this);
      },
    });
    this.requestSeconds = new Histogram({
      name: 'raftwire_http_request_seconds',
      help: 'Client HTTP request latency',
      labelNames: ['route'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    new Counter({
      name: 'raftwire_proposals_total',
      help: 'Writes proposed through Raft, by outcome',
      labelNames: ['result'],
      registers,
      collect() {
        proposalCounts.publish(this);
      },
    });
    // Read at scrape time (see inflightSource), not set on every request.
    const metrics = this;
    this.inflightRequests = new Gauge({
      name: 'raftwire_http_inflight_requests',
      help: 'HTTP requests waiting for their answer: a read round, a commit, a body (queue depth)',
      registers,
      collect() {
        if (metrics.inflightSource !== undefined) this.set(metrics.inflightSource());
      },
    });
    new Gauge({
      name: 'raftwire_ws_connections',
      help: 'Open WebSocket client connections',
      registers,
      collect() {
        if (metrics.webSocketConnectionsSource !== undefined) this.set(metrics.webSocketConnectionsSource());
      },
    });
    this.rateLimited = new Counter({ name: 'raftwire_http_rate_limited_total', help: 'Requests answered 429', registers });

    // From the node itself: fsync latency and batch sizes, RPC round trips, apply batches.
    const latencyBuckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];
    const sizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];
    const logSaveSeconds = new Histogram({ name: 'raft_log_save_seconds', help: 'Durable log writes (one Ready: entries and hard state, fsync included)', buckets: latencyBuckets, registers });
    const logSaveEntries = new Histogram({ name: 'raft_log_save_entries', help: 'Entries per durable log write (batch size)', buckets: sizeBuckets, registers });
    const applyEntries = new Histogram({ name: 'raft_apply_batch_entries', help: 'Committed entries applied per batch', buckets: sizeBuckets, registers });
    const rpcSeconds = new Histogram({ name: 'raft_rpc_seconds', help: 'Raft RPC round trips this node sent, by type and outcome', labelNames: ['type', 'outcome'], buckets: latencyBuckets, registers });
    // Label children looked up once, not per RPC.
    const rpcChildren = new Map<string, { observe(value: number): void }>();
    const rpcChild = (type: string, ok: boolean) => {
      const key = ok ? type : `${type}!`;
      let child = rpcChildren.get(key);
      if (child === undefined) rpcChildren.set(key, (child = rpcSeconds.labels(type, ok ? 'ok' : 'error')));
      return child;
    };
    node.observe({
      logSaved: (seconds, entries) => {
        logSaveSeconds.observe(seconds);
        logSaveEntries.observe(entries);
      },
      rpcCompleted: (type, seconds, ok) => rpcChild(type, ok).observe(seconds),
      applied: (entries) => applyEntries.observe(entries),
    });
  }
}
