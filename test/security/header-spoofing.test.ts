/**
 * Bypass class: header spoofing — the upstream trusts a header the client wrote.
 *
 * Covered: client-sent identity headers in every spelling a gateway folds to one
 * variable (CGI/RFC 3875 §4.1.18 HTTP_* mapping, nginx underscores_in_headers;
 * the "X-Forwarded-User"/"Remote-User" class, e.g. CVE-2022-31813 in Apache
 * mod_proxy's Connection-named header removal); RFC 9110 §7.6.1 hop-by-hop and
 * Connection-named headers (and `Connection: authorization` never strips the
 * credential); path-rewrite headers trusted by IIS/Symfony/Zend
 * (X-Original-URL / X-Rewrite-URL, CVE-2018-14773); RFC 7239 Forwarded and
 * X-Forwarded-* forgery; RFC 9112 §3.2 duplicate or missing Host (400).
 */
import t from 'tap';
import { get, startWorld } from './fixture.js';

const SUBJECT_SPELLINGS = ['x-auth-subject', 'X-Auth-Subject', 'X-AUTH-SUBJECT', 'x_auth_subject', 'X_Auth_Subject', 'x.auth.subject', 'x~auth~subject', 'X-Auth_Subject', "x'auth'subject", 'x!auth!subject'];
const SCOPES_SPELLINGS = ['x-auth-scopes', 'X_AUTH_SCOPES', 'x.auth.scopes', 'X-Auth~Scopes'];
const REWRITE = ['X-Original-URL', 'x-original-url', 'X_Original_URL', 'X-Rewrite-URL', 'x_rewrite_url', 'X.Rewrite.Url'];

function names(raw: readonly string[] | undefined): string[] {
  return (raw ?? []).filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
}

t.test('header spoofing over raw sockets against scopegate serve', async (t) => {
  const w = await startWorld();
  t.teardown(() => w.close());
  const reader = w.token('items:read');

  t.test('positive control: ordinary headers pass; identity comes from the verified token only', async (t) => {
    const r = await w.probe(get('/api/items/1', `Authorization: Bearer ${reader}`, 'X-Trace: keep', 'Accept: application/json'));
    t.equal(r.first?.status, 200);
    const seen = r.delta[0]!;
    t.equal(seen.headers['x-trace'], 'keep');
    t.equal(seen.headers['x-auth-subject'], 'user-1');
    t.equal(seen.headers['x-auth-scopes'], 'items:read');
  });

  t.test(`client identity headers are stripped in every spelling (${SUBJECT_SPELLINGS.length + SCOPES_SPELLINGS.length} spellings × public and scoped routes)`, async (t) => {
    for (const name of [...SUBJECT_SPELLINGS, ...SCOPES_SPELLINGS]) {
      const pub = await w.probe(get('/public/a', `${name}: root`));
      t.equal(pub.first?.status, 200, name);
      const leaked = names(pub.delta[0]?.rawHeaders).filter((n) => /auth.?s(ubject|copes)/.test(n));
      t.same(leaked, [], `${name}: nothing identity-like reaches the upstream of a public route`);
      const scoped = await w.probe(get('/api/items/1', `${name}: root`, `Authorization: Bearer ${reader}`));
      t.equal(scoped.first?.status, 200);
      const raw = scoped.delta[0]!.rawHeaders;
      const ids = raw.flatMap((v, i) => (i % 2 === 0 && /auth.?s(ubject|copes)/i.test(v) ? [`${v.toLowerCase()}=${raw[i + 1]}`] : []));
      t.same(ids.sort(), ['x-auth-scopes=items:read', 'x-auth-subject=user-1'], `${name}: only the verified identity, once`);
    }
  });

  t.test('path-rewrite headers (X-Original-URL / X-Rewrite-URL) never reach the upstream', async (t) => {
    for (const name of REWRITE) {
      const r = await w.probe(get('/public/a', `${name}: /admin/x`));
      t.equal(r.first?.status, 200, name);
      t.equal(r.delta[0]?.url, '/public/a');
      t.same(names(r.delta[0]?.rawHeaders).filter((n) => /original|rewrite/.test(n)), [], `${name} stripped`);
    }
  });

  t.test('Forwarded / X-Forwarded-* forgeries: Forwarded dropped, Proto and Host replaced, For appended', async (t) => {
    const r = await w.probe(get('/public/a', 'Forwarded: for=10.0.0.1;proto=https;host=admin.internal', 'X-Forwarded-Proto: https', 'X-Forwarded-Host: admin.internal', 'X-Forwarded-For: 10.0.0.1', 'X_Forwarded_Host: admin.internal'));
    const seen = r.delta[0]!;
    t.notOk('forwarded' in seen.headers);
    t.equal(seen.headers['x-forwarded-proto'], 'http');
    t.equal(seen.headers['x-forwarded-host'], 'scopegate.test');
    t.equal(seen.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
    t.same(names(seen.rawHeaders).filter((n) => n === 'x_forwarded_host'), [], 'underscore spelling stripped too');
  });

  t.test('hop-by-hop and Connection-named headers are removed; Authorization and Host are immune', async (t) => {
    const r = await w.probe(get('/api/items/1', 'Connection: keep-alive, X-Drop-Me, authorization, host, X-Auth-Subject', 'X-Drop-Me: 1', 'Keep-Alive: timeout=5', 'Proxy-Connection: keep-alive', 'TE: trailers', 'Trailer: X-T', 'Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAAQAAP__', 'Proxy-Authorization: Basic dTpw', `Authorization: Bearer ${reader}`));
    t.equal(r.first?.status, 200);
    const seen = r.delta[0]!;
    const got = names(seen.rawHeaders);
    for (const h of ['x-drop-me', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'http2-settings', 'proxy-authorization']) t.notOk(got.includes(h), `${h} removed`);
    t.equal(seen.headers['authorization'], `Bearer ${reader}`, 'Connection: authorization does not strip the credential');
    t.equal(seen.headers['host'], 'scopegate.test');
    t.equal(seen.headers['x-auth-subject'], 'user-1', 'our identity header is added after the Connection pass');
  });

  t.test('duplicate Host: 400 JSON, never forwarded (RFC 9112 §3.2)', async (t) => {
    for (const [a, b] of [['Host: a.test', 'Host: b.test'], ['Host: a.test', 'host: a.test'], ['HOST: a.test', 'Host: admin.internal']]) {
      const r = await w.probe(`GET /public/a HTTP/1.1\r\n${a}\r\nX-Mid: 1\r\n${b}\r\n\r\n`);
      t.equal(r.first?.status, 400, `${a} + ${b}`);
      t.same(r.first?.json, { error: 'invalid_request', error_description: 'more than one Host header' });
      t.equal(r.delta.length, 0);
    }
  });

  t.test('HTTP/1.1 without Host: 400 JSON, never forwarded; HTTP/1.0 without Host is served', async (t) => {
    for (const bytes of ['GET /public/a HTTP/1.1\r\nX-A: 1\r\n\r\n', 'GET /admin/x HTTP/1.1\r\n\r\n']) {
      const r = await w.probe(bytes);
      t.equal(r.first?.status, 400);
      t.same(r.first?.json, { error: 'invalid_request', error_description: 'an HTTP/1.1 request needs a Host header' });
      t.equal(r.delta.length, 0);
    }
    const old = await w.probe('GET /public/a HTTP/1.0\r\n\r\n');
    t.equal(old.first?.status, 200, 'HTTP/1.0 does not require Host (RFC 9112 §3.2)');
    t.equal(old.delta.length, 1);
  });

  t.test('malformed header lines are refused by the strict parser', async (t) => {
    for (const line of ['X-Auth-Subject : root', ' X-Auth-Subject: root', 'X Auth: 1', 'X-A\x00: 1', 'X-A: a\x00b', 'X-A: a\rb', ': novalue', 'X-Auth-Subject\t: root']) {
      const r = await w.probe(get('/public/a', line));
      t.equal(r.first?.status, 400, JSON.stringify(line));
      t.same(r.first?.json, { error: 'invalid_request', error_description: 'malformed HTTP request' });
      t.equal(r.delta.length, 0);
    }
  });
});
