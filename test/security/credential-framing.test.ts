/**
 * Bypass class: credential framing — which credential is checked, and which one
 * the upstream reads.
 *
 * Covered: RFC 6750 §2.1 (the Authorization header is the only accepted
 * carrier; `Bearer` 1*SP b64token), §2.3 / RFC 9700 §4.3.2 and the README (Responses)
 * (query tokens refused, alone or beside a header, in every spelling a lenient
 * upstream parser would decode: percent-encoded names, PHP's `access.token` /
 * `access_token[]` mangling, `;` separators); RFC 9110 §5.3 (a field that is not
 * a list must not repeat: two Authorization headers are ambiguous — the
 * upstream might read the other one); RFC 6750 §3.1 challenge codes.
 */
import t from 'tap';
import { get, startWorld } from './fixture.js';

t.test('credential framing over raw sockets against scopegate serve', async (t) => {
  const w = await startWorld();
  t.teardown(() => w.close());
  const reader = w.token('items:read');
  const admin = w.token('admin');

  t.test('positive control: one valid Bearer header (scheme in any case) is forwarded unchanged', async (t) => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const r = await w.probe(get('/api/items/1', `Authorization: ${scheme} ${reader}`));
      t.equal(r.first?.status, 200, scheme);
      t.equal(r.delta[0]?.headers['authorization'], `${scheme} ${reader}`);
    }
  });

  t.test('two Authorization headers: 400 invalid_request, whatever the spellings and values', async (t) => {
    const pairs: [string, string][] = [
      [`Authorization: Bearer ${reader}`, `Authorization: Bearer ${admin}`],
      [`Authorization: Bearer ${reader}`, `Authorization: Bearer ${reader}`],
      [`authorization: Bearer ${reader}`, `AUTHORIZATION: Bearer ${admin}`],
      [`Authorization: Bearer ${admin}`, 'Authorization: '],
      ['Authorization: Basic dTpw', `Authorization: Bearer ${admin}`],
      [`Authorization: Bearer ${reader}`, 'aUtHoRiZaTiOn: Bearer x'],
    ];
    for (const [a, b] of pairs) {
      for (const target of ['/api/items/1', '/admin/x']) {
        const r = await w.probe(get(target, a, 'X-Between: 1', b));
        t.equal(r.first?.status, 400, `${a.slice(0, 28)} + ${b.slice(0, 28)} on ${target}`);
        t.same(r.first?.json, { error: 'invalid_request', error_description: 'More than one Authorization header' });
        t.match(r.first?.headers['www-authenticate'], /^Bearer realm="scopegate", error="invalid_request", error_description="[^"]+"$/);
        t.equal(r.delta.length, 0);
      }
    }
  });

  t.test('missing, empty and non-Bearer credentials: 401 without an error code (RFC 6750 §3.1)', async (t) => {
    for (const line of ['X-None: 1', 'Authorization:', 'Authorization: Basic dXNlcjpwYXNz', 'Authorization: Token abc', 'Authorization: Bearerx abc', `Proxy-Authorization: Bearer ${admin}`, `Cookie: access_token=${admin}`, `X-Access-Token: ${admin}`]) {
      const r = await w.probe(get('/admin/x', line));
      t.equal(r.first?.status, 401, line.slice(0, 40));
      t.same(r.first?.json, { error: 'missing_token', error_description: 'a bearer token is required' });
      t.equal(r.first?.headers['www-authenticate'], 'Bearer realm="scopegate"');
      t.equal(r.delta.length, 0);
    }
  });

  t.test('malformed Bearer credentials: 401 invalid_token', async (t) => {
    for (const line of ['Authorization: Bearer', 'Authorization: Bearer ', `Authorization: Bearer  ${admin}`, `Authorization: Bearer\t${admin}`, `Authorization: Bearer ${admin} ${admin}`, `Authorization: Bearer ${admin}, Bearer ${reader}`, `Authorization: Bearer "${admin}"`, 'Authorization: Bearer a.b.c', 'Authorization: Bearer ===']) {
      const r = await w.probe(get('/admin/x', line));
      t.equal(r.first?.status, 401, line.slice(0, 40));
      t.equal(r.first?.json?.error, 'invalid_token', line.slice(0, 40));
      t.match(r.first?.headers['www-authenticate'], /^Bearer realm="scopegate", error="invalid_token", error_description="[^"]*"$/);
      t.equal(r.delta.length, 0);
    }
  });

  t.test('tokens in the query are refused (400), alone or beside a valid header, in every spelling', async (t) => {
    const names = ['access_token', 'ACCESS_TOKEN', 'Access_Token', 'access%5Ftoken', 'access%5ftoken', '%61ccess_token', 'access%255Ftoken', 'access.token', 'access+token', 'access%20token', 'access_token[]', 'access_token[0]', 'access_token%00x', '%20access_token'];
    for (const name of names) {
      for (const query of [`?${name}=${admin}`, `?a=1&${name}=${admin}`, `?a=1;${name}=${admin}`, `?${name}`]) {
        for (const auth of [[], [`Authorization: Bearer ${reader}`]]) {
          const r = await w.probe(get(`/api/items/1${query}`, ...auth));
          t.equal(r.first?.status, 400, `${query.slice(0, 40)}${auth.length ? ' + header' : ''}`);
          t.same(r.first?.json, { error: 'invalid_request', error_description: 'access tokens are accepted in the Authorization header only, not in the query' });
          t.match(r.first?.headers['www-authenticate'], /^Bearer realm="scopegate", error="invalid_request", error_description="[^"]+"$/);
          t.equal(r.delta.length, 0);
        }
      }
    }
    // Values and look-alike names that are not access_token pass.
    for (const query of ['?q=access_token', '?access_tokens=1', '?my_access_token=1', '?x=1&access=token']) {
      const r = await w.probe(get(`/api/items/1${query}`, `Authorization: Bearer ${reader}`));
      t.equal(r.first?.status, 200, `${query} is not a query token`);
      t.equal(r.delta[0]?.url, `/api/items/1${query}`, 'query forwarded untouched');
    }
  });

  t.test('a token that does not carry the route scope is 403, and another header cannot add one', async (t) => {
    const r = await w.probe(get('/admin/x', `Authorization: Bearer ${reader}`, `X-Auth-Scopes: admin`, `X-Scope: admin`));
    t.equal(r.first?.status, 403);
    t.equal(r.delta.length, 0);
  });
});
