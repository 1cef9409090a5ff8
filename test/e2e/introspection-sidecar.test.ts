/**
 * Opaque tokens through the real `scopegate serve` process, checked at a real authorization
 * server (oidc-provider), beside JWTs from a JWKS issuer in the same config.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { basicCredentials } from '../../src/auth/introspect-call.js';
import { testConfigYaml } from '../helpers/config.js';
import { send, type Reply } from '../helpers/http.js';
import { closedPortEndpoint } from '../helpers/introspection-server.js';
import { APP_SECRET, clientToken, GATE_ID, GATE_SECRET, revoke, startIdp, userToken, type Idp } from '../helpers/oidc-provider.js';
import { startSidecar, type Sidecar } from '../helpers/sidecar.js';
import { startStack, STACK_AUDIENCE } from '../helpers/stack.js';
import { claims, signToken } from '../helpers/tokens.js';
import { startUpstream } from '../helpers/upstream.js';

const JWT_ISSUER = 'https://idp.jwt.test/';
const ROUTES = ['GET /jwt/orders: orders:read', 'GET /orders: orders:read', 'POST /orders: orders:write'];
/** timeout_ms of the sidecars below. */
const TIMEOUT_MS = 800;

const issued: string[] = [];
const sidecars: Sidecar[] = [];

function introspectionYaml(endpoint: string, secretSource: string, issuer?: string): string {
  return [
    '  introspection:',
    `    endpoint: ${endpoint}`,
    `    client_id: ${GATE_ID}`,
    `    ${secretSource}`,
    ...(issuer === undefined ? [] : [`    issuer: ${issuer}`]),
    '    cache_ttl_s: 1',
    `    timeout_ms: ${TIMEOUT_MS}`,
  ].join('\n');
}

function secretFile(secret: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'scopegate-secret-')), 'introspection');
  writeFileSync(file, `${secret}\n`); // the trailing newline an editor or `echo` adds is trimmed
  return file;
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

/** An introspection-only sidecar whose endpoint fails in some way. */
async function failingSidecar(t: Test, endpoint: string, secret: string): Promise<{ sidecar: Sidecar; upstreamCount: () => number }> {
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const yaml = testConfigYaml({ issuer: 'unused', jwksUri: 'http://127.0.0.1:9/unused', upstream: upstream.url, routes: ROUTES })
    .replace(/ {2}issuers:\n(?: {4,}.*\n)+/, '')
    .replace(/ {2}jwks:\n(?: {4}.*\n)+/, `${introspectionYaml(endpoint, 'client_secret_env: GATE_SECRET')}\n`);
  const sidecar = await startSidecar(yaml, { env: { GATE_SECRET: secret } });
  sidecars.push(sidecar);
  t.teardown(() => sidecar.stop());
  return { sidecar, upstreamCount: () => upstream.count };
}

/** 503, Retry-After, answered within timeout_ms + 1 s, nothing forwarded. */
async function expectUnavailable(t: Test, sidecar: Sidecar, upstreamCount: () => number, token: string): Promise<Reply> {
  const before = upstreamCount();
  const started = Date.now();
  const res = await send(sidecar.url, '/orders', bearer(token));
  const ms = Date.now() - started;
  t.equal(res.status, 503);
  t.match(res.headers['retry-after'], /^[1-9][0-9]*$/, 'Retry-After in whole seconds');
  t.ok(ms < TIMEOUT_MS + 1000, `answered after ${ms} ms`);
  t.equal(upstreamCount(), before, 'upstream count unchanged');
  t.equal(res.json().error_description, 'the token cannot be checked now: the introspection endpoint is unavailable');
  return res;
}

t.test('JWTs and opaque tokens side by side', async (t) => {
  const idp: Idp = await startIdp(t);
  const stack = await startStack(t, {
    issuer: JWT_ISSUER,
    routes: ROUTES,
    authExtra: introspectionYaml(idp.endpoint, `client_secret_file: ${secretFile(GATE_SECRET)}`, idp.issuer),
  });
  const { sidecar, upstream } = stack;
  sidecars.push(sidecar);
  const last = () => upstream.requests[upstream.requests.length - 1]!;

  t.test('an allowed opaque token: forwarded with identity headers', async (t) => {
    const token = await userToken(idp, issued, 'user-42', 'orders:read');
    const res = await send(sidecar.url, '/orders', bearer(token));
    t.equal(res.status, 200);
    t.equal(last().headers['x-auth-subject'], 'user-42');
    t.equal(last().headers['x-auth-scopes'], 'orders:read');
    t.equal(last().headers.authorization, `Bearer ${token}`, 'Authorization forwarded unchanged');
  });

  t.test('a JWT on its own path, and an opaque token on the same path', async (t) => {
    const jwt = signToken(stack.key, claims(JWT_ISSUER, STACK_AUDIENCE, { scope: 'orders:read', sub: 'jwt-user' }));
    const res = await send(sidecar.url, '/jwt/orders', bearer(jwt));
    t.equal(res.status, 200);
    t.equal(last().headers['x-auth-subject'], 'jwt-user');
    const before = idp.introspections;
    t.equal((await send(sidecar.url, '/orders', bearer(jwt))).status, 200, 'a JWT is verified, not introspected');
    t.equal(idp.introspections, before, 'no introspection call for a JWT');
    const opaque = await clientToken(t, idp, issued, 'orders:read');
    t.equal((await send(sidecar.url, '/jwt/orders', bearer(opaque))).status, 200, 'an opaque token is accepted on any route its scopes satisfy');
  });

  t.test('missing scope: 403 with scope=', async (t) => {
    const token = await clientToken(t, idp, issued, 'orders:read');
    const before = upstream.count;
    const res = await send(sidecar.url, '/orders', { ...bearer(token), method: 'POST', body: '{}' });
    t.equal(res.status, 403);
    t.match(res.headers['www-authenticate'], /error="insufficient_scope".*scope="orders:write"/);
    t.equal(upstream.count, before);
  });

  t.test('a revoked token is refused once its cache entry expires', async (t) => {
    const token = await clientToken(t, idp, issued, 'orders:read');
    t.equal((await send(sidecar.url, '/orders', bearer(token))).status, 200);
    t.equal(await revoke(idp, token), 200);
    t.equal((await send(sidecar.url, '/orders', bearer(token))).status, 200, 'still cached');
    await sleep(1100);
    const res = await send(sidecar.url, '/orders', bearer(token));
    t.equal(res.status, 401);
    t.match(res.headers['www-authenticate'], /error="invalid_token"/);
  });

  t.test('a garbage token: 401 invalid_token, one call for many requests', async (t) => {
    const before = idp.introspections;
    for (let i = 0; i < 5; i++) {
      const res = await send(sidecar.url, '/orders', bearer('garbage-opaque-token-1234'));
      t.equal(res.status, 401);
      t.equal(res.json().error, 'invalid_token');
    }
    t.equal(idp.introspections - before, 1, 'the negative cache answered the rest');
  });

  t.test('the server slow past timeout_ms: 503, then served again', async (t) => {
    const token = await clientToken(t, idp, issued, 'orders:read');
    idp.delayMs = 3000;
    await expectUnavailable(t, sidecar, () => upstream.count, token);
    idp.delayMs = 0;
    t.equal((await send(sidecar.url, '/orders', bearer(token))).status, 200, 'not cached: the next request asks again');
  });

  t.test('metrics: scopegate_introspection_total on /metrics', async (t) => {
    const text = (await send(sidecar.adminUrl, '/metrics')).body;
    t.match(text, /scopegate_introspection_total\{result="active"\} [1-9]/);
    t.match(text, /scopegate_introspection_total\{result="inactive"\} [1-9]/);
    t.match(text, /scopegate_introspection_total\{result="error"\} [1-9]/);
    t.match(text, /scopegate_introspection_duration_seconds_count [1-9]/);
    const line = await sidecar.waitForLog('token introspection failed');
    t.match(line, { cause: 'introspection', reason: 'timeout' }, 'the failure is logged with its cause');
  });
});

t.test('the authorization server down: 503; an introspection-only config is ready', async (t) => {
  const { sidecar, upstreamCount } = await failingSidecar(t, await closedPortEndpoint(), GATE_SECRET);
  t.equal((await send(sidecar.adminUrl, '/readyz')).status, 200, 'no keys to wait for');
  await expectUnavailable(t, sidecar, upstreamCount, 'some-opaque-token-value');
  t.match(await sidecar.waitForLog('request'), { status: 503, reason: 'keys_unavailable', code: 'ERR_AUTH_KEYS_UNAVAILABLE' }, 'the access line');
  t.match(await sidecar.waitForLog('token introspection failed'), { cause: 'introspection', reason: /^unreachable/ });
});

t.test("the authorization server rejects scopegate's client secret: 503", async (t) => {
  const idp = await startIdp(t);
  const token = await clientToken(t, idp, issued, 'orders:read');
  const { sidecar, upstreamCount } = await failingSidecar(t, idp.endpoint, 'not-the-secret');
  await expectUnavailable(t, sidecar, upstreamCount, token);
  t.equal(idp.introspections, 1, 'the call reached the server');
  t.match(await sidecar.waitForLog('token introspection failed'), { cause: 'introspection', reason: 'HTTP 401' });
  await sidecar.waitForLog('request');
});

t.test('the sidecars printed no token and no secret', async (t) => {
  t.ok(issued.length >= 6 && sidecars.length === 3);
  const secrets = [GATE_SECRET, APP_SECRET, 'not-the-secret', basicCredentials(GATE_ID, GATE_SECRET).slice(6), 'garbage-opaque-token-1234', 'some-opaque-token-value'];
  await sidecars[0]!.waitForLog('request');
  for (const s of sidecars) {
    const output = [...s.stdout, ...s.stderr].join('\n');
    t.ok(output.includes('"msg":"request"'), 'access lines were captured');
    for (const secret of [...issued, ...secrets]) t.notOk(output.includes(secret), 'no token or secret in stdout/stderr');
  }
});
