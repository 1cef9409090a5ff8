import t from 'tap';
import { isB64Token, extractBearer, findQueryParam, hasAccessTokenQuery } from '../../../src/auth/bearer.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln';

t.test('extracts a bearer token', async (t) => {
  t.same(extractBearer(['Host', 'x', 'Authorization', `Bearer ${TOKEN}`]), { kind: 'token', token: TOKEN, scheme: 'Bearer' });
  t.same(extractBearer(['authorization', `bearer ${TOKEN}`]), { kind: 'token', token: TOKEN, scheme: 'Bearer' }, 'both lower case');
  t.same(extractBearer(['AUTHORIZATION', `BEARER ${TOKEN}`]), { kind: 'token', token: TOKEN, scheme: 'Bearer' }, 'both upper case');
  t.same(extractBearer(['AuThOrIzAtIoN', `bEaReR ${TOKEN}`]), { kind: 'token', token: TOKEN, scheme: 'Bearer' }, 'mixed case');
  t.same(extractBearer(['Authorization', 'Bearer a-._~+/Z9==']), { kind: 'token', token: 'a-._~+/Z9==', scheme: 'Bearer' }, 'every b64token char and padding');
});

t.test('missing: no header, empty header, other schemes', async (t) => {
  for (const raw of [[], ['Host', 'x'], ['Authorization', ''], ['Authorization', 'Basic dXNlcjpwYXNz'], ['Authorization', 'Bearerx abc'], ['Authorization', 'Digest x'], ['X-Authorization', `Bearer ${TOKEN}`], ['Authorizatio', `Bearer ${TOKEN}`]]) {
    t.same(extractBearer(raw), { kind: 'missing' }, JSON.stringify(raw));
  }
});

t.test('invalid: Bearer scheme without exactly one space and a credential', async (t) => {
  const values = [
    'Bearer', // empty token: invalid, not missing (the client did present the Bearer scheme)
    'Bearer ',
    'Bearer  ' + TOKEN, // two spaces
    'Bearer\t' + TOKEN, // tab
  ];
  for (const v of values) {
    const r = extractBearer(['Authorization', v]);
    t.equal(r.kind, 'invalid', JSON.stringify(v));
    if (r.kind === 'invalid') t.equal(r.code, 'ERR_AUTH_TOKEN_MALFORMED');
  }
});

t.test('b64token syntax (RFC 6750 §2.1), checked by the verifier on a cache miss', async (t) => {
  const bad = [
    `${TOKEN} `, // trailing space (Node trims OWS, but rawHeaders from elsewhere may not)
    `${TOKEN} extra`,
    '=abc', // padding first
    'abc=d', // char after padding
    'ab,c',
    'ab"c',
    'ab\u00e9c',
    'ab%41c',
    '==',
    '',
  ];
  for (const v of bad) t.equal(isB64Token(v), false, JSON.stringify(v));
  for (const v of [TOKEN, 'a-._~+/Z9==', 'x', 'x=']) t.equal(isB64Token(v), true, JSON.stringify(v));
  // The framing is extractBearer's; the syntax is deferred, so a bad credential comes back as a token.
  t.same(extractBearer(['Authorization', 'Bearer ab,c']), { kind: 'token', token: 'ab,c', scheme: 'Bearer' });
});

t.test('with two Authorization headers the first is read (decide() refuses the request before: test/unit/policy/decide.test.ts)', async (t) => {
  t.same(extractBearer(['Authorization', `Bearer ${TOKEN}`, 'Authorization', 'Basic abc']), { kind: 'token', token: TOKEN, scheme: 'Bearer' });
});

t.test('failure results are shared constants (no allocation per call)', async (t) => {
  t.equal(extractBearer([]), extractBearer(['Authorization', 'Basic x']));
  t.equal(extractBearer(['Authorization', 'Bearer']), extractBearer(['Authorization', 'Bearer  x']));
});

t.test('access_token in the query, in any position and spelling', async (t) => {
  const yes = [
    '?access_token=abc',
    '?a=1&access_token=abc',
    '?access_token',
    '?access_token=',
    '?a=1;access_token=x',
    '?x=1&access%5Ftoken=abc',
    '?access%5ftoken=abc',
    '?%61ccess_token=abc',
    '?%61%63%63%65%73%73%5f%74%6f%6b%65%6e=1',
    '?access%255Ftoken=abc', // double-encoded
    '?ACCESS_TOKEN=abc',
    '?a=b&&access_token=c',
    'access_token=abc', // without the leading ?
    '?access.token=1', // PHP reads these three as access_token
    '?access+token=1',
    '?access_token[]=1',
    '?access_token[a]=1',
    '?access%2Etoken=1',
    '?access%5Btoken=1',
    '?access_token%00junk=1',
  ];
  for (const q of yes) t.equal(hasAccessTokenQuery(q), true, q);
  const no = ['', '?', '?a=1', '?token=abc', '?access_tokens=1', '?xaccess_token=1', '?a=access_token', '?access-token=1', '?access_toke=1', '?access_tokenx=1', '?access_token_x=1', '?access%5Gtoken=1', '?q=%'];
  for (const q of no) t.equal(hasAccessTokenQuery(q), false, q);
});

t.test('findQueryParam: the first refused name, in any spelling a lenient upstream reads', async (t) => {
  const names = ['access_token', '_method'];
  t.equal(findQueryParam('?a=1&_method=DELETE', names), '_method');
  t.equal(findQueryParam('?_METHOD=put', names), '_method');
  t.equal(findQueryParam('?%5Fmethod=delete', names), '_method', 'percent-encoded underscore');
  t.equal(findQueryParam('?.method=delete', names), '_method', 'PHP reads .method as _method');
  t.equal(findQueryParam('?x=1;access_token=a', names), 'access_token');
  t.equal(findQueryParam('?method=delete&token=a', names), undefined, 'near misses are fine');
  t.equal(findQueryParam('?q=_method', names), undefined, 'a value is not a name');
  t.equal(findQueryParam('', names), undefined);
});

t.test('DPoP scheme (RFC 9449 §7.1): the same syntax rules, the scheme returned', async (t) => {
  t.same(extractBearer(['Authorization', `DPoP ${TOKEN}`]), { kind: 'token', token: TOKEN, scheme: 'DPoP' });
  t.same(extractBearer(['authorization', `dpop ${TOKEN}`]), { kind: 'token', token: TOKEN, scheme: 'DPoP' }, 'case-insensitive');
  t.same(extractBearer(['Authorization', `DPoPx ${TOKEN}`]), { kind: 'missing' }, 'another scheme');
  for (const v of ['DPoP', 'DPoP ', `DPoP  ${TOKEN}`, `DPoP\t${TOKEN}`]) t.equal(extractBearer(['Authorization', v]).kind, 'invalid', JSON.stringify(v));
});
