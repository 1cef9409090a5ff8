/**
 * CORS through the real process (README, "Browser apps (CORS) and WebSocket"):
 * preflights answered by scopegate without a token, CORS headers on every
 * response to an allowed origin (denials included), the upstream's own
 * Access-Control-* replaced, and forward_preflight for APIs that do their own.
 */
import t from 'tap';
import { send } from '../helpers/http.js';
import { startStack } from '../helpers/stack.js';

const ISSUER = 'https://idp.cors.test/';
const APP = 'https://app.example.com';
const OTHER = 'https://evil.example.com';
const ROUTES = ['GET /orgs: org:read', 'POST /orgs: org:write', "GET /public: { auth: none }", 'DELETE /orgs/:id: org:admin'];

function preflight(origin: string, method: string): { method: string; headers: Record<string, string> } {
  return { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization' } };
}

t.test('cors.allowed_origins: scopegate owns CORS', async (t) => {
  const { upstream, sidecar, token } = await startStack(t, {
    issuer: ISSUER,
    routes: ROUTES,
    extra: `cors:\n  allowed_origins: [${APP}]\n  max_age_s: 120`,
  });

  t.test('an allowed preflight: 204 with every header, never forwarded', async (t) => {
    const before = upstream.count;
    const res = await send(sidecar.url, '/orgs', preflight(APP, 'POST'));
    t.equal(res.status, 204);
    t.equal(res.headers['access-control-allow-origin'], APP);
    t.equal(res.headers['access-control-allow-methods'], 'GET, HEAD, POST');
    t.equal(res.headers['access-control-allow-headers'], 'authorization, content-type');
    t.equal(res.headers['access-control-max-age'], '120');
    t.equal(res.headers['access-control-expose-headers'], 'www-authenticate');
    t.equal(res.headers['vary'], 'Origin');
    t.notOk('access-control-allow-credentials' in res.headers);
    t.equal(res.body, '');
    t.equal(upstream.count, before, 'the upstream saw nothing');
  });

  t.test('a preflight from another origin: 403 cors_origin_not_allowed, no CORS headers', async (t) => {
    const before = upstream.count;
    const res = await send(sidecar.url, '/orgs', preflight(OTHER, 'GET'));
    t.equal(res.status, 403);
    t.equal(res.json()['error'], 'cors_origin_not_allowed');
    t.notOk('www-authenticate' in res.headers, 'no Bearer challenge: no token is involved');
    t.notOk(Object.keys(res.headers).some((h) => h.startsWith('access-control-')));
    t.equal(upstream.count, before);
  });

  t.test('unrouted path: 404; unrouted method: 405 with Allow; both with CORS headers', async (t) => {
    const before = upstream.count;
    const missing = await send(sidecar.url, '/nothing', preflight(APP, 'GET'));
    t.equal(missing.status, 404);
    t.equal(missing.headers['access-control-allow-origin'], APP);
    const wrong = await send(sidecar.url, '/orgs', preflight(APP, 'PUT'));
    t.equal(wrong.status, 405);
    t.equal(wrong.headers['allow'], 'GET, HEAD, POST');
    t.equal(wrong.headers['access-control-allow-origin'], APP);
    t.equal(upstream.count, before);
  });

  t.test('a plain OPTIONS (no Access-Control-Request-Method) is an ordinary request', async (t) => {
    const res = await send(sidecar.url, '/orgs', { method: 'OPTIONS', headers: { origin: APP } });
    t.equal(res.status, 405);
  });

  t.test('denials to an allowed origin carry CORS headers: 401, 403, 404, 400', async (t) => {
    const before = upstream.count;
    const cases: Array<[number, string, Record<string, string>]> = [
      [401, '/orgs', {}],
      [403, '/orgs', { authorization: `Bearer ${token('other')}` }],
      [404, '/nope', {}],
      [400, '/a/%2e%2e/%2e%2e/etc', {}],
    ];
    for (const [status, path, headers] of cases) {
      const res = await send(sidecar.url, path, { headers: { origin: APP, ...headers } });
      t.equal(res.status, status, path);
      t.equal(res.headers['access-control-allow-origin'], APP, `${status}: ACAO`);
      t.equal(res.headers['access-control-expose-headers'], 'www-authenticate', `${status}: expose`);
      t.equal(res.headers['vary'], 'Origin', `${status}: vary`);
      if (status === 401 || status === 403) t.ok(res.headers['www-authenticate'], `${status}: the challenge the app can now read`);
    }
    const wrong = await send(sidecar.url, '/orgs', { method: 'PUT', headers: { origin: APP } });
    t.equal(wrong.status, 405);
    t.equal(wrong.headers['access-control-allow-origin'], APP);
    t.equal(upstream.count, before, 'none reached the upstream');
  });

  t.test("allows: the upstream's Access-Control-* replaced, its Vary kept with Origin", async (t) => {
    upstream.handle = (_req, res) => {
      res.writeHead(200, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'PATCH', vary: 'Accept-Encoding', 'content-type': 'text/plain' });
      res.end('ok');
    };
    t.teardown(() => {
      upstream.handle = (_req, res) => {
        res.end('{}');
      };
    });
    const res = await send(sidecar.url, '/orgs', { headers: { origin: APP, authorization: `Bearer ${token('org:read')}` } });
    t.equal(res.status, 200);
    t.equal(res.body, 'ok');
    t.equal(res.headers['access-control-allow-origin'], APP);
    t.notOk('access-control-allow-methods' in res.headers, "the upstream's own CORS header is removed");
    t.equal(res.headers['vary'], 'Accept-Encoding, Origin');
    const other = await send(sidecar.url, '/public', { headers: { origin: OTHER } });
    t.equal(other.status, 200);
    t.notOk(Object.keys(other.headers).some((h) => h.startsWith('access-control-')), 'another origin: no CORS headers, the upstream ones removed too');
    const none = await send(sidecar.url, '/public');
    t.notOk('access-control-allow-origin' in none.headers, 'no Origin: no CORS headers');
  });

  t.test('preflights are counted and logged as cors_preflight', async (t) => {
    const metrics = (await send(sidecar.adminUrl, '/metrics')).body;
    t.match(metrics, /scopegate_decisions_total\{outcome="allow",reason="cors_preflight",listener="proxy"\} 1/);
    t.match(metrics, /scopegate_decisions_total\{outcome="deny",reason="cors_origin_not_allowed",listener="proxy"\} 1/);
    const lines = await sidecar.waitForLogs('request', 10);
    t.ok(lines.some((l) => l['method'] === 'OPTIONS' && l['status'] === 204 && l['reason'] === 'cors_preflight' && l['route'] === '/orgs'));
  });
});

t.test("allowed_origins ['*'] with credentials is refused; '*' answers with *", async (t) => {
  const { sidecar } = await startStack(t, { issuer: ISSUER, routes: ROUTES, extra: "cors:\n  allowed_origins: ['*']\n  exposed_headers: []" });
  const res = await send(sidecar.url, '/orgs/7', preflight(OTHER, 'DELETE'));
  t.equal(res.status, 204);
  t.equal(res.headers['access-control-allow-origin'], '*');
  t.equal(res.headers['access-control-allow-methods'], 'DELETE');
  t.notOk('access-control-expose-headers' in res.headers);
});

t.test('allow_credentials: true', async (t) => {
  const { sidecar } = await startStack(t, { issuer: ISSUER, routes: ROUTES, extra: `cors:\n  allowed_origins: [${APP}, 'http://localhost:3000']\n  allow_credentials: true` });
  const res = await send(sidecar.url, '/orgs', preflight('http://localhost:3000', 'GET'));
  t.equal(res.status, 204);
  t.equal(res.headers['access-control-allow-origin'], 'http://localhost:3000');
  t.equal(res.headers['access-control-allow-credentials'], 'true');
  const denied = await send(sidecar.url, '/orgs', { headers: { origin: APP } });
  t.equal(denied.status, 401);
  t.equal(denied.headers['access-control-allow-credentials'], 'true');
});

t.test('forward_preflight: the upstream answers CORS', async (t) => {
  const { upstream, sidecar } = await startStack(t, { issuer: ISSUER, routes: ROUTES, extra: 'cors:\n  forward_preflight: true' });
  upstream.handle = (req, res) => {
    res.writeHead(204, { 'access-control-allow-origin': req.headers.origin ?? '', 'access-control-allow-methods': 'GET, POST', 'x-upstream': '1' });
    res.end();
  };
  const before = upstream.count;
  const res = await send(sidecar.url, '/orgs', preflight(OTHER, 'POST'));
  t.equal(res.status, 204);
  t.equal(res.headers['access-control-allow-origin'], OTHER, "the upstream's answer, untouched");
  t.equal(res.headers['access-control-allow-methods'], 'GET, POST');
  t.equal(upstream.count, before + 1);
  const seen = upstream.requests[upstream.requests.length - 1]!;
  t.equal(seen.method, 'OPTIONS');
  t.notOk('x-auth-subject' in seen.headers, 'forwarded without identity');
  t.equal((await send(sidecar.url, '/nothing', preflight(OTHER, 'GET'))).status, 404, 'unrouted: 404 as usual');
  t.equal((await send(sidecar.url, '/orgs', preflight(OTHER, 'PUT'))).status, 405, 'unrouted method: 405 as usual');
  const denied = await send(sidecar.url, '/orgs', { headers: { origin: OTHER } });
  t.equal(denied.status, 401, 'everything else is enforced');
  t.notOk('access-control-allow-origin' in denied.headers, 'scopegate adds no CORS headers');
  t.equal(upstream.count, before + 1);
});
