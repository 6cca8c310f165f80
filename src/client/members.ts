/**
 * Member discovery for the clients: a client given one endpoint learns the others from it, so it
 * can fail over when that node goes away (etcd's clients sync their endpoints from the member list
 * the same way).
 * @module
 */

/** The shape of `GET /v1/cluster/members` this needs. */
interface MembersView {
  members?: { endpoints?: { client?: unknown } | null }[];
}

/** Bound on a members answer: a cluster of hundreds of members stays far below it. */
const membersBytesMax = 1 << 20;

/**
 * The client URLs of the cluster's members as `endpoint` sees them, without a trailing slash;
 * `[]` if it cannot say (down, old version, no client URLs announced). Never throws: discovery only
 * adds places to fail over to.
 */
async function discoverMemberUrls(endpoint: string, authToken: string | undefined, timeoutMs: number): Promise<string[]> {
  try {
    const response = await fetch(`${endpoint}/v1/cluster/members`, {
      headers: authToken ? { authorization: `Bearer ${authToken}` } : {},
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // A node answers with a Content-Length; one that announces more than the bound is not read.
    if (!response.ok || Number(response.headers.get('content-length') ?? 0) > membersBytesMax) {
      await response.body?.cancel();
      return [];
    }
    const text = await response.text();
    if (text.length > membersBytesMax) return [];
    const view = JSON.parse(text) as MembersView;
    const urls: string[] = [];
    for (const member of view.members ?? []) {
      const url = member.endpoints?.client;
      if (typeof url === 'string' && /^https?:\/\//.test(url)) urls.push(url.replace(/\/$/, ''));
    }
    return urls;
  } catch {
    return [];
  }
}

/** Appends to `endpoints` each of `urls` it does not hold yet; the given ones keep their order. */
function addEndpoints(endpoints: string[], urls: readonly string[]): void {
  for (const url of urls) if (!endpoints.includes(url)) endpoints.push(url);
}

/**
 * One client's discovery: asks a node for the members in the background, one request at a time,
 * and appends what it learns to the client's own endpoint list.
 */
export class MemberDiscovery {
  private inFlight = false;

  constructor(
    private readonly endpoints: string[],
    private readonly options: { discoverMembers?: boolean; authToken?: string; timeoutMs?: number },
  ) {}

  /** Asks `endpoint` unless discovery is off or a request is already out; true if it asked. */
  start(endpoint: string): boolean {
    if (this.options.discoverMembers === false || this.inFlight) return false;
    this.inFlight = true;
    void discoverMemberUrls(endpoint, this.options.authToken, this.options.timeoutMs ?? 5000).then((urls) => {
      addEndpoints(this.endpoints, urls);
      this.inFlight = false;
    });
    return true;
  }
}
