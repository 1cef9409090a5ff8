/**
 * Regression (security round 2, class 9): `Bearer` followed by more than one space.
 *
 * RFC 6750 §2.1 writes `credentials = "Bearer" 1*SP b64token`; scopegate accepts exactly
 * one space and refuses more with 401 invalid_token, like any other malformed Bearer
 * credential: the header is forwarded unchanged, and an upstream that splits it on one
 * space would read an empty token where scopegate checked another.
 * Duplicate Authorization headers are refused before any token is read (400, see
 * credential-framing.test.ts); extractBearer no longer carries a branch for them.
 */
import t from 'tap';
import { get, startWorld } from './fixture.js';

t.test('Bearer with more than one space over raw sockets against scopegate serve', async (t) => {
  const w = await startWorld();
  t.teardown(() => w.close());
  const admin = w.token('admin');

  t.test('positive control: Bearer, one space, the token', async (t) => {
    const r = await w.probe(get('/admin/x', `Authorization: Bearer ${admin}`));
    t.equal(r.first?.status, 200);
    t.equal(r.delta.length, 1);
  });

  t.test('two, three and many spaces, and a space then a tab: 401 invalid_token, never forwarded', async (t) => {
    for (const gap of ['  ', '   ', ' '.repeat(40), ' \t', '\t ']) {
      const r = await w.probe(get('/admin/x', `Authorization: Bearer${gap}${admin}`));
      t.equal(r.first?.status, 401, JSON.stringify(gap));
      t.equal(r.first?.json?.error, 'invalid_token');
      t.match(r.first?.headers['www-authenticate'], /^Bearer realm="scopegate", error="invalid_token", error_description="[^"]*"$/);
      t.equal(r.delta.length, 0);
    }
  });

  t.test('on a public route the header is not read at all', async (t) => {
    const r = await w.probe(get('/public/x', `Authorization: Bearer   ${admin}`));
    t.equal(r.first?.status, 200);
    t.equal(r.delta.length, 1);
  });
});
