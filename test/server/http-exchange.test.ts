import { describe, expect, it } from 'vitest';
import type uWS from 'uWebSockets.js';
import { type ExchangeHost, HttpExchange, type Reply } from '../../src/server/http-exchange.js';

/** A uWS request with the given query and headers, recording which headers were read. */
function fakeRequest(query: string, headers: Record<string, string> = {}) {
  const read: string[] = [];
  const req = {
    getMethod: () => 'get',
    getUrl: () => '/v1/kv/k',
    getQuery: () => query,
    getParameter: () => 'k',
    getHeader: (name: string) => {
      read.push(name);
      return headers[name] ?? '';
    },
  } as unknown as uWS.HttpRequest;
  return { req, read };
}

/** A uWS response recording what was written and whether it was corked. */
function fakeResponse() {
  const log: string[] = [];
  let aborted: (() => void) | undefined;
  const res = {
    cork(fn: () => void) {
      log.push('cork');
      fn();
    },
    writeStatus(status: string) {
      log.push(status);
      return res;
    },
    writeHeader(name: string, value: string) {
      log.push(`${name}: ${value}`);
      return res;
    },
    end(body: string) {
      log.push(`end ${body}`);
      return res;
    },
    onAborted(fn: () => void) {
      aborted = fn;
      return res;
    },
  };
  return { res: res as unknown as uWS.HttpResponse, log, abort: () => aborted?.() };
}

function fakeHost(overrides: Partial<ExchangeHost> = {}) {
  const counted: number[] = [];
  const tracked: HttpExchange[] = [];
  const host: ExchangeHost = {
    corsOrigin: undefined,
    authRequired: false,
    track: (x) => tracked.push(x),
    untrack: (x) => tracked.splice(tracked.indexOf(x), 1),
    countRequest: (_route, status) => counted.push(status),
    errorToReply: (): Reply => ({ status: 500, body: 'failed' }),
    ...overrides,
  };
  return { host, counted, tracked };
}

describe('HttpExchange', () => {
  it('reads a query parameter as URLSearchParams does, for plain and for encoded queries', () => {
    const queries = ['', 'consistency=lease', 'consistency', 'consistency=', 'ttl=5', 'a=b=c', 'consistency=stale&ttl=3', 'consistency=le%61se', 'x=a+b', 'consistency=a&consistency=b', '=v'];
    for (const query of queries) {
      for (const name of ['consistency', 'ttl', 'x', 'a', '']) {
        const { host } = fakeHost();
        const x = new HttpExchange(host, fakeResponse().res, fakeRequest(query).req, 'kv.get');
        expect(x.query(name), `?${query} ${name}`).toBe(new URLSearchParams(query).get(name));
      }
    }
  });

  it('reads the session headers only on write routes, and authorization only when a token is required', () => {
    const { host } = fakeHost();
    const headers = { 'x-raftwire-client-id': 'c1', 'x-raftwire-sequence': '4', authorization: 'Bearer t' };
    const onGet = fakeRequest('', headers);
    const get = new HttpExchange(host, fakeResponse().res, onGet.req, 'kv.get');
    expect(onGet.read).toEqual([]);
    expect(get.clientId).toBe('');
    const onPut = fakeRequest('', headers);
    const put = new HttpExchange(fakeHost({ authRequired: true }).host, fakeResponse().res, onPut.req, 'kv.put');
    expect([put.clientId, put.sequence, put.authorization]).toEqual(['c1', '4', 'Bearer t']);
  });

  it('answers at once without corking or tracking; a tracked one is corked, untracked, and answered once', () => {
    const { host, counted, tracked } = fakeHost();
    const now = fakeResponse();
    new HttpExchange(host, now.res, fakeRequest('').req, 'kv.get').finish({ status: 200, body: 'v' });
    expect(now.log).toEqual(['200 OK', 'end v']);
    expect(tracked).toEqual([]);

    const later = fakeResponse();
    const x = new HttpExchange(host, later.res, fakeRequest('').req, 'kv.get');
    x.track();
    expect(tracked).toEqual([x]);
    x.settle(new Error('boom'));
    x.finish({ status: 200, body: 'too late' });
    expect(later.log).toEqual(['cork', '500 Internal Server Error', 'end failed']);
    expect(tracked).toEqual([]);
    expect(counted).toEqual([200, 500]);
  });

  it('a client that leaves loses its own request: nothing is written to it', () => {
    const { host, counted, tracked } = fakeHost();
    const r = fakeResponse();
    const x = new HttpExchange(host, r.res, fakeRequest('').req, 'kv.get');
    x.track();
    r.abort();
    x.finish({ status: 200, body: 'v' });
    expect(r.log).toEqual([]);
    expect(tracked).toEqual([]);
    expect(counted).toEqual([499]);
    expect(x.done).toBe(true);
  });
});
