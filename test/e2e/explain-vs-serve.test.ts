/**
 * `scopegate explain` and a live request through `scopegate serve` give the
 * same status, headers and body for every case of the response conformance
 * table: explain shows what plan() decided and what answer() writes, and the
 * server does the same with the same modules. Real process, real JWKS server,
 * really signed tokens.
 */
import t from 'tap';
import type { IncomingHttpHeaders } from 'node:http';
import { explainRequest } from '../../src/explain/explain.js';
import type { ResponseView } from '../../src/explain/types.js';
import { configFromYaml, testConfigYaml } from '../helpers/config.js';
import { send } from '../helpers/http.js';
import { startStack } from '../helpers/stack.js';
import { RESPONSE_CASES, RESPONSE_EXTRA, RESPONSE_ISSUER, RESPONSE_ROUTES, type ResponseCase } from '../conformance/responses.cases.js';

/** Headers Node's HTTP layer adds to every response: the connection's, not scopegate's. */
const TRANSPORT_HEADERS: ReadonlySet<string> = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

function liveHeaders(headers: IncomingHttpHeaders): [string, string][] {
  return Object.entries(headers)
    .filter(([name]) => !TRANSPORT_HEADERS.has(name))
    .map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : String(value)] as [string, string])
    .sort(([a], [b]) => a.localeCompare(b));
}

function shownHeaders(view: ResponseView): [string, string][] {
  return view.headers.map(([name, value]) => [name.toLowerCase(), value] as [string, string]).sort(([a], [b]) => a.localeCompare(b));
}

t.test('explain and serve answer every response case identically', async (t) => {
  const stack = await startStack(t, { issuer: RESPONSE_ISSUER, keyKind: 'rsa', routes: RESPONSE_ROUTES, extra: RESPONSE_EXTRA });
  const { sidecar, upstream } = stack;
  // The same YAML the sidecar runs (startStack writes it from the same options).
  const config = configFromYaml(testConfigYaml({ issuer: RESPONSE_ISSUER, jwksUri: stack.jwks.jwksUri, upstream: upstream.url, routes: RESPONSE_ROUTES, extra: RESPONSE_EXTRA }));
  const world = { token: (scope: string, extra: Record<string, unknown> = {}) => stack.token(scope, extra) };
  t.ok(RESPONSE_CASES.length >= 15, `${RESPONSE_CASES.length} cases`);

  const both = async (c: ResponseCase, token: string | undefined) => {
    const live = await send(sidecar.url, c.target, { method: c.method, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
    const explained = await explainRequest(config, { method: c.method, target: c.target, ...(token === undefined ? {} : { token }) });
    const outcome = explained.outcome;
    const view = outcome.allow ? outcome.answered?.response : outcome.response;
    return { live, view };
  };

  const before = upstream.count;
  for (const c of RESPONSE_CASES) {
    const token = c.token?.(world);
    let { live, view } = await both(c, token);
    // Token info says `expires_in` in whole seconds: a second may tick between the two requests.
    for (let i = 0; i < 3 && view !== undefined && view.body !== live.body && c.method !== 'HEAD'; i++) ({ live, view } = await both(c, token));
    if (view === undefined) {
      t.fail(`${c.name}: explain says the request is forwarded, the table says scopegate answers it`);
      continue;
    }
    t.equal(live.status, c.status, `${c.name}: serve answers ${c.status}`);
    t.equal(view.status, live.status, `${c.name}: same status`);
    t.same(shownHeaders(view), liveHeaders(live.headers), `${c.name}: same headers`);
    if (c.method === 'HEAD') {
      t.equal(live.body, '', `${c.name}: no body on the wire for HEAD`);
      t.equal(view.bodySent, false, `${c.name}: explain says no body is sent for HEAD`);
    } else {
      t.equal(view.body, live.body, `${c.name}: same body`);
    }
  }
  t.equal(upstream.count, before, 'none of the table reached the upstream');
});
