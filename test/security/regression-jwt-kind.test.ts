/**
 * Regression (security round 2, class 4): tokens of another JWT kind.
 *
 * An explicitly typed `logout+jwt` token (an OIDC back-channel logout token, signed by
 * the same IdP key, with the right `iss` and `aud`) was accepted as an access token.
 * Without a `typ` allow-list, a `typ` ending in `+jwt` other than `at+jwt` is refused,
 * case-insensitively and with or without `application/` (RFC 8725 §3.11, RFC 7515
 * §4.1.9); an absent `typ`, `JWT`, or `at+jwt` in any spelling still passes.
 */
import t from 'tap';
import { claims, signToken } from '../helpers/tokens.js';
import { get, startWorld, ISSUER, AUD } from './fixture.js';

t.test('typ of another JWT kind over raw sockets against scopegate serve', async (t) => {
  const w = await startWorld();
  t.teardown(() => w.close());
  const admin = claims(ISSUER, AUD, { scope: 'admin' });

  t.test('positive control: access-token typ spellings, JWT, and no typ pass', async (t) => {
    for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/At+Jwt', 'JWT', 'jwt', 'application/jwt', 'JOSE', undefined]) {
      const r = await w.probe(get('/admin/x', `Authorization: Bearer ${signToken(w.key, admin, { typ })}`));
      t.equal(r.first?.status, 200, String(typ));
      t.equal(r.delta.length, 1, String(typ));
    }
  });

  t.test('another JWT kind: 401 invalid_token, never forwarded', async (t) => {
    const kinds = ['logout+jwt', 'LOGOUT+JWT', 'application/logout+jwt', 'dpop+jwt', 'secevent+jwt', 'application/secevent+jwt', 'token-introspection+jwt', 'id_token+jwt', 'jwt+jwt', '+jwt', ' logout+jwt '];
    for (const typ of kinds) {
      const r = await w.probe(get('/admin/x', `Authorization: Bearer ${signToken(w.key, admin, { typ })}`));
      t.equal(r.first?.status, 401, typ);
      t.equal(r.first?.json?.error, 'invalid_token', typ);
      t.match(r.first?.headers['www-authenticate'], /^Bearer realm="scopegate", error="invalid_token"/);
      t.equal(r.delta.length, 0, `${typ}: upstream saw nothing`);
    }
  });
});
