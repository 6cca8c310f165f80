/**
 * One HTTP request being served by `HttpServer`: what was copied from uWS's request (valid only
 * during its route callback), and how its reply goes out.
 *
 * A request answered before its route callback returns (a refusal, a bad request, a stale read)
 * costs this one object. One answered later is *tracked*: it registers `onAborted` (a client that
 * leaves loses only its own request), counts as in flight, and joins the timeout sweep. Until
 * 2026-12-08 every request paid for that, and for a promise, closures and an in-flight record,
 * though reads of a pipelining-free HTTP client are answered in a later turn only when they wait
 * for a read round (docs/server.md, "Speed").
 *
 * @module
 */
import type uWS from 'uWebSockets.js';

export interface Reply {
  status: number;
  body: string | Uint8Array;
  contentType?: string;
  headers?: Record<string, string>;
  /** End the connection after this reply (`Connection: close`). */
  closeConnection?: boolean;
}

/** What an exchange needs of its server. */
export interface ExchangeHost {
  readonly corsOrigin: string | undefined;
  readonly authRequired: boolean;
  /** The exchange will be answered later: count it in flight and sweep it at its deadline. */
  track(exchange: HttpExchange): void;
  /** A tracked exchange was answered (or aborted). */
  untrack(exchange: HttpExchange): void;
  countRequest(route: string, status: number, seconds: number): void;
  /** The reply for a failed request (an `HttpError`, `NotLeaderError`, any other error). */
  errorToReply(error: unknown, exchange: HttpExchange): Reply;
}

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK', 204: '204 No Content', 307: '307 Temporary Redirect', 400: '400 Bad Request', 401: '401 Unauthorized',
  404: '404 Not Found', 405: '405 Method Not Allowed', 409: '409 Conflict', 413: '413 Payload Too Large', 429: '429 Too Many Requests',
  500: '500 Internal Server Error', 503: '503 Service Unavailable', 504: '504 Gateway Timeout',
  507: '507 Insufficient Storage',
};

const CORS_ALLOW_HEADERS = 'authorization, content-type, x-raftwire-client-id, x-raftwire-sequence, x-raftwire-acked-through';
const CORS_ALLOW_METHODS = 'GET, PUT, POST, DELETE, OPTIONS';

const OPEN = 0;
const TRACKED = 1;
const DONE = 2;

/** Routes whose requests carry a client session (exactly-once writes). */
const SESSION_ROUTES = new Set(['kv.put', 'kv.delete', 'kv.cas', 'kv.increment']);
/** Routes with a `:key` or `:id` parameter. */
const PARAM_ROUTES = new Set(['kv.get', 'kv.put', 'kv.delete', 'kv.cas', 'kv.increment', 'members.remove']);

export class HttpExchange {
  readonly started = performance.now();
  readonly method: string;
  readonly url: string;
  /** The raw query string ('' when none); see {@link query}. */
  readonly rawQuery: string;
  private parsedQuery: URLSearchParams | undefined;
  /** The route's `:key` or `:id` as sent (percent-encoded); '' on routes without one. */
  readonly param: string;
  /** Read only when a bearer token is required. */
  readonly authorization: string;
  /** The session headers, read only on write routes ('' when absent). */
  readonly clientId: string;
  readonly sequence: string;
  readonly ackedThrough: string;
  /** For the server's timeout sweep, once tracked. */
  deadlineMs = 0;
  private state = OPEN;
  private aborted = false;

  constructor(
    private readonly host: ExchangeHost,
    private readonly res: uWS.HttpResponse,
    req: uWS.HttpRequest,
    readonly route: string,
  ) {
    this.method = req.getMethod();
    this.url = req.getUrl();
    this.rawQuery = req.getQuery() ?? '';
    this.param = PARAM_ROUTES.has(route) ? (req.getParameter(0) ?? '') : '';
    this.authorization = host.authRequired ? req.getHeader('authorization') : '';
    const session = SESSION_ROUTES.has(route);
    this.clientId = session ? req.getHeader('x-raftwire-client-id') : '';
    this.sequence = session ? req.getHeader('x-raftwire-sequence') : '';
    this.ackedThrough = session ? req.getHeader('x-raftwire-acked-through') : '';
  }

  /** Answered already (or the client left). */
  get done(): boolean {
    return this.state === DONE;
  }

  /**
   * The query parameter `name`, or null. The common query (one plain `name=value`, as
   * `?consistency=lease`) is read without building a `URLSearchParams`; anything else is parsed
   * once by one, with its exact rules.
   */
  query(name: string): string | null {
    const raw = this.rawQuery;
    if (raw === '') return null;
    if (this.parsedQuery === undefined && raw.indexOf('&') === -1 && raw.indexOf('%') === -1 && raw.indexOf('+') === -1) {
      const equals = raw.indexOf('=');
      const key = equals === -1 ? raw : raw.slice(0, equals);
      if (key !== name) return null;
      return equals === -1 ? '' : raw.slice(equals + 1);
    }
    this.parsedQuery ??= new URLSearchParams(raw);
    return this.parsedQuery.get(name);
  }

  /** Will be answered after the route callback returns: guard against the client leaving, count it in flight. */
  track(): void {
    if (this.state !== OPEN) return;
    this.state = TRACKED;
    this.res.onAborted(() => {
      this.aborted = true;
      this.finish({ status: 499, body: '' }); // the client left: only its own request is lost
    });
    this.host.track(this);
  }

  /** Answers with `reply`, or with the error's reply when `error` is not null. Later calls do nothing. */
  settle(error: unknown, reply?: Reply): void {
    this.finish(error === null && reply !== undefined ? reply : this.host.errorToReply(error, this));
  }

  /** Answers with `reply` (once; later calls do nothing). */
  finish(reply: Reply): void {
    const state = this.state;
    if (state === DONE) return;
    this.state = DONE;
    if (state === TRACKED) this.host.untrack(this);
    if (!this.aborted) {
      // Outside uWS's callback a reply must be corked to leave in one write.
      if (state === TRACKED) this.res.cork(() => this.write(reply));
      else this.write(reply);
    }
    this.host.countRequest(this.route, reply.status, (performance.now() - this.started) / 1000);
  }

  private write(reply: Reply): void {
    const res = this.res;
    res.writeStatus(STATUS_TEXT[reply.status] ?? `${reply.status} Status`);
    if (reply.contentType) res.writeHeader('content-type', reply.contentType);
    const corsOrigin = this.host.corsOrigin;
    if (corsOrigin) {
      res.writeHeader('access-control-allow-origin', corsOrigin);
      res.writeHeader('access-control-allow-headers', CORS_ALLOW_HEADERS);
      res.writeHeader('access-control-allow-methods', CORS_ALLOW_METHODS);
    }
    if (reply.headers !== undefined) for (const name in reply.headers) res.writeHeader(name, reply.headers[name]!);
    res.end(reply.body, reply.closeConnection === true);
  }
}
