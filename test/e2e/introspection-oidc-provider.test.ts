/**
 * The introspector against a real authorization server: oidc-provider (a certified OpenID
 * Provider) issuing opaque client-credentials tokens, with introspection and revocation on.
 * Tokens come from its token endpoint through a real client; call counts are measured at
 * the server, on its introspection endpoint.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import t, { type Test } from 'tap';
import { basicCredentials } from '../../src/auth/introspect-call.js';
import { createIntrospector, ERR_AUTH_TOKEN_INACTIVE, IntrospectionUnavailableError, type Introspector, type IntrospectorOptions } from '../../src/auth/introspect.js';
import type { VerifyResult } from '../../src/auth/types.js';
import { closedPortEndpoint } from '../helpers/introspection-server.js';
import { APP_ID, APP_SECRET, clientToken as issueClientToken, GATE_ID, GATE_SECRET, revoke, startIdp, userToken, type Idp } from '../helpers/oidc-provider.js';

// Everything the run prints, checked at the end for tokens and secrets.
const captured: string[] = [];
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    captured.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof stream.write;
}
const handedOut: string[] = [];
const issuedTokens: string[] = [];

const clientToken = (t: Test, idp: Idp, scope?: string): Promise<string> => issueClientToken(t, idp, issuedTokens, scope);

function make(t: Test, idp: Idp | string, overrides: Partial<IntrospectorOptions> = {}): Introspector {
  const i = createIntrospector({
    endpoint: typeof idp === 'string' ? idp : idp.endpoint,
    clientId: GATE_ID,
    clientSecret: GATE_SECRET,
    issuer: typeof idp === 'string' ? undefined : idp.issuer,
    cacheTtlS: 60,
    negativeCacheTtlS: 5,
    timeoutMs: 1000,
    maxInFlight: 8,
    cacheSize: 1000,
    maxTokenBytes: 4096,
    onCall: (result, seconds, detail) => handedOut.push(`${result} ${seconds} ${detail ?? ''}`),
    ...overrides,
  });
  t.teardown(() => i.close());
  return i;
}

async function check(i: Introspector, token: string): Promise<VerifyResult> {
  const r = await i.introspect(token);
  handedOut.push(inspect(r, { depth: 10, showHidden: true }));
  return r;
}

const codeOf = (r: VerifyResult): string => (r.ok ? 'ok' : r.error.code);
const reasonOf = (r: VerifyResult): string => (!r.ok && r.error instanceof IntrospectionUnavailableError ? r.error.reason : codeOf(r));

t.test('a client-credentials token: active, with its scopes and client; no subject', async (t) => {
  const idp = await startIdp(t);
  const i = make(t, idp);
  const r = await check(i, await clientToken(t, idp, 'orders:read orders:write'));
  t.ok(r.ok, 'active');
  if (!r.ok) return;
  t.same(r.token.scopes, ['orders:read', 'orders:write']);
  t.equal(r.token.subject, undefined, 'no sub: no subject header');
  t.equal(r.token.clientId, APP_ID);
  t.equal(r.token.issuer, idp.issuer);
  t.ok(r.token.expiresAt > Date.now() / 1000 + 500, 'exp from the server');
});

t.test('a user token minted by the server: subject from sub', async (t) => {
  const idp = await startIdp(t);
  const token = await userToken(idp, issuedTokens, 'user-42', 'orders:read');
  const r = await check(make(t, idp), token);
  t.ok(r.ok && r.token.subject === 'user-42' && r.token.scopeHeader === 'orders:read', 'subject and scopes');
});

t.test('a revoked token is refused once its cache entry expires', async (t) => {
  const idp = await startIdp(t);
  const i = make(t, idp, { cacheTtlS: 1 });
  const token = await clientToken(t, idp);
  t.equal(codeOf(await check(i, token)), 'ok');
  t.equal(await revoke(idp, token), 200, 'revoked at the server');
  t.equal(codeOf(await check(i, token)), 'ok', 'still served from the cache');
  await sleep(1100);
  t.equal(codeOf(await check(i, token)), ERR_AUTH_TOKEN_INACTIVE, 'refused after the cache entry expired');
  t.equal(idp.introspections, 2);
});

t.test('a garbage token is inactive', async (t) => {
  const idp = await startIdp(t);
  const r = await check(make(t, idp), 'not-a-token-the-server-issued');
  t.equal(codeOf(r), ERR_AUTH_TOKEN_INACTIVE);
  t.ok(!r.ok && r.error.status === 401);
});

t.test('call counts at the server', async (t) => {
  const idp = await startIdp(t);
  const i = make(t, idp);
  const one = await clientToken(t, idp);
  for (let n = 0; n < 50; n++) t.equal(codeOf(await check(i, one)), 'ok');
  t.equal(idp.introspections, 1, '50 sequential requests with one token: 1 call');

  const fresh = await clientToken(t, idp);
  const concurrent = await Promise.all(Array.from({ length: 20 }, () => check(i, fresh)));
  t.ok(concurrent.every((r) => r.ok));
  t.equal(idp.introspections, 2, '20 concurrent first requests with a new token: 1 call');

  const garbage = 'garbage-token-0123456789';
  const refused = [
    ...(await Promise.all(Array.from({ length: 10 }, () => check(i, garbage)))),
    ...(await Promise.all(Array.from({ length: 10 }, () => check(i, garbage)))),
  ];
  t.ok(refused.every((r) => codeOf(r) === ERR_AUTH_TOKEN_INACTIVE));
  t.ok(idp.introspections - 2 <= 1, `20 requests with one garbage token within the negative TTL: ${idp.introspections - 2} call`);
});

t.test('the server rejects scopegate\'s client secret: 503 within the timeout', async (t) => {
  const idp = await startIdp(t);
  const token = await clientToken(t, idp);
  const i = make(t, idp, { clientSecret: 'not-the-secret' });
  const started = Date.now();
  const r = await check(i, token);
  t.equal(reasonOf(r), 'HTTP 401');
  t.ok(!r.ok && r.error.status === 503);
  t.ok(Date.now() - started < 2000);
});

t.test('the server is slow past timeout_ms: 503 within timeout + 1 s, not cached', async (t) => {
  const idp = await startIdp(t);
  const token = await clientToken(t, idp);
  const i = make(t, idp, { timeoutMs: 500 });
  idp.delayMs = 3000;
  const started = Date.now();
  const r = await check(i, token);
  t.equal(reasonOf(r), 'timeout');
  t.ok(Date.now() - started < 1500, `answered after ${Date.now() - started} ms`);
  idp.delayMs = 0;
  t.equal(codeOf(await check(i, token)), 'ok', 'the next request asks again');
});

t.test('the server is down: 503 within timeout + 1 s', async (t) => {
  const i = make(t, await closedPortEndpoint());
  const started = Date.now();
  const r = await check(i, 'some-opaque-token');
  t.match(reasonOf(r), /^unreachable/);
  t.ok(Date.now() - started < 2000);
});

t.test('max_in_flight exceeded: 503 without a call', async (t) => {
  const idp = await startIdp(t);
  const [a, b] = [await clientToken(t, idp), await clientToken(t, idp)];
  const i = make(t, idp, { maxInFlight: 1, timeoutMs: 3000 });
  idp.delayMs = 300;
  const first = i.introspect(a);
  const second = await check(i, b);
  t.equal(reasonOf(second), 'overloaded');
  t.equal(codeOf(await first), 'ok');
  t.equal(idp.introspections, 1, 'the refused token never reached the server');
});

t.test('nothing printed or handed out carries a token or a secret', async (t) => {
  const texts = [...captured, ...handedOut];
  t.ok(issuedTokens.length >= 8 && texts.length > 0, 'tokens were issued and output captured');
  const leaks = texts.filter((s) => issuedTokens.some((tok) => s.includes(tok)) || s.includes(GATE_SECRET) || s.includes(APP_SECRET) || s.includes(basicCredentials(GATE_ID, GATE_SECRET).slice(6)));
  t.same(leaks.length, 0, 'no token or secret in any captured line');
});
