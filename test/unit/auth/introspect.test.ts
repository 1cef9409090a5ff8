import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t, { type Test } from 'tap';
import { basicCredentials, MAX_RESPONSE_BYTES } from '../../../src/auth/introspect-call.js';
import {
  createIntrospector,
  ERR_AUTH_TOKEN_INACTIVE,
  IntrospectionUnavailableError,
  isJwsCompact,
  tokenCacheKey,
  type IntrospectionCallResult,
  type Introspector,
  type IntrospectorOptions,
} from '../../../src/auth/introspect.js';
import type { VerifyResult } from '../../../src/auth/types.js';
import { KeysUnavailableError, TokenError } from '../../../src/errors.js';
import {
  closedPortEndpoint,
  startIntrospectionServer,
  startSilentServer,
  type IntrospectionServer,
} from '../../helpers/introspection-server.js';

// Forced full GCs while a call waits on a silent peer: the deadline must survive them.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const SECRET = 'pa ss:w+rd/%&="~*';
const CLIENT_ID = 'scope gate';
const nowS = () => Math.floor(Date.now() / 1000);
const token = (n: number | string) => `opaque-token-${n}-${'x'.repeat(24)}`;

type Calls = { result: IntrospectionCallResult; detail: string | undefined }[];

function make(t: Test, endpoint: string, overrides: Partial<IntrospectorOptions> = {}): { i: Introspector; calls: Calls } {
  const calls: Calls = [];
  const i = createIntrospector({
    endpoint,
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    cacheTtlS: 60,
    negativeCacheTtlS: 5,
    timeoutMs: 500,
    maxInFlight: 8,
    cacheSize: 100,
    maxTokenBytes: 4096,
    onCall: (result, seconds, detail) => {
      t.ok(seconds >= 0 && seconds < 10, 'duration in seconds');
      calls.push({ result, detail });
    },
    ...overrides,
  });
  t.teardown(() => i.close());
  return { i, calls };
}

async function server(t: Test): Promise<IntrospectionServer> {
  const s = await startIntrospectionServer();
  t.teardown(() => s.close());
  return s;
}

function codeOf(r: VerifyResult): string {
  return r.ok ? 'ok' : r.error.code;
}

/** Asserts a 503 refusal; returns its reason and Retry-After. */
function unavailable(t: Test, r: VerifyResult): { reason: string; retryAfterS: number } {
  t.notOk(r.ok, 'refused');
  if (r.ok) return { reason: 'ok', retryAfterS: 0 };
  t.ok(r.error instanceof IntrospectionUnavailableError, 'an IntrospectionUnavailableError');
  t.ok(r.error instanceof KeysUnavailableError, 'mapped like unavailable keys (503)');
  t.equal(r.error.status, 503);
  const e = r.error as IntrospectionUnavailableError;
  t.equal(e.dependency, 'introspection');
  t.ok(Number.isInteger(e.retryAfterS) && e.retryAfterS >= 1, 'Retry-After is whole seconds ≥ 1');
  return { reason: e.reason, retryAfterS: e.retryAfterS };
}

function unavailableReason(t: Test, r: VerifyResult): string {
  return unavailable(t, r).reason;
}

t.test('isJwsCompact: three base64url segments, header and payload non-empty', async (t) => {
  for (const s of ['a.b.c', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln', 'a.b.', 'A-_.0-9.zz']) t.ok(isJwsCompact(s), s);
  for (const s of ['', 'abc', 'a.b', 'ory_at_abc.def', '.b.c', 'a..c', 'a.b.c.d', 'a.b.c.d.e', 'a+b.c.d', 'a.b.c=', 'a.b/c.d', 'a b.c.d']) {
    t.notOk(isJwsCompact(s), JSON.stringify(s));
  }
});

t.test('client_secret_basic: id and secret form-encoded, then Base64 (RFC 6749 §2.3.1)', async (t) => {
  const header = basicCredentials(CLIENT_ID, SECRET);
  t.match(header, /^Basic [A-Za-z0-9+/]+=*$/);
  const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
  t.equal(decoded, 'scope+gate:pa+ss%3Aw%2Brd%2F%25%26%3D%22%7E*');
});

t.test('the call: POST, form body with token and hint, Basic credentials; an active answer becomes a token', async (t) => {
  const s = await server(t);
  const exp = nowS() + 300;
  s.answer = () => ({ active: true, scope: 'orders:read  orders:write orders:read', sub: 'user-42', client_id: 'app', exp, iat: exp - 600, iss: 'https://idp.example/', token_type: 'Bearer' });
  const { i, calls } = make(t, `${s.endpoint}?tenant=a`);
  const r = await i.introspect(token(1));
  t.equal(s.calls.length, 1);
  const call = s.calls[0]!;
  t.equal(call.method, 'POST');
  t.equal(call.url, '/oauth2/introspect?tenant=a');
  t.equal(call.headers['content-type'], 'application/x-www-form-urlencoded');
  t.equal(call.headers.authorization, basicCredentials(CLIENT_ID, SECRET));
  t.same([...call.form.keys()], ['token', 'token_type_hint']);
  t.equal(call.form.get('token'), token(1));
  t.equal(call.form.get('token_type_hint'), 'access_token');
  t.ok(r.ok);
  if (!r.ok) return;
  t.same(r.token.scopes, ['orders:read', 'orders:write'], 'space-delimited, de-duplicated');
  t.ok(r.token.scopeSet.has('orders:write'));
  t.equal(r.token.scopeHeader, 'orders:read orders:write');
  t.equal(r.token.subject, 'user-42');
  t.equal(r.token.clientId, 'app');
  t.equal(r.token.expiresAt, exp);
  t.equal(r.token.issuedAt, exp - 600);
  t.equal(r.token.issuer, 'https://idp.example/');
  t.equal(r.token.keyId, 'introspection');
  t.same(calls, [{ result: 'active', detail: undefined }]);
});

t.test('active without sub, scope, exp or iss: no subject, no scopes, expiry at the cache horizon', async (t) => {
  const s = await server(t);
  s.answer = () => ({ active: true });
  const { i } = make(t, s.endpoint, { cacheTtlS: 30, issuer: 'https://idp.example/' });
  const before = nowS();
  const r = await i.introspect(token(2));
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.token.subject, undefined);
  t.same(r.token.scopes, []);
  t.equal(r.token.issuer, 'https://idp.example/', 'configured issuer when the answer has none');
  t.ok(r.token.expiresAt >= before + 30 && r.token.expiresAt <= nowS() + 30);
});

t.test('refusals are 401 invalid_token and cached for the negative TTL', async (t) => {
  const s = await server(t);
  const past = nowS() - 1;
  const cases: [string, Record<string, unknown>, string][] = [
    ['inactive', { active: false }, ERR_AUTH_TOKEN_INACTIVE],
    ['exp in the past', { active: true, exp: past }, 'ERR_AUTH_TOKEN_EXPIRED'],
    ['exp not a number', { active: true, exp: '9999999999' }, 'ERR_AUTH_TOKEN_BAD_CLAIM'],
    ['exp beyond the Date range', { active: true, exp: 1e300 }, 'ERR_AUTH_TOKEN_BAD_CLAIM'],
    ['other issuer', { active: true, iss: 'https://evil.example/' }, 'ERR_AUTH_TOKEN_ISSUER'],
    ['iss not a string', { active: true, iss: 7 }, 'ERR_AUTH_TOKEN_BAD_CLAIM'],
    ['other audience', { active: true, aud: 'https://other.example' }, 'ERR_AUTH_TOKEN_AUDIENCE'],
    ['no accepted audience in a list', { active: true, aud: ['a', 'b'] }, 'ERR_AUTH_TOKEN_AUDIENCE'],
    ['aud of the wrong type', { active: true, aud: [1] }, 'ERR_AUTH_TOKEN_BAD_CLAIM'],
    ['scope with a quote', { active: true, scope: 'a "b' }, 'ERR_AUTH_TOKEN_BAD_CLAIM'],
    ['scope not a string', { active: true, scope: ['a'] }, 'ERR_AUTH_TOKEN_BAD_CLAIM'],
    ['sub with CR LF', { active: true, sub: 'u\r\nx-admin: 1' }, 'ERR_AUTH_TOKEN_BAD_CLAIM'],
  ];
  const answers = new Map(cases.map(([name, body], n) => [token(`r${n}`), body] as const));
  s.answer = (form) => answers.get(form.get('token') ?? '') ?? { active: false };
  const { i, calls } = make(t, s.endpoint, { issuer: 'https://idp.example/', audiences: ['https://api.example', 'x'] });
  for (const [n, [name, , code]] of cases.entries()) {
    const r = await i.introspect(token(`r${n}`));
    t.equal(codeOf(r), code, name);
    t.ok(!r.ok && r.error instanceof TokenError && r.error.status === 401, `${name}: a 401`);
    t.equal(codeOf(await i.introspect(token(`r${n}`))), code, `${name}: again, from the cache`);
  }
  t.equal(s.calls.length, cases.length, 'one call per token');
  t.same(calls.map((c) => c.result), cases.map(([name]) => (name === 'inactive' ? 'inactive' : 'active')), 'the metric says what the endpoint answered');
});

t.test('iss and aud checks pass when they match or when the answer carries none', async (t) => {
  const s = await server(t);
  const bodies: Record<string, unknown>[] = [
    { active: true, iss: 'https://idp.example/', aud: ['z', 'https://api.example'] },
    { active: true, aud: 'https://api.example' },
    { active: true },
  ];
  s.answer = (form) => bodies[Number(form.get('token')!.split('-')[2])]!;
  const { i } = make(t, s.endpoint, { issuer: 'https://idp.example/', audiences: ['https://api.example'] });
  for (const n of [0, 1, 2]) t.equal(codeOf(await i.introspect(token(n))), 'ok', JSON.stringify(bodies[n]));
});

t.test('endpoint failures are 503 with Retry-After, never cached, counted as errors', async (t) => {
  const s = await server(t);
  const big = JSON.stringify({ active: true, pad: 'x'.repeat(MAX_RESPONSE_BYTES) });
  const answers: [string, ReturnType<IntrospectionServer['answer']>, string][] = [
    ['500', { status: 500, raw: '{"active":true}' }, 'HTTP 500'],
    ['401 (client secret refused)', { status: 401, raw: '{"error":"invalid_client"}' }, 'HTTP 401'],
    ['not JSON', { status: 200, raw: '<html>ok</html>' }, 'response is not JSON'],
    ['a JSON array', { status: 200, raw: '[true]' }, 'response is not a JSON object'],
    ['no active member', { status: 200, raw: '{"scope":"a"}' }, 'not an introspection response'],
    ['active as a string', { status: 200, raw: '{"active":"true"}' }, 'not an introspection response'],
    ['too large, declared', { status: 200, raw: big }, 'response too large'],
    ['too large, chunked', { status: 200, raw: big, headers: { 'transfer-encoding': 'chunked' } }, 'response too large'],
  ];
  let current = 0;
  s.answer = () => answers[current]![1];
  const { i, calls } = make(t, s.endpoint, { timeoutMs: 1500 });
  for (const [n, [name, , reason]] of answers.entries()) {
    current = n;
    const before = s.calls.length;
    const r = await i.introspect(token('same'));
    t.same(unavailable(t, r), { reason, retryAfterS: 2 }, `${name}; Retry-After is the timeout, rounded up`);
    await i.introspect(token('same'));
    t.equal(s.calls.length, before + 2, `${name}: not cached, asked again`);
  }
  t.ok(calls.every((c) => c.result === 'error'), 'every call counted as error');
});

t.test('50 sequential requests with one token: one call, served synchronously from the cache', async (t) => {
  const s = await server(t);
  s.answer = () => ({ active: true, scope: 'a' });
  const { i, calls } = make(t, s.endpoint);
  t.ok(i.introspect(token(3)) instanceof Promise, 'a miss calls');
  for (let n = 0; n < 50; n++) {
    const r = await i.introspect(token(3));
    t.equal(codeOf(r), 'ok');
  }
  const hit = i.introspect(token(3));
  t.notOk(hit instanceof Promise, 'a hit is synchronous');
  t.equal(s.calls.length, 1);
  t.equal(calls.length, 1, 'cache hits are not endpoint calls');
  t.equal(i.stats().hits, 50);
});

t.test('an active entry lives min(cache_ttl_s, exp - now)', async (t) => {
  const s = await server(t);
  const exp = nowS() + 2;
  s.answer = () => ({ active: true, exp });
  const { i } = make(t, s.endpoint, { cacheTtlS: 60 });
  t.equal(codeOf(await i.introspect(token(4))), 'ok');
  t.equal(codeOf(await i.introspect(token(4))), 'ok');
  t.equal(s.calls.length, 1);
  await sleep(exp * 1000 - Date.now() + 50);
  t.equal(codeOf(await i.introspect(token(4))), 'ERR_AUTH_TOKEN_EXPIRED', 'asked again at exp; the same answer is now expired');
  t.equal(s.calls.length, 2);
});

t.test('cache_ttl_s caps an active entry; negative_cache_ttl_s a refusal', async (t) => {
  const s = await server(t);
  s.answer = (form) => ({ active: form.get('token') === token('good') });
  const { i } = make(t, s.endpoint, { cacheTtlS: 1, negativeCacheTtlS: 1 });
  await i.introspect(token('good'));
  await i.introspect(token('bad'));
  await i.introspect(token('good'));
  await i.introspect(token('bad'));
  t.equal(s.calls.length, 2, 'both cached');
  await sleep(1100);
  t.equal(codeOf(await i.introspect(token('good'))), 'ok');
  t.equal(codeOf(await i.introspect(token('bad'))), ERR_AUTH_TOKEN_INACTIVE);
  t.equal(s.calls.length, 4, 'both asked again');
});

t.test('the cache is keyed by SHA-256 and bounded by cache_size', async (t) => {
  t.equal(tokenCacheKey('abc'), createHash('sha256').update('abc').digest('base64url'));
  const s = await server(t);
  s.answer = () => ({ active: true });
  const { i } = make(t, s.endpoint, { cacheSize: 2 });
  for (const n of [1, 2, 3, 3, 2]) await i.introspect(token(`c${n}`));
  t.equal(s.calls.length, 3, 'the two most recent stay');
  await i.introspect(token('c1'));
  t.equal(s.calls.length, 4, 'the oldest was evicted');
  t.equal(i.stats().size, 2);
});

t.test('garbage tokens cannot evict active entries', async (t) => {
  const s = await server(t);
  s.answer = (form) => ({ active: form.get('token') === token('live') });
  const { i } = make(t, s.endpoint, { cacheSize: 2 });
  await i.introspect(token('live'));
  for (let n = 0; n < 5; n++) await i.introspect(token(`junk${n}`));
  const before = s.calls.length;
  t.equal(codeOf(await i.introspect(token('live'))), 'ok');
  t.equal(s.calls.length, before, 'still cached');
});

t.test('cache_size 0: no cache, calls still shared', async (t) => {
  const s = await server(t);
  s.answer = () => ({ active: true });
  const { i } = make(t, s.endpoint, { cacheSize: 0 });
  await Promise.all(Array.from({ length: 5 }, () => i.introspect(token(5))));
  t.equal(s.calls.length, 1);
  await i.introspect(token(5));
  t.equal(s.calls.length, 2);
});

t.test('20 concurrent first requests with one token share one call', async (t) => {
  const s = await server(t);
  s.answer = () => ({ active: true, scope: 'a' });
  const { i } = make(t, s.endpoint);
  const results = await Promise.all(Array.from({ length: 20 }, () => i.introspect(token(6))));
  t.ok(results.every((r) => r.ok));
  t.equal(s.calls.length, 1);
});

t.test('beyond max_in_flight: 503 at once, nothing sent; joining a call in flight is free', async (t) => {
  const s = await server(t);
  s.answer = () => ({ active: true });
  s.hold();
  const { i } = make(t, s.endpoint, { maxInFlight: 2, timeoutMs: 5000 });
  const a = i.introspect(token('a'));
  const b = i.introspect(token('b'));
  while (s.calls.length < 2) await sleep(5);
  const c = i.introspect(token('c'));
  t.notOk(c instanceof Promise, 'refused synchronously');
  t.same(unavailable(t, c as VerifyResult), { reason: 'overloaded', retryAfterS: 1 });
  const joined = i.introspect(token('a'));
  t.equal(i.stats().inFlight, 2);
  s.release();
  t.same((await Promise.all([a, b, joined])).map(codeOf), ['ok', 'ok', 'ok']);
  t.equal(s.calls.length, 2, 'the refused token never reached the endpoint');
  t.equal(codeOf(await i.introspect(token('c'))), 'ok', 'a slot is free again');
});

t.test('a peer that accepts and never answers: 503 within the timeout, through forced GCs', async (t) => {
  const silent = await startSilentServer();
  t.teardown(() => silent.close());
  const { i, calls } = make(t, silent.endpoint, { timeoutMs: 300 });
  const started = Date.now();
  const pending = i.introspect(token(7));
  for (let n = 0; n < 3; n++) {
    await sleep(50);
    gc();
  }
  const r = await pending;
  const elapsed = Date.now() - started;
  t.equal(unavailableReason(t, r), 'timeout');
  t.ok(elapsed >= 280 && elapsed < 1300, `ended after ${elapsed} ms`);
  t.equal(silent.requests(), 1);
  t.same(calls, [{ result: 'error', detail: 'timeout' }]);
});

t.test('headers sent, body stalled: the deadline covers the body', async (t) => {
  const s = await server(t);
  s.answer = () => 'stall';
  const { i } = make(t, s.endpoint, { timeoutMs: 300 });
  const started = Date.now();
  const r = await i.introspect(token(8));
  t.equal(unavailableReason(t, r), 'timeout');
  t.ok(Date.now() - started < 1300);
});

t.test('endpoint down: 503, reason by error code', async (t) => {
  const { i } = make(t, await closedPortEndpoint());
  t.equal(unavailableReason(t, await i.introspect(token(9))), 'unreachable (ECONNREFUSED)');
});

t.test('malformed or oversized tokens are refused without a call', async (t) => {
  const s = await server(t);
  const { i } = make(t, s.endpoint, { maxTokenBytes: 300 });
  t.equal(codeOf(i.introspect('a b') as VerifyResult), 'ERR_AUTH_TOKEN_MALFORMED');
  t.equal(codeOf(i.introspect('tok"en') as VerifyResult), 'ERR_AUTH_TOKEN_MALFORMED');
  t.equal(codeOf(i.introspect('x'.repeat(301)) as VerifyResult), 'ERR_AUTH_TOKEN_TOO_LARGE');
  t.equal(s.calls.length, 0);
});

t.test('close(): calls in flight end as 503, later ones too', async (t) => {
  const silent = await startSilentServer();
  t.teardown(() => silent.close());
  const { i } = make(t, silent.endpoint, { timeoutMs: 10_000 });
  const pending = i.introspect(token(10));
  while (silent.requests() < 1) await sleep(5);
  await i.close();
  t.equal(unavailableReason(t, await pending), 'closed');
  t.equal(unavailableReason(t, await i.introspect(token(11))), 'closed');
});

t.test('no token and no secret in anything the module hands out', async (t) => {
  const s = await server(t);
  const secretToken = token('leak-check');
  const answers: ReturnType<IntrospectionServer['answer']>[] = [{ status: 401, raw: '{}' }, { active: false }, { active: true, exp: 1 }, { active: true, scope: 'a' }];
  let n = 0;
  s.answer = () => answers[n]!;
  const { i, calls } = make(t, s.endpoint, { cacheSize: 0 });
  const seen: string[] = [];
  for (n = 0; n < answers.length; n++) seen.push(inspect(await i.introspect(secretToken), { depth: 10, showHidden: true }));
  seen.push(inspect(calls), inspect(i.stats()));
  for (const text of seen) {
    t.notOk(text.includes(secretToken), 'no token');
    t.notOk(text.includes(SECRET) || text.includes(encodeURIComponent(SECRET)) || text.includes(basicCredentials(CLIENT_ID, SECRET)), 'no secret');
  }
});
