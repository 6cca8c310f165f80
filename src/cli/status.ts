/**
 * `raftwire status`: every member's own view, side by side, as `etcdctl endpoint status --cluster`
 * shows it. One node's `/v1/cluster` says who the members are; each member is then asked for its
 * own state, so a node that is down, partitioned away, behind, or following another leader shows.
 */
import { parseArgs } from 'node:util';
import { RaftwireClient, RaftwireClientError } from '../client/index.js';
import type { ClusterView as ServerClusterView } from '../server/index.js';

export const STATUS_HELP = `raftwire status: every member's view of the cluster

Usage: raftwire status [--endpoints <urls>] [--auth-token <t>] [--timeout <ms>] [--json]

Asks the first reachable endpoint who the members are, then every member for its own state, and
prints a row per member: role, term, the leader it follows, commit and applied index, its log.
Exit code 0 when every member answered and all follow one leader in one term; 1 otherwise.

Options:
  --endpoints <urls>   comma-separated client URLs   [default: http://127.0.0.1:8001,…8002,…8003]
  --auth-token <t>     bearer token (or RAFTWIRE_AUTH_TOKEN)
  --timeout <ms>       how long each member has to answer                  [default: 1000]
  --json               print the first reachable node's /v1/cluster as it is
  -h, --help           show this text`;

const DEFAULT_ENDPOINTS = 'http://127.0.0.1:8001,http://127.0.0.1:8002,http://127.0.0.1:8003';

/**
 * What this command reads of `GET /v1/cluster` (the server's {@link ServerClusterView}).
 * `storageFull` may be missing: a node older than the field.
 */
export type ClusterView = Pick<ServerClusterView, 'id' | 'role' | 'term' | 'leaderId' | 'commitIndex' | 'appliedIndex' | 'firstIndex' | 'lastIndex' | 'progress' | 'members'> &
  Partial<Pick<ServerClusterView, 'storageFull'>>;

/** A member's row: its own view, or why there is none. */
export interface MemberStatus {
  id: string;
  membership: 'voter' | 'learner';
  client: string | undefined;
  view: ClusterView | undefined;
  error: string | undefined;
}

export async function statusCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      endpoints: { type: 'string' },
      'auth-token': { type: 'string' },
      timeout: { type: 'string', default: '1000' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(STATUS_HELP);
    return 0;
  }
  const timeoutMs = Number(values.timeout);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
    console.error('raftwire status: --timeout must be a whole number of ms ≥ 1');
    return 2;
  }
  const authToken = values['auth-token'] ?? process.env.RAFTWIRE_AUTH_TOKEN;
  const endpoints = (values.endpoints ?? DEFAULT_ENDPOINTS).split(',');
  const first = (await new RaftwireClient({ endpoints, authToken, timeoutMs, discoverMembers: false }).status()) as ClusterView;
  if (values.json) {
    console.log(JSON.stringify(first, null, 2));
    return 0;
  }
  const rows = await Promise.all(
    first.members.map(async (member): Promise<MemberStatus> => {
      const client = member.endpoints?.client;
      const row = { id: member.id, membership: member.role, client };
      if (client === undefined) return { ...row, view: member.id === first.id ? first : undefined, error: member.id === first.id ? undefined : 'no client address known' };
      try {
        const view = (await new RaftwireClient({ endpoints: [client], authToken, timeoutMs, maxRetries: 0, discoverMembers: false }).status()) as ClusterView;
        return { ...row, view, error: undefined };
      } catch (error) {
        return { ...row, view: undefined, error: error instanceof RaftwireClientError ? `unreachable (${error.code})` : `unreachable (${String(error)})` };
      }
    }),
  );
  const { text, healthy } = renderStatus(first, rows);
  console.log(text);
  return healthy ? 0 : 1;
}

/**
 * The table and the verdict. Healthy: every member answered, all in one term following the same
 * leader, which is a member and calls itself leader.
 */
export function renderStatus(first: ClusterView, rows: MemberStatus[]): { text: string; healthy: boolean } {
  // Of the members that answered: one that did not is reported as such, not as a disagreement.
  const answered = rows.filter((row) => row.view !== undefined);
  const leaders = new Set(answered.map((row) => row.view!.leaderId));
  const terms = new Set(answered.map((row) => row.view!.term));
  const leader = leaders.size === 1 ? [...leaders][0]! : null;
  const leaderRow = rows.find((row) => row.id === leader);
  const healthy = rows.every((row) => row.view !== undefined && row.view.storageFull !== true) && terms.size === 1 && leader !== null && leaderRow?.view?.role === 'leader';
  const progress = leaderRow?.view?.progress ?? null;
  const header = ['member', 'role', 'term', 'leader', 'commit', 'applied', 'log', 'match', 'client'];
  const table = rows.map((row) => {
    const v = row.view;
    const match = row.id === leader ? 'leader' : progress?.[row.id] === undefined ? '-' : `${progress[row.id]!.matchIndex} (${progress[row.id]!.state})`;
    if (v === undefined) return [row.id, row.membership, '-', '-', '-', '-', '-', match, `${row.client ?? '-'}  ${row.error ?? ''}`];
    const role = row.membership === 'learner' ? `learner/${v.role}` : v.role;
    const log = v.lastIndex >= v.firstIndex ? `${v.firstIndex}..${v.lastIndex}` : `empty after ${v.lastIndex}`;
    return [row.id, v.storageFull ? `${role} (disk full)` : role, String(v.term), v.leaderId ?? 'none', String(v.commitIndex), String(v.appliedIndex), log, match, row.client ?? '-'];
  });
  const widths = header.map((_, i) => Math.max(header[i]!.length, ...table.map((cells) => cells[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  const verdict = healthy
    ? `healthy: ${rows.length} members, leader ${leader} in term ${[...terms][0]}`
    : `NOT healthy: ${describeTrouble(rows, leaders, terms, leaderRow)}`;
  return { text: [`members as ${first.id} sees them`, line(header), ...table.map(line), verdict].join('\n'), healthy };
}

function describeTrouble(rows: MemberStatus[], leaders: Set<string | null>, terms: Set<number>, leaderRow: MemberStatus | undefined): string {
  const down = rows.filter((row) => row.view === undefined).map((row) => row.id);
  if (down.length > 0) return `no answer from ${down.join(', ')}`;
  const full = rows.filter((row) => row.view?.storageFull).map((row) => row.id);
  if (full.length > 0) return `disk full on ${full.join(', ')}`;
  if (leaders.size > 1 || terms.size > 1) return 'members disagree on the leader or the term (an election is under way, or a member is cut off)';
  if (leaders.has(null)) return 'no leader';
  return `${leaderRow?.id ?? [...leaders][0]} is followed but does not lead`;
}
