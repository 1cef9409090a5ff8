/**
 * The key stores' read-only detail for the admin page: kids, last fetch, last
 * error, next refresh. Real JWKS servers on 127.0.0.1.
 */
import t from 'tap';
import { createKeyring } from '../../../src/auth/keyring.js';
import { createTokenVerifier, keyDetailsOf } from '../../../src/auth/verify.js';
import { startJwksServer } from '../../helpers/jwks-server.js';
import { generateKey, jwkOf } from '../../helpers/keys.js';
import { testAuthConfig } from '../../helpers/tokens.js';

t.test('a healthy store lists its kids; a failing one its error; both their next refresh', async (t) => {
  const a = generateKey('p256');
  const b = generateKey('p256');
  const server = await startJwksServer({ keys: [jwkOf(a), jwkOf(b)] });
  t.teardown(() => server.close());
  const auth = testAuthConfig([{ issuer: 'https://up.test/', jwksUri: server.jwksUri }, { issuer: 'https://down.test/', jwksUri: 'http://127.0.0.1:9/jwks' }], { jwks: { maxAgeS: 600, cooldownS: 5 } });
  const ring = createKeyring(auth);
  t.teardown(() => ring.close());
  t.same(ring.details().map((d) => [d.issuer, d.lastFetchAt, d.nextRefreshAt]), [['https://up.test/', undefined, undefined], ['https://down.test/', undefined, undefined]], 'never fetched');
  const before = Date.now();
  await ring.start();
  const [up, down] = ring.details();
  t.same(up?.kids, [a.kid, b.kid]);
  t.equal(up?.lastError, undefined);
  t.ok(up!.lastFetchAt! >= before);
  t.ok(Math.abs(up!.nextRefreshAt! - (up!.lastFetchAt! + 600_000)) < 1_000, 'refreshed after max_age_s');
  t.same(down?.kids, []);
  t.match(down?.lastError, /ECONNREFUSED/);
  t.ok(down!.nextRefreshAt! - Date.now() <= 5_000 && down!.nextRefreshAt! > Date.now(), 'retried after the cooldown');

  t.same(ring.states().map((s) => s.keyCount), [2, 0], 'IssuerKeyState is unchanged by the detail');
});

t.test('a refetch that fails keeps the keys (stale) and says why; a success clears the error', async (t) => {
  const key = generateKey('p256');
  const server = await startJwksServer({ keys: [jwkOf(key)] });
  t.teardown(() => server.close());
  const auth = testAuthConfig([{ issuer: 'https://up.test/', jwksUri: server.jwksUri }], { jwks: { cooldownS: 1 } });
  const ring = createKeyring(auth);
  t.teardown(() => ring.close());
  await ring.start();
  const store = ring.storeOf(auth.issuers[0]!);
  server.setMode({ kind: 'status', status: 500 });
  await new Promise((r) => setTimeout(r, 1_100));
  await store.refetch();
  t.match(store.detail(), { kids: [key.kid], lastError: 'HTTP 500' });
  t.equal(store.state().keyCount, 1, 'cached keys keep serving');
  server.setMode({ kind: 'ok' });
  await new Promise((r) => setTimeout(r, 1_100));
  await store.refetch();
  t.equal(store.detail().lastError, undefined);
});

t.test('keyDetailsOf reads through a verifier this module built, and gives [] for another', async (t) => {
  const server = await startJwksServer({ keys: [jwkOf(generateKey('p256'))] });
  t.teardown(() => server.close());
  const verifier = createTokenVerifier(testAuthConfig([{ issuer: 'https://up.test/', jwksUri: server.jwksUri }]));
  t.teardown(() => verifier.close());
  await verifier.start();
  t.equal(keyDetailsOf(verifier)[0]?.kids.length, 1);
  t.same(keyDetailsOf({ ...verifier }), [], 'a copy is not a verifier this module built');
});
