/**
 * Adding and removing members the safe way, on the leader (docs/membership.md): a new node first
 * joins as a learner, catches up, and only then becomes a voter, so it never stalls commits while
 * it copies the log; one change at a time, each waiting for the previous one to commit.
 *
 * Both operations are idempotent, so a client whose request was cut off (or whose leader died
 * half-way) can simply ask again: adding a voter that is already a voter, or removing a node that
 * is already gone, succeeds at once; a learner left behind by an interrupted add is caught up and
 * promoted.
 *
 * @module
 */
import { NotLeaderError, ProposalDroppedError } from '../core/errors.js';
import type { RaftStatus } from '../core/raw-node.js';
import type { ClusterConfig, ConfChange, NodeId } from '../core/types.js';
import { MembershipTimeoutError } from './errors.js';
import { encodeMemberContext, type MemberEndpoints } from './members.js';

/** What the membership steps need from the running node. */
export interface MembershipHost {
  status(): RaftStatus;
  /** Proposes the change and resolves once it is applied here; throws at once if the core refuses it. */
  proposeConfChange(change: ConfChange): Promise<unknown>;
  now(): number;
  /** Calls `fn` after `ms` (on the node's clock); returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export interface MembershipOptions {
  /** Give up (with `MembershipTimeoutError`) after this long. Default 60 s. */
  timeoutMs?: number;
  /** How often to look again while waiting for a pending change or a catch-up. Default 10 ms. */
  pollMs?: number;
}

const TIMEOUT_MS_DEFAULT = 60_000;
const POLL_MS_DEFAULT = 10;

/** Adds `nodeId` as a learner, waits for it to catch up, promotes it. Resolves with the new config. */
export async function addMember(host: MembershipHost, nodeId: NodeId, endpoints: MemberEndpoints | undefined, options: MembershipOptions = {}): Promise<ClusterConfig> {
  const deadline = host.now() + (options.timeoutMs ?? TIMEOUT_MS_DEFAULT);
  const pollMs = options.pollMs ?? POLL_MS_DEFAULT;
  const context = endpoints === undefined ? undefined : encodeMemberContext(endpoints);
  let config = host.status().config;
  if (config.voters.includes(nodeId)) return config;
  if (!config.learners.includes(nodeId)) {
    await proposeWhenPossible(host, { type: 'addLearner', nodeId, ...(context ? { context } : {}) }, deadline, pollMs, `add ${nodeId} as a learner`);
  }
  // Caught up = it holds everything committed when it joined: from then on it keeps pace with the
  // stream of new entries, so promoting it does not stall commits (thesis §4.2.1, one round).
  const target = host.status().commitIndex;
  await waitUntil(host, () => (host.status().progress?.get(nodeId)?.matchIndex ?? 0) >= target, deadline, pollMs, () => {
    const match = host.status().progress?.get(nodeId)?.matchIndex ?? 0;
    return `${nodeId} to catch up to index ${target} (it has ${match}; is it running and reachable?)`;
  });
  config = host.status().config;
  if (!config.voters.includes(nodeId)) await proposeWhenPossible(host, { type: 'promoteLearner', nodeId }, deadline, pollMs, `promote ${nodeId}`);
  return host.status().config;
}

/** Removes `nodeId` (voter or learner). Resolves with the new config. */
export async function removeMember(host: MembershipHost, nodeId: NodeId, options: MembershipOptions = {}): Promise<ClusterConfig> {
  const deadline = host.now() + (options.timeoutMs ?? TIMEOUT_MS_DEFAULT);
  const config = host.status().config;
  if (!config.voters.includes(nodeId) && !config.learners.includes(nodeId)) return config;
  await proposeWhenPossible(host, { type: 'removeNode', nodeId }, deadline, options.pollMs ?? POLL_MS_DEFAULT, `remove ${nodeId}`);
  return host.status().config;
}

/**
 * The core drops a change while the previous one is uncommitted or before this leader committed an
 * entry of its term (docs/membership.md): both pass in a round trip or two, so wait and retry.
 * `NotLeaderError` and refusals (`ConfChangeRejectedError`) are not retried: they need the caller.
 */
async function proposeWhenPossible(host: MembershipHost, change: ConfChange, deadline: number, pollMs: number, what: string): Promise<void> {
  for (;;) {
    let applied: Promise<unknown>;
    try {
      applied = host.proposeConfChange(change);
    } catch (error) {
      if (!(error instanceof ProposalDroppedError) || host.now() >= deadline) throw error;
      await sleep(host, pollMs);
      continue;
    }
    await withDeadline(host, applied, deadline, what);
    return;
  }
}

function withDeadline<T>(host: MembershipHost, promise: Promise<T>, deadline: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = host.after(Math.max(0, deadline - host.now()), () => {
      // The change may still commit later; asking again is safe (idempotent).
      promise.catch(() => undefined);
      reject(new MembershipTimeoutError(`timed out waiting to ${what}`));
    });
    promise.then(
      (value) => {
        cancel();
        resolve(value);
      },
      (error: unknown) => {
        cancel();
        reject(error);
      },
    );
  });
}

async function waitUntil(host: MembershipHost, done: () => boolean, deadline: number, pollMs: number, what: () => string): Promise<void> {
  while (!done()) {
    const status = host.status();
    if (status.role !== 'leader') throw new NotLeaderError(status.leaderId);
    if (host.now() >= deadline) throw new MembershipTimeoutError(`timed out waiting for ${what()}`);
    await sleep(host, pollMs);
  }
}

const sleep = (host: MembershipHost, ms: number): Promise<void> => new Promise((resolve) => host.after(ms, resolve));
