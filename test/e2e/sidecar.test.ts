/**
 * The sidecar end to end: the real `scopegate serve` process in front of a real
 * upstream and a real JWKS server, all on 127.0.0.1, with real signed tokens.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { startJwksServer } from '../helpers/jwks-server.js';
import { generateKey, jwkOf } from '../helpers/keys.js';
import { claims, nowS, signToken } from '../helpers/tokens.js';
import { testConfigYaml } from '../helpers/config.js';
import { startSidecar, type Sidecar } from '../helpers/sidecar.js';
import { closedPort, delayHandler, echoHandler, resetHandler, startUpstream, type UpstreamHandler } from '../helpers/upstream.js';
import { send } from '../helpers/http.js';
import { startStack } from '../helpers/stack.js';
import { rawExchange } from '../helpers/raw.js';
import { SIDECAR_ROUTES } from '../conformance/responses.cases.js';

const ISSUER = 'https://idp.e2e.test/';
const AUD = 'https://api.example.com';
const ROUTES = SIDECAR_ROUTES;

t.test('scopegate serve, end to end', async (t) => {
  const { key, jwks, upstream, sidecar } = await startStack(t, { issuer: ISSUER, keyKind: 'rsa', routes: ROUTES });
  const token = (scope: string, extra: Record<string, unknown> = {}): string => signToken(key, claims(ISSUER, AUD, { scope, ...extra }));
  const auth = (tok: string): Record<string, string> => ({ authorization: `Bearer ${tok}` });
  const tokensUsed: string[] = [];
  const remember = (tok: string): string => (tokensUsed.push(tok), tok);

  t.test('an allowed request reaches the upstream with the canonical path, query, body and identity', async (t) => {
    const tok = remember(token('org:read projects:read'));
    const before = upstream.count;
    const res = await send(sidecar.url, '/api/oauth-client/organizations/./acme/x/../projects?page=2&q=a%20b', {
      headers: { ...auth(tok), 'x-auth-subject': 'spoofed', 'X_Auth_Scopes': 'admin', 'x-http-method-override': 'DELETE', 'x-trace': 'keep-me' },
    });
    t.equal(res.status, 200, res.body);
    t.equal(upstream.count, before + 1);
    const seen = upstream.requests[upstream.requests.length - 1]!;
    t.equal(seen.url, '/api/oauth-client/organizations/acme/projects?page=2&q=a%20b', 'canonical path + untouched query');
    t.equal(seen.method, 'GET');
    t.equal(seen.headers['x-auth-subject'], 'user-1', 'subject from the verified token, spoofed copy gone');
    t.equal(seen.headers['x-auth-scopes'], 'org:read projects:read');
    t.notOk(seen.rawHeaders.some((h) => h.toLowerCase() === 'x_auth_scopes'), 'underscore spelling stripped');
    t.notOk('x-http-method-override' in seen.headers, 'method override stripped');
    t.equal(seen.headers['authorization'], `Bearer ${tok}`, 'Authorization forwarded unchanged');
    t.equal(seen.headers['x-trace'], 'keep-me', 'ordinary headers forwarded');
    t.match(seen.headers['x-forwarded-for'], /127\.0\.0\.1/);
  });

  t.test('a POST body arrives byte for byte', async (t) => {
    const tok = remember(token('projects:write'));
    const body = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    const res = await send(sidecar.url, '/api/oauth-client/v1/projects', { method: 'POST', headers: { ...auth(tok), 'content-type': 'application/octet-stream' }, body });
    t.equal(res.status, 200);
    const seen = upstream.requests[upstream.requests.length - 1]!;
    t.equal(seen.bodyBytes, body.length);
    t.equal(seen.bodySha256, createHash('sha256').update(body).digest('hex'));
  });

  t.test('denials: exact status, challenge and JSON, and the upstream sees nothing', async (t) => {
    const before = upstream.count;
    const expired = remember(token('org:read', { exp: nowS() - 3600 }));
    const reader = remember(token('org:read'));
    const cases = [
      {
        name: 'no token',
        path: '/api/oauth-client/organizations',
        headers: {},
        status: 401,
        challenge: 'Bearer realm="scopegate"',
        body: { error: 'missing_token' },
      },
      {
        name: 'expired token',
        path: '/api/oauth-client/organizations',
        headers: auth(expired),
        status: 401,
        challenge: 'Bearer realm="scopegate", error="invalid_token", error_description="The token has expired"',
        body: { error: 'invalid_token', error_description: 'The token has expired' },
      },
      {
        name: 'insufficient scope',
        path: '/api/oauth-client/organizations/acme/projects',
        headers: auth(reader),
        status: 403,
        challenge: /^Bearer realm="scopegate", error="insufficient_scope", error_description="[^"]+", scope="projects:read"$/,
        body: { error: 'insufficient_scope', scope: 'projects:read' },
      },
      { name: 'unmapped path', path: '/api/oauth-client/admin', headers: auth(reader), status: 404, challenge: undefined, body: { error: 'not_found' } },
      { name: 'traversal', path: '/api/../../etc/passwd', headers: auth(reader), status: 400, challenge: undefined, body: { error: 'invalid_request' } },
      { name: 'query token', path: '/api/oauth-client/organizations?access_token=x', headers: {}, status: 400, challenge: 'Bearer realm="scopegate", error="invalid_request", error_description="access tokens are accepted in the Authorization header only, not in the query"', body: { error: 'invalid_request' } },
    ];
    for (const c of cases) {
      const res = await send(sidecar.url, c.path, { headers: c.headers });
      t.equal(res.status, c.status, `${c.name}: status`);
      if (c.challenge === undefined) t.notOk(res.headers['www-authenticate'], `${c.name}: no challenge`);
      else if (typeof c.challenge === 'string') t.equal(res.headers['www-authenticate'], c.challenge, `${c.name}: challenge`);
      else t.match(res.headers['www-authenticate'], c.challenge, `${c.name}: challenge`);
      t.match(res.headers['content-type'], /^application\/json/, `${c.name}: JSON`);
      t.equal(res.headers['cache-control'], 'no-store', `${c.name}: no-store`);
      t.match(res.json(), c.body, `${c.name}: body`);
      t.type(res.json()['error_description'], 'string', `${c.name}: has a description`);
    }
    const m405 = await send(sidecar.url, '/api/oauth-client/organizations', { method: 'DELETE', headers: auth(reader) });
    t.equal(m405.status, 405);
    t.equal(m405.headers['allow'], 'GET, HEAD');
    t.match(m405.json(), { error: 'method_not_allowed' });
    t.equal(upstream.count, before, 'no denied request reached the upstream');
  });

  t.test('an HTTP/1.1 request without Host is a JSON 400; HTTP/1.0 needs none', async (t) => {
    const before = upstream.count;
    const r11 = await rawExchange(sidecar.port, 'GET /static/x HTTP/1.1\r\nConnection: close\r\n\r\n');
    t.equal(r11.first?.status, 400);
    t.match(r11.first?.json, { error: 'invalid_request', error_description: 'an HTTP/1.1 request needs a Host header' });
    t.equal(upstream.count, before, 'not forwarded');
    const r10 = await rawExchange(sidecar.port, 'GET /static/x HTTP/1.0\r\n\r\n');
    t.equal(r10.first?.status, 200, 'HTTP/1.0 has no Host requirement');
  });

  t.test('HEAD falls back to the GET route and public routes need no token', async (t) => {
    const reader = remember(token('org:read'));
    const head = await send(sidecar.url, '/api/oauth-client/organizations', { method: 'HEAD', headers: auth(reader) });
    t.equal(head.status, 200);
    t.equal(upstream.requests[upstream.requests.length - 1]!.method, 'HEAD');
    const pub = await send(sidecar.url, '/static/css/site.css');
    t.equal(pub.status, 200);
    t.equal(upstream.requests[upstream.requests.length - 1]!.url, '/static/css/site.css');
    t.notOk('x-auth-subject' in upstream.requests[upstream.requests.length - 1]!.headers, 'no identity on a public route');
  });

  t.test('502 when the upstream resets, 504 when it is slower than timeout_ms', async (t) => {
    const slowSidecar = await startSidecar(
      testConfigYaml({ issuer: ISSUER, jwksUri: jwks.jwksUri, upstream: upstream.url, routes: ROUTES }).replace(`url: ${upstream.url}`, `url: ${upstream.url}\n  timeout_ms: 300`),
    );
    t.teardown(() => slowSidecar.stop());
    upstream.handle = resetHandler;
    const reset = await send(slowSidecar.url, '/slow');
    t.equal(reset.status, 502);
    t.match(reset.json(), { error: 'bad_gateway' });
    upstream.handle = delayHandler(2000);
    const slow = await send(slowSidecar.url, '/slow');
    t.equal(slow.status, 504);
    t.match(slow.json(), { error: 'gateway_timeout' });
    upstream.handle = echoHandler;

    const refused = await startSidecar(testConfigYaml({ issuer: ISSUER, jwksUri: jwks.jwksUri, upstream: `http://127.0.0.1:${await closedPort()}`, routes: ROUTES }));
    t.teardown(() => refused.stop());
    const r = await send(refused.url, '/slow');
    t.equal(r.status, 502, 'connection refused → 502');
  });

  t.test('a 200 MB upload streams through with flat memory', async (t) => {
    const tok = remember(token('projects:write'));
    const CHUNK = 64 * 1024;
    const TOTAL = 200 * 1024 * 1024;
    const chunk = Buffer.alloc(CHUNK, 0x61);
    const expected = createHash('sha256');
    let sent = 0;
    const body = new Readable({
      read() {
        if (sent >= TOTAL) return void this.push(null);
        sent += CHUNK;
        expected.update(chunk);
        this.push(chunk);
      },
    });
    const rssBefore = sidecar.rss();
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, sidecar.rss())), 25);
    const res = await send(sidecar.url, '/api/oauth-client/v1/projects', { method: 'POST', headers: { ...auth(tok), 'content-type': 'application/octet-stream', 'content-length': String(TOTAL) }, body });
    clearInterval(sampler);
    t.equal(res.status, 200);
    const seen = upstream.requests[upstream.requests.length - 1]!;
    t.equal(seen.bodyBytes, TOTAL);
    t.equal(seen.bodySha256, expected.digest('hex'));
    const growthMb = (peak - rssBefore) / 1024 / 1024;
    t.comment(`sidecar RSS before ${(rssBefore / 1048576).toFixed(1)} MB, peak ${(peak / 1048576).toFixed(1)} MB during a 200 MB upload`);
    // Buffering the body would grow RSS by ~200 MB; streaming stays within socket and stream buffers.
    t.ok(growthMb < 64, `RSS growth ${growthMb.toFixed(1)} MB < 64 MB`);
  });

  t.test('a client abort cancels the upstream request', async (t) => {
    const hang: UpstreamHandler = () => {};
    upstream.handle = hang;
    const controller = new AbortController();
    const pending = send(sidecar.url, '/slow', { signal: controller.signal }).catch((e: Error) => e);
    const seen = await upstream.nextRequest();
    controller.abort();
    await pending;
    await seen.closed;
    t.ok(seen.closedEarly, 'the upstream saw its request cancelled');
    upstream.handle = echoHandler;
  });

  t.test('/metrics exposes every documented metric with route templates', async (t) => {
    const res = await send(sidecar.adminUrl, '/metrics');
    t.equal(res.status, 200);
    for (const name of [
      'scopegate_request_duration_seconds_bucket',
      'scopegate_decision_duration_seconds_bucket',
      'scopegate_upstream_duration_seconds_bucket',
      'scopegate_decisions_total',
      'scopegate_jwks_refresh_total',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      t.match(res.body, new RegExp(`^${name}\\{?`, 'm'), name);
    }
    t.match(res.body, /scopegate_request_duration_seconds_count\{method="GET",route="\/api\/oauth-client\/organizations\/:orgId\/projects",status="200",listener="proxy"\}/);
    t.match(res.body, /route="unmatched"/);
    t.match(res.body, /scopegate_decisions_total\{outcome="deny",reason="insufficient_scope",listener="proxy"\} 1/);
    t.match(res.body, /scopegate_decisions_total\{outcome="deny",reason="missing_token",listener="proxy"\} 1/);
    t.match(res.body, /scopegate_jwks_refresh_total\{issuer="https:\/\/idp\.e2e\.test\/",result="success"\} 1/);
    t.notMatch(res.body, /route="\/api\/oauth-client\/organizations\/acme/, 'never a raw path as a label');
    t.notMatch(res.body, /passwd/, 'never a raw path as a label');
  });

  t.test('one access line per request, and no token anywhere in the logs', async (t) => {
    const access = await sidecar.waitForLogs('request', 10);
    t.ok(access.length >= 10, `${access.length} access lines`);
    const line = access.find((l) => l['status'] === 403)!;
    t.match(line, { method: 'GET', route: '/api/oauth-client/organizations/:orgId/projects', status: 403, reason: 'insufficient_scope' });
    t.type(line['decision_us'], 'number');
    t.type(line['total_ms'], 'number');
    t.type(line['id'], 'string');
    // Logs are flushed every 250 ms: wait past one flush so every line written so far is searched.
    await new Promise((r) => setTimeout(r, 600));
    const all = sidecar.stdout.join('\n') + sidecar.stderr.join('');
    for (const tok of tokensUsed) {
      t.notOk(all.includes(tok), 'token not logged');
      t.notOk(all.includes(tok.split('.')[2]!), 'signature not logged');
    }
    t.notMatch(all, /Bearer /, 'no Authorization value logged');
  });
});

t.test('readiness follows JWKS loading and drain; SIGTERM finishes in-flight work and exits 0', async (t) => {
  const key = generateKey('p256');
  const jwks = await startJwksServer({ keys: [jwkOf(key)] });
  jwks.setMode({ kind: 'hang' });
  const upstream = await startUpstream(delayHandler(800));
  t.teardown(async () => {
    await upstream.close();
    await jwks.close();
  });
  const sidecar: Sidecar = await startSidecar(testConfigYaml({ issuer: ISSUER, jwksUri: jwks.jwksUri, upstream: upstream.url, routes: ROUTES }));
  t.teardown(() => sidecar.stop());

  const notReady = await send(sidecar.adminUrl, '/readyz');
  t.equal(notReady.status, 503, '/readyz is 503 before the JWKS is loaded');
  const health = await send(sidecar.adminUrl, '/healthz');
  t.equal(health.status, 200, '/healthz is 200 while the process serves');
  const tok = signToken(key, claims(ISSUER, AUD, { scope: 'org:read' }));
  const unavailable = await send(sidecar.url, '/api/oauth-client/organizations', { headers: { authorization: `Bearer ${tok}` } });
  t.equal(unavailable.status, 503, 'keys never loaded: 503, not 401');
  t.ok(unavailable.headers['retry-after'], 'Retry-After set');

  jwks.setMode({ kind: 'ok' });
  let ready = 503;
  for (let i = 0; i < 60 && ready !== 200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    ready = (await send(sidecar.adminUrl, '/readyz')).status;
  }
  t.equal(ready, 200, '/readyz turns 200 once keys load');

  const inflight = send(sidecar.url, '/slow');
  await upstream.nextRequest();
  sidecar.proc.kill('SIGTERM');
  await sidecar.waitForLog('draining');
  const draining = await send(sidecar.adminUrl, '/readyz').catch(() => undefined);
  if (draining !== undefined) t.equal(draining.status, 503, '/readyz is 503 while draining');
  const res = await inflight;
  t.equal(res.status, 200, 'the in-flight request completed');
  t.equal(await sidecar.exited, 0, 'exit code 0 after drain');
});

t.test('Expect: 100-continue is answered only after the decision', async (t) => {
  const { key, upstream, sidecar } = await startStack(t, { issuer: ISSUER, routes: ROUTES });
  const { request } = await import('node:http');
  /** Sends headers with Expect: 100-continue and reports whether 100 came before the final status. */
  const expectContinue = (token: string | undefined) =>
    new Promise<{ continued: boolean; status: number }>((resolve, reject) => {
      let continued = false;
      const req = request({
        host: '127.0.0.1',
        port: sidecar.port,
        method: 'POST',
        path: '/api/oauth-client/v1/projects',
        headers: { expect: '100-continue', 'content-type': 'application/json', 'content-length': '2', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      });
      req.on('continue', () => {
        continued = true;
        req.end('{}');
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ continued, status: res.statusCode ?? 0 }));
      });
      req.on('error', reject);
      req.flushHeaders();
    });
  const before = upstream.count;
  t.same(await expectContinue(undefined), { continued: false, status: 401 }, 'denied: no 100 Continue, so no body was sent');
  t.equal(upstream.count, before);
  const writer = signToken(key, claims(ISSUER, AUD, { scope: 'projects:write' }));
  t.same(await expectContinue(writer), { continued: true, status: 200 }, 'allowed: 100 Continue, then the body, then the upstream answer');
  t.equal(upstream.requests[upstream.requests.length - 1]!.bodyBytes, 2);
});
