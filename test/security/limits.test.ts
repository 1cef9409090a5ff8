/**
 * Limits that are not about one request's size: time (slowloris), key fetching,
 * caches and upstream connections. Each at its boundary.
 *
 *  - limits.headers_timeout_ms / limits.request_timeout_ms → 408 (slowloris,
 *    CVE-2007-6750 class; Node's headersTimeout/requestTimeout),
 *  - auth.jwks.max_bytes and auth.jwks.timeout_ms (a hostile or slow JWKS endpoint
 *    cannot exhaust memory or stall verification; RFC 8725 §3.10 trust in keys),
 *    and the 64-keys-per-set cap,
 *  - auth.token_cache_size (the verified-token cache never exceeds it),
 *  - upstream.connections (the undici pool never opens more; excess requests queue).
 */
import t from 'tap';
import { createServer } from 'node:http';
import { startJwksServer } from '../helpers/jwks-server.js';
import { generateKey, jwkOf } from '../helpers/keys.js';
import { claims, signToken, testAuthConfig } from '../helpers/tokens.js';
import { rawExchange } from '../helpers/raw.js';
import { createTokenVerifier } from '../../src/auth/verify.js';
import { KeysUnavailableError } from '../../src/errors.js';
import type { VerifyResult } from '../../src/auth/types.js';
import { get, req, startWorld, ISSUER, AUD } from './fixture.js';

/** Node checks headersTimeout/requestTimeout only every connectionsCheckingInterval (default 30 s; server.ts does not set it). */
const NODE_CHECK_INTERVAL_MS = 30_000;

t.test('slowloris: headers_timeout_ms 1000, request_timeout_ms 2000', async (t) => {
  const w = await startWorld({ extra: 'limits:\n  headers_timeout_ms: 1000\n  request_timeout_ms: 2000\n' });
  t.teardown(() => w.close());
  // Both stalls start now and are awaited last, so their (long) wait overlaps the rest of the file.
  const t0 = Date.now();
  const headStall = rawExchange(w.port, 'GET /public/a HTTP/1.1\r\nHost: scopegate.test\r\nX-Slow: ', { maxMs: NODE_CHECK_INTERVAL_MS + 15_000 });
  const bodyStall = rawExchange(w.port, req('POST', '/public/a', ['Content-Length: 10'], 'hello'), { maxMs: NODE_CHECK_INTERVAL_MS + 15_000, expect: 1 });

  t.test('just under: headers trickled over ~600 ms complete and are forwarded', async (t) => {
    const r = await rawExchange(w.port, '', { chunks: ['GET /public/a HTTP/1.1\r\n', 'Host: scopegate.test\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n', '\r\n'], gapMs: 150 });
    t.equal(r.first?.status, 200);
  });

  t.test('over: a stalled head gets 408 and the connection is closed; the upstream sees nothing', async (t) => {
    const before = w.upstream.count;
    const r = await headStall;
    const elapsed = Date.now() - t0;
    t.equal(r.first?.status, 408);
    t.equal(r.first?.json?.error, 'invalid_request');
    t.ok(r.closed);
    t.ok(elapsed >= 1000, `not before headers_timeout_ms (${elapsed} ms)`);
    t.ok(elapsed <= 1000 + NODE_CHECK_INTERVAL_MS + 5000, `within headers_timeout_ms + Node's 30 s check interval (${elapsed} ms)`);
    t.comment(`stalled head answered 408 after ${elapsed} ms (headers_timeout_ms = 1000)`);
    t.equal(w.upstream.count, before);
  });

  t.test('over: a stalled body is cut after request_timeout_ms', async (t) => {
    const r = await bodyStall;
    const elapsed = Date.now() - t0;
    t.ok(r.closed, 'connection closed');
    t.ok(r.first === undefined || r.first.status === 408, `408 or a cut connection (got ${r.first?.status})`);
    t.ok(elapsed >= 2000, `not before request_timeout_ms (${elapsed} ms)`);
    t.ok(w.upstream.requests.every((x) => x.bodyBytes < 10), 'the upstream never received a complete body');
  });
});

t.test('slowloris timeouts fire within ~1 s of the configured value', async (t) => {
  const w = await startWorld({ extra: 'limits:\n  headers_timeout_ms: 1000\n  request_timeout_ms: 2000\n' });
  t.teardown(() => w.close());
  const t0 = Date.now();
  const r = await rawExchange(w.port, 'GET /public/a HTTP/1.1\r\nHost: x\r\n', { maxMs: 4000 });
  t.equal(r.first?.status, 408);
  t.ok(Date.now() - t0 < 2500);
  t.equal(r.first?.json?.error_description, 'request timeout', 'and a body that says so (server.ts clientError says "malformed HTTP request" for a timeout)');
});

t.test('JWKS limits: max_bytes and timeout_ms at the boundary, 64 keys per set', async (t) => {
  const key = generateKey('ed25519');
  const token = signToken(key, claims(ISSUER, AUD, { scope: 'items:read' }));
  const jwks = await startJwksServer({ keys: [jwkOf(key)] });
  t.teardown(() => jwks.close());
  const MAX = 2048;
  const fetchWith = async (over: { maxBytes?: number; timeoutMs?: number }): Promise<{ result: VerifyResult; hooks: string[] }> => {
    const hooks: string[] = [];
    const v = createTokenVerifier(
      testAuthConfig([{ issuer: ISSUER, jwksUri: jwks.jwksUri }], { jwks: { maxBytes: MAX, ...over, cooldownS: 1 } }),
      { onJwksFetch: (_i, result, detail) => hooks.push(`${result}: ${detail ?? ''}`) },
    );
    await v.start();
    const result = await v.verify(token);
    await v.close();
    return { result, hooks };
  };
  const padded = (bytes: number): string => {
    const doc = JSON.stringify({ keys: [jwkOf(key)] });
    return doc.slice(0, -1) + ' '.repeat(bytes - doc.length) + '}';
  };

  jwks.setMode({ kind: 'garbage', body: padded(MAX) });
  const exact = await fetchWith({});
  t.equal(exact.result.ok, true, `a ${MAX}-byte JWKS (the limit) is accepted`);
  jwks.setMode({ kind: 'garbage', body: padded(MAX + 1) });
  const over = await fetchWith({});
  t.equal(over.result.ok, false, `${MAX + 1} bytes (Content-Length) is refused`);
  t.ok(!over.result.ok && over.result.error instanceof KeysUnavailableError, 'no keys: 503 keys_unavailable, never a pass');
  t.match(over.hooks.join('\n'), /rejected: (Content-Length 2049 exceeds|body exceeds) 2048 bytes/);
  jwks.setMode({ kind: 'oversized', bytes: MAX + 1, declareLength: true });
  const declared = await fetchWith({});
  t.equal(declared.result.ok, false, 'a declared Content-Length over the limit is refused before the body is read');
  t.match(declared.hooks.join('\n'), /rejected: Content-Length 2049 exceeds 2048 bytes/);
  jwks.setMode({ kind: 'oversized', bytes: MAX + 1, declareLength: false });
  const chunked = await fetchWith({});
  t.equal(chunked.result.ok, false, 'and without Content-Length (chunked), counted as it streams');
  t.match(chunked.hooks.join('\n'), /rejected: body exceeds 2048 bytes/);

  jwks.setMode({ kind: 'ok' });
  jwks.setDelay(100);
  const fast = await fetchWith({ timeoutMs: 600 });
  t.equal(fast.result.ok, true, 'a JWKS answered in 100 ms with timeout_ms 600 is used');
  jwks.setDelay(1200);
  const started = Date.now();
  const slow = await fetchWith({ timeoutMs: 600 });
  t.equal(slow.result.ok, false, 'a JWKS slower than timeout_ms is abandoned');
  t.ok(Date.now() - started < 1150 * 2, `and the verifier did not wait for it (${Date.now() - started} ms for start + verify)`);
  t.match(slow.hooks.join('\n'), /failure/);
  jwks.setDelay(0);

  // More than 64 keys: the first 64 are used, the rest ignored (src/auth/jwks.ts MAX_KEYS).
  const many = Array.from({ length: 70 }, (_, i) => ({ ...jwkOf(key), kid: `k${i}` }));
  jwks.setJwks({ keys: many });
  const v = createTokenVerifier(testAuthConfig([{ issuer: ISSUER, jwksUri: jwks.jwksUri }]));
  await v.start();
  t.equal((await v.verify(signToken({ ...key, kid: 'k63' }, claims(ISSUER, AUD)))).ok, true, 'key #64 is usable');
  const k64 = await v.verify(signToken({ ...key, kid: 'k64' }, claims(ISSUER, AUD)));
  t.equal(k64.ok, false, 'key #65 is ignored');
  await v.close();
});

t.test('token_cache_size: the verified-token cache holds at most its size', async (t) => {
  const key = generateKey('ed25519');
  const jwks = await startJwksServer({ keys: [jwkOf(key)] });
  t.teardown(() => jwks.close());
  const SIZE = 50;
  const v = createTokenVerifier(testAuthConfig([{ issuer: ISSUER, jwksUri: jwks.jwksUri }], { tokenCacheSize: SIZE }));
  await v.start();
  const tokens = Array.from({ length: 80 }, (_, i) => signToken(key, claims(ISSUER, AUD, { jti: `t${i}` })));
  for (const [i, tok] of tokens.entries()) {
    t.equal((await v.verify(tok)).ok, true);
    if (i === SIZE - 1) t.equal(v.cacheStats().size, SIZE, 'just under/at the size: every token cached');
  }
  t.equal(v.cacheStats().size, SIZE, `80 tokens: the cache holds exactly ${SIZE}`);
  const { hits, misses } = v.cacheStats();
  for (const tok of tokens.slice(-SIZE)) await v.verify(tok);
  t.equal(v.cacheStats().hits - hits, SIZE, 'the most recent 50 are hits');
  await v.verify(tokens[0]!);
  t.equal(v.cacheStats().misses - misses, 1, 'the evicted first token is verified again');
  await v.close();
});

t.test('upstream.connections 2: never more than 2 upstream connections; excess requests queue and complete', async (t) => {
  const w = await startWorld({ upstreamConnections: 2 });
  t.teardown(() => w.close());
  let inFlight = 0;
  let peak = 0;
  let sockets = 0;
  w.upstream.server.on('connection', () => sockets++);
  w.upstream.handle = async (_req, res, rec) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await rec.bodyDone;
    await new Promise((r) => setTimeout(r, 150));
    inFlight--;
    res.end('ok');
  };
  const N = 6;
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: N }, () => rawExchange(w.port, get('/public/a'), { maxMs: 10_000 })));
  t.same(results.map((r) => r.first?.status), Array(N).fill(200), 'all complete');
  t.equal(peak, 2, 'just at the limit: 2 requests in flight at once, never 3');
  t.ok(sockets <= 2, `upstream connections opened: ${sockets}`);
  t.ok(Date.now() - started >= 150 * (N / 2) - 50, 'the excess waited in the pool');
});

t.test('max_connections: the connection past the limit is closed, those within it are served', async (t) => {
  const w = await startWorld({ extra: 'limits:\n  max_connections: 2\n' });
  t.teardown(() => w.close());
  const { connect } = await import('node:net');
  const open = async () => {
    const s = connect(w.port, '127.0.0.1');
    await new Promise((resolve, reject) => s.once('connect', resolve).once('error', reject));
    return s;
  };
  // Two idle keep-alive connections fill the limit.
  const a = await open();
  const b = await open();
  t.teardown(() => {
    a.destroy();
    b.destroy();
  });
  await new Promise((r) => setTimeout(r, 100));
  const over = await rawExchange(w.port, get('/public/a'), { maxMs: 2000 });
  t.ok(over.closed && over.first === undefined, 'the third connection is closed without a response');
  a.destroy();
  await new Promise((r) => setTimeout(r, 100));
  const within = await rawExchange(w.port, get('/public/a'));
  t.equal(within.first?.status, 200, 'with a slot free, a new connection is served');
});
