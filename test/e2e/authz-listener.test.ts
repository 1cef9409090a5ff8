/**
 * The authz listener end to end (README, "Decisions for nginx, Caddy, Envoy and
 * Traefik"): the real `scopegate serve` with both listeners, a real JWKS server
 * and real signed tokens. Each deny of the response table must be the inline
 * deny, byte for byte; allows are 200 with identity headers; nothing reaches
 * the upstream from the authz listener.
 */
import t from 'tap';
import { RESPONSE_CASES, RESPONSE_EXTRA, RESPONSE_ROUTES } from '../conformance/responses.cases.js';
import { send, type Reply } from '../helpers/http.js';
import { startSidecar } from '../helpers/sidecar.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { testConfigYaml } from '../helpers/config.js';
import { startJwksServer } from '../helpers/jwks-server.js';
import { generateKey, jwkOf } from '../helpers/keys.js';

const ISSUER = 'https://idp.authz.test/';

/** Ask /authz/forward about (method, target), as nginx, Caddy and Traefik do. */
function forwardAuth(stack: Stack, method: string, target: string, headers: Record<string, string> = {}): Promise<Reply> {
  return send(stack.sidecar.authzUrl!, '/authz/forward', { headers: { 'x-forwarded-method': method, 'x-forwarded-uri': target, ...headers } });
}

/**
 * Ask /authz/envoy/<path> about (method, target) as Envoy's ext_authz HTTP service does: the original
 * method, path_prefix + the original path and query, Host, Authorization and a zero Content-Length (no body).
 */
function envoyAuth(stack: Stack, method: string, target: string, headers: Record<string, string> = {}): Promise<Reply> {
  return send(stack.sidecar.authzUrl!, `/authz/envoy${target}`, { method, headers: { 'content-length': '0', ...headers } });
}

const bearer = (token: string | undefined): Record<string, string> => (token === undefined ? {} : { authorization: `Bearer ${token}` });

t.test('the authz listener answers from the same plan() as the inline listener', async (t) => {
  const stack = await startStack(t, { issuer: ISSUER, routes: RESPONSE_ROUTES, extra: `${RESPONSE_EXTRA}authz_listen: 127.0.0.1:0\n` });
  const world = { token: stack.token };
  t.ok(stack.sidecar.authzUrl, 'the authz listener is announced at startup');

  t.test('every deny of the response table is the inline deny, through both endpoints', async (t) => {
    for (const c of RESPONSE_CASES.filter((c) => c.status !== 200)) {
      const token = c.token?.(world);
      const inline = await send(stack.sidecar.url, c.target, { method: c.method, headers: bearer(token) });
      const viaForward = await forwardAuth(stack, c.method, c.target, bearer(token));
      const viaEnvoy = await envoyAuth(stack, c.method, c.target, bearer(token));
      for (const [name, reply] of [['forward', viaForward], ['envoy', viaEnvoy]] as const) {
        t.equal(reply.status, c.status, `${c.name} (${name}): status`);
        t.equal(reply.headers['www-authenticate'], inline.headers['www-authenticate'], `${c.name} (${name}): WWW-Authenticate`);
        t.equal(reply.headers['content-type'], inline.headers['content-type'], `${c.name} (${name}): content type`);
      }
      // The forward endpoint is asked with GET: its body is the inline GET body even for a HEAD original.
      if (c.method !== 'HEAD') t.equal(viaForward.body, inline.body, `${c.name}: the same JSON body`);
      t.equal(viaEnvoy.body, inline.body, `${c.name} (envoy): the same body`);
    }
  });

  t.test('allow: 200, empty body, identity headers from the token only, nothing forwarded', async (t) => {
    const before = stack.upstream.count;
    const token = stack.token('org:read projects:read', { sub: 'user-42' });
    const spoof = { 'x-auth-subject': 'admin', 'x-auth-scopes': 'admin' };
    for (const reply of [
      await forwardAuth(stack, 'GET', '/api/oauth-client/organizations/acme/projects?page=2', { ...bearer(token), ...spoof }),
      await envoyAuth(stack, 'GET', '/api/oauth-client/organizations/acme/projects?page=2', { ...bearer(token), ...spoof }),
    ]) {
      t.equal(reply.status, 200, reply.body);
      t.equal(reply.body, '');
      t.equal(reply.headers['x-auth-subject'], 'user-42', 'the subject of the verified token');
      t.equal(reply.headers['x-auth-scopes'], 'org:read projects:read');
    }
    const publicReply = await forwardAuth(stack, 'GET', '/static/app.js', spoof);
    t.equal(publicReply.status, 200, 'a public route is allowed without a token');
    // Present and empty: a proxy copying them overwrites the client's copy.
    t.equal(publicReply.headers['x-auth-subject'], '', 'a client-sent identity header is never echoed');
    t.equal(publicReply.headers['x-auth-scopes'], '');
    t.equal(stack.upstream.count, before, 'the authz listener forwards nothing');
  });

  t.test('X-Original-Method / X-Original-URI are read when the X-Forwarded-* pair is absent', async (t) => {
    const token = stack.token('org:read');
    const ok = await send(stack.sidecar.authzUrl!, '/authz/forward', {
      headers: { ...bearer(token), 'x-original-method': 'GET', 'x-original-uri': '/api/oauth-client/organizations' },
    });
    t.equal(ok.status, 200);
    const forwardedWins = await send(stack.sidecar.authzUrl!, '/authz/forward', {
      headers: { ...bearer(token), 'x-forwarded-method': 'DELETE', 'x-forwarded-uri': '/api/oauth-client/organizations', 'x-original-method': 'GET', 'x-original-uri': '/api/oauth-client/organizations' },
    });
    t.equal(forwardedWins.status, 405, 'X-Forwarded-Method comes first');
  });

  t.test('missing original method or URI → 400 JSON', async (t) => {
    const token = stack.token('org:read');
    for (const headers of [{ 'x-forwarded-uri': '/api/oauth-client/organizations' }, { 'x-forwarded-method': 'GET' }, {}]) {
      const reply = await send(stack.sidecar.authzUrl!, '/authz/forward', { headers: { ...bearer(token), ...headers } });
      t.equal(reply.status, 400);
      t.equal(reply.json()['error'], 'invalid_request');
      t.match(String(reply.json()['error_description']), /original method and URI/);
    }
    const twice = await send(stack.sidecar.authzUrl!, '/authz/forward', {
      headers: ['authorization', `Bearer ${token}`, 'x-forwarded-method', 'GET', 'x-forwarded-uri', '/api/oauth-client/organizations', 'x-forwarded-uri', '/api/oauth-client/admin'],
    });
    t.equal(twice.status, 400, 'two original URIs are ambiguous');
  });

  t.test('non-canonical targets are refused (400), never authorized canonically', async (t) => {
    const token = stack.token('org:read projects:read');
    for (const target of ['/api/oauth-client/x/../organizations', '/api/oauth-client/%6Frganizations', '/api/oauth-client/./organizations', '//api/oauth-client/organizations']) {
      for (const reply of [await forwardAuth(stack, 'GET', target, bearer(token)), await envoyAuth(stack, 'GET', target, bearer(token))]) {
        t.equal(reply.status, 400, `${target}: ${reply.body}`);
        t.equal(reply.json()['error'], 'invalid_request');
        t.equal(reply.headers['x-auth-subject'], undefined);
      }
      const inline = await send(stack.sidecar.url, target, { headers: bearer(token) });
      // The inline listener forwards what it authorized, so it keeps normalizing (`//` it refuses either way).
      t.equal(inline.status, target.startsWith('//') ? 400 : 200, `${target}: inline`);
    }
    const query = await forwardAuth(stack, 'GET', '/api/oauth-client/organizations?a=%2e%2e&b=//x', bearer(token));
    t.equal(query.status, 200, 'the query is passed as it is, not compared');
  });

  t.test('any other path is a JSON 404; nothing is forwarded', async (t) => {
    const before = stack.upstream.count;
    for (const path of ['/', '/authz', '/authz/forward/x', '/authz/envoy', '/api/oauth-client/organizations']) {
      const reply = await send(stack.sidecar.authzUrl!, path, { headers: bearer(stack.token('org:read')) });
      t.equal(reply.status, 404, path);
      t.equal(reply.json()['error'], 'not_found');
    }
    t.equal(stack.upstream.count, before);
  });

  t.test('metrics carry listener="authz" and access lines a listener field', async (t) => {
    const metrics = (await send(stack.sidecar.adminUrl, '/metrics')).body;
    t.match(metrics, /scopegate_decisions_total\{outcome="allow",reason="allowed",listener="authz"\} [1-9]/);
    t.match(metrics, /scopegate_decisions_total\{outcome="deny",reason="bad_request",listener="authz"\} [1-9]/);
    t.match(metrics, /scopegate_decisions_total\{outcome="deny",reason="missing_token",listener="proxy"\} [1-9]/);
    t.match(metrics, /scopegate_request_duration_seconds_count\{method="GET",route="\/api\/oauth-client\/organizations",status="200",listener="authz"\} [1-9]/);
    // Access lines reach the test's pipe in batches: wait for the one sought.
    const deadline = Date.now() + 5000;
    const sought = (l: Record<string, unknown>): boolean => l['listener'] === 'authz' && l['code'] === 'ERR_REQUEST_TARGET_NOT_CANONICAL';
    while (!stack.sidecar.logs('request').some(sought) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    const lines = stack.sidecar.logs('request');
    t.ok(lines.some(sought), 'the non-canonical refusal has its own code');
    t.ok(lines.some((l) => l['listener'] === 'proxy'));
  });
});

t.test('an authz-only config: no listen, no upstream; readiness covers it; SIGTERM drains it', async (t) => {
  const key = generateKey('p256');
  const jwks = await startJwksServer({ keys: [jwkOf(key)] });
  t.teardown(() => jwks.close());
  const yaml = testConfigYaml({ issuer: ISSUER, jwksUri: jwks.jwksUri, routes: ['GET /a: { auth: none }'] })
    .replace(/^listen: .*\n/m, 'authz_listen: 127.0.0.1:0\n')
    .replace(/^upstream:\n  url: .*\n/m, '');
  const sidecar = await startSidecar(yaml);
  t.teardown(() => sidecar.stop());
  t.equal(sidecar.url, '', 'no proxy listener');
  await sidecar.waitForLog('signing keys loaded');
  t.equal((await send(sidecar.adminUrl, '/readyz')).status, 200);
  t.equal((await send(sidecar.authzUrl!, '/authz/forward', { headers: { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/a' } })).status, 200);
  t.equal((await send(sidecar.authzUrl!, '/authz/forward', { headers: { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/b' } })).status, 404);
  sidecar.proc.kill('SIGTERM');
  t.equal(await sidecar.exited, 0, 'drained and exited');
  await t.rejects(send(sidecar.authzUrl!, '/authz/forward'), 'the authz listener is closed');
});
