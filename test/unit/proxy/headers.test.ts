import t from 'tap';
import type { VerifiedToken } from '../../../src/auth/types.js';
import { createHeaderPolicy, filterResponseHeaders, foldHeaderName, type HeaderContext } from '../../../src/proxy/headers.js';

const token: VerifiedToken = {
  issuer: 'https://idp.test/',
  subject: 'alice',
  clientId: undefined,
  expiresAt: 4102444800,
  scopes: ['org:read', 'projects:write'],
  scopeSet: new Set(['org:read', 'projects:write']),
  scopeHeader: 'org:read projects:write',
  keyId: 'k',
  issuedAt: undefined,
};

const ctx: HeaderContext = { token, clientIp: '192.0.2.7', proto: 'https' };
const policy = createHeaderPolicy({ subject: 'X-Auth-Subject', scopes: 'x-auth-scopes' });

/** Lower-cased names → values (repeated names joined with '|'), for assertions. */
function asMap(flat: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < flat.length; i += 2) {
    const k = (flat[i] as string).toLowerCase();
    const v = flat[i + 1] as string;
    m.set(k, m.has(k) ? `${m.get(k)}|${v}` : v);
  }
  return m;
}

t.test('client identity headers are stripped in every spelling', async (t) => {
  const spellings = [
    'X-Auth-Subject', 'x-auth-subject', 'x_auth_subject', 'X_AUTH-SUBJECT', 'X-AUTH_SUBJECT', 'x-Auth-Scopes', 'X_AUTH_SCOPES',
    'X.Auth.Subject', 'x~auth~subject', "x'auth'scopes", 'X|Auth|Scopes', 'x!auth#subject',
  ];
  const raw = spellings.flatMap((s) => [s, 'mallory']);
  const out = policy.buildUpstreamHeaders(raw, { ...ctx, token: undefined });
  const names = out.filter((_, i) => i % 2 === 0).map((n) => foldHeaderName(n));
  t.notOk(names.includes('x-auth-subject'), JSON.stringify(out));
  t.notOk(names.includes('x-auth-scopes'));
  t.notOk(out.includes('mallory'));
});

t.test('foldHeaderName', async (t) => {
  t.equal(foldHeaderName('X-Auth-Subject'), 'x-auth-subject');
  t.equal(foldHeaderName('X_AUTH.subject'), 'x-auth-subject');
  t.equal(foldHeaderName('Content-MD5'), 'content-md5');
  const s = 'already-folded';
  t.equal(foldHeaderName(s), s);
});

t.test('identity headers are set from the verified token only', async (t) => {
  const out = asMap(policy.buildUpstreamHeaders(['x_auth_subject', 'mallory', 'Authorization', 'Bearer t'], ctx));
  t.equal(out.get('x-auth-subject'), 'alice');
  t.equal(out.get('x-auth-scopes'), 'org:read projects:write');
  t.equal(out.get('authorization'), 'Bearer t', 'Authorization forwarded unchanged');
  const anon = asMap(policy.buildUpstreamHeaders([], { ...ctx, token: undefined }));
  t.notOk(anon.has('x-auth-subject'), 'no token, no identity');
  const noSub = asMap(policy.buildUpstreamHeaders([], { ...ctx, token: { ...token, subject: undefined } }));
  t.notOk(noSub.has('x-auth-subject'));
  t.equal(noSub.get('x-auth-scopes'), 'org:read projects:write');
  const evil = asMap(policy.buildUpstreamHeaders([], { ...ctx, token: { ...token, subject: 'bob\r\nx-admin: 1' } }));
  t.notOk(evil.has('x-auth-subject'), 'an unsendable subject is omitted, never rewritten');
});

t.test('no identity headers configured: nothing set, nothing extra stripped', async (t) => {
  const plain = createHeaderPolicy({});
  const out = asMap(plain.buildUpstreamHeaders(['X-Auth-Subject', 'x'], ctx));
  t.equal(out.get('x-auth-subject'), 'x');
});

t.test('hop-by-hop headers are stripped', async (t) => {
  const hop = ['Connection', 'Keep-Alive', 'Proxy-Connection', 'TE', 'Trailer', 'Transfer-Encoding', 'Upgrade', 'Proxy-Authorization', 'Proxy-Authenticate', 'Expect'];
  const raw = hop.flatMap((h) => [h, h === 'Connection' ? 'keep-alive' : 'v']);
  raw.push('Accept', 'text/plain');
  const out = asMap(policy.buildUpstreamHeaders(raw, ctx));
  for (const h of hop) t.notOk(out.has(h.toLowerCase()), h);
  t.equal(out.get('accept'), 'text/plain');
});

t.test('headers named in Connection are removed, except Authorization/Host/Content-Length', async (t) => {
  const raw = [
    'X-Secret', 's',
    'Connection', 'close, X-Secret,  x_other , Authorization, Host, Content-Length, X-Auth-Subject, X-Forwarded-For',
    'X-Other', 'o',
    'Authorization', 'Bearer t',
    'Host', 'api.example.com',
    'Content-Length', '3',
    'X-Forwarded-For', '10.0.0.1',
    'Cookie', 'c=1',
    'Connection', 'cookie',
  ];
  const out = asMap(policy.buildUpstreamHeaders(raw, ctx));
  t.notOk(out.has('x-secret'));
  t.notOk(out.has('x-other'), 'Connection names are folded like the strip set');
  t.notOk(out.has('cookie'), 'second Connection header honoured');
  t.equal(out.get('authorization'), 'Bearer t', 'Connection cannot remove Authorization');
  t.equal(out.get('host'), 'api.example.com');
  t.equal(out.get('content-length'), '3');
  t.equal(out.get('x-auth-subject'), 'alice', 'Connection cannot remove headers we set');
  t.equal(out.get('x-forwarded-for'), '192.0.2.7', 'client XFF dropped by Connection; ours still set');
});

t.test('method-override and rewrite headers are stripped in every spelling', async (t) => {
  const names = [
    'X-HTTP-Method-Override', 'x_http_method_override', 'X-Http-Method', 'X_HTTP_METHOD', 'X-Method-Override', 'x_method-override',
    'X-Original-URL', 'x_original_url', 'X-Rewrite-Url', 'X_REWRITE_URL', 'Forwarded', 'X-Forwarded-Proto', 'X_Forwarded_Host',
  ];
  const out = policy.buildUpstreamHeaders(names.flatMap((n) => [n, 'DELETE']), ctx);
  t.notOk(out.includes('DELETE'), JSON.stringify(out));
});

t.test('X-Forwarded-For is appended; Proto and Host are set', async (t) => {
  const raw = ['X-Forwarded-For', '10.0.0.1', 'x-forwarded-for', '10.0.0.2, 10.0.0.3', 'Host', 'api.example.com:8443', 'X-Forwarded-Proto', 'gopher', 'X-Forwarded-Host', 'evil'];
  const out = policy.buildUpstreamHeaders(raw, ctx);
  const m = asMap(out);
  t.equal(m.get('x-forwarded-for'), '10.0.0.1, 10.0.0.2, 10.0.0.3, 192.0.2.7');
  t.equal(m.get('x-forwarded-proto'), 'https');
  t.equal(m.get('x-forwarded-host'), 'api.example.com:8443');
  t.equal(m.get('host'), 'api.example.com:8443', 'client Host preserved by default');
  const none = asMap(policy.buildUpstreamHeaders([], { token: undefined, clientIp: '::1', proto: 'http' }));
  t.equal(none.get('x-forwarded-for'), '::1');
  t.notOk(none.has('x-forwarded-host'), 'no Host, no X-Forwarded-Host');
  const gone = asMap(policy.buildUpstreamHeaders([], { token: undefined, clientIp: undefined, proto: 'http' }));
  t.notOk(gone.has('x-forwarded-for'));
  const empty = asMap(policy.buildUpstreamHeaders(['X-Forwarded-For', '10.0.0.1'], { token: undefined, clientIp: '', proto: 'http' }));
  t.equal(empty.get('x-forwarded-for'), '10.0.0.1', "'' peer address is treated as unknown, no dangling comma");
});

t.test('Host: first one only; preserveHost false drops it', async (t) => {
  const raw = ['Host', 'a.example', 'Host', 'b.example', 'Content-Length', '1', 'content-length', '1'];
  const m = asMap(policy.buildUpstreamHeaders(raw, ctx));
  t.equal(m.get('host'), 'a.example');
  t.equal(m.get('content-length'), '1', 'duplicate Content-Length collapsed (undici rejects a second)');
  const upstreamHost = createHeaderPolicy({}, { preserveHost: false });
  const m2 = asMap(upstreamHost.buildUpstreamHeaders(raw, ctx));
  t.notOk(m2.has('host'));
  t.equal(m2.get('x-forwarded-host'), 'a.example');
});

t.test('original name spelling and order of kept headers are preserved', async (t) => {
  const out = policy.buildUpstreamHeaders(['X-Request-ID', '1', 'accept', '*/*', 'Set-Thing', 'a', 'Set-Thing', 'b'], { ...ctx, token: undefined });
  t.same(out.slice(0, 8), ['X-Request-ID', '1', 'accept', '*/*', 'Set-Thing', 'a', 'Set-Thing', 'b']);
});

t.test('filterResponseHeaders strips hop-by-hop and Connection-named headers', async (t) => {
  const raw = [
    'Content-Type', 'text/plain', 'Connection', 'keep-alive, X-Hop', 'X-Hop', '1', 'Keep-Alive', 'timeout=5',
    'Transfer-Encoding', 'chunked', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Upgrade', 'h2c', 'Trailer', 'x',
  ].map((v) => Buffer.from(v, 'latin1'));
  t.same(filterResponseHeaders(raw), ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
  t.same(filterResponseHeaders(['X-Bin', Buffer.from([0xe9]).toString('latin1')]), ['X-Bin', '\u00e9'], 'latin1 round-trip');
});

t.test('look-alikes of framing and forwarding headers are stripped; the real ones pass', async (t) => {
  const out = policy.buildUpstreamHeaders(
    ['Host', 'api.example', 'Content_Length', '99', 'Content-Length', '5', 'X_Forwarded_For', '10.0.0.1', 'Transfer.Encoding', 'chunked', 'Authorization', 'Bearer t'],
    { token: undefined, clientIp: '192.0.2.1', proto: 'http' },
  );
  const names = out.filter((_, i) => i % 2 === 0);
  t.same(names.filter((n) => /content.length/i.test(n)), ['Content-Length'], 'only the real Content-Length');
  t.equal(out[out.indexOf('Content-Length') + 1], '5');
  t.notOk(names.includes('X_Forwarded_For'));
  t.equal(out[out.indexOf('x-forwarded-for') + 1], '192.0.2.1', 'the forged address is not the start of the chain');
  t.notOk(names.includes('Transfer.Encoding'));
  t.ok(names.includes('Authorization'), 'the real Authorization is kept');
});
