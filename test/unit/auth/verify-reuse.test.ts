/** Hot reload keeps the JWKS stores of unchanged issuers (no refetch) and drops the rest. */
import t from 'tap';
import { createTokenVerifier } from '../../../src/auth/verify.js';
import { startJwksServer } from '../../helpers/jwks-server.js';
import { generateKey, jwkOf } from '../../helpers/keys.js';
import { claims, signToken, testAuthConfig } from '../../helpers/tokens.js';

t.test('a successor verifier adopts unchanged issuers and fetches only for changed ones', async (t) => {
  const keyA = generateKey('p256');
  const keyB = generateKey('p256');
  const jwksA = await startJwksServer({ keys: [jwkOf(keyA)] });
  const jwksB = await startJwksServer({ keys: [jwkOf(keyB)] });
  t.teardown(() => Promise.all([jwksA.close(), jwksB.close()]));
  const a = { issuer: 'https://a.test/', jwksUri: jwksA.jwksUri };
  const b = { issuer: 'https://b.test/', jwksUri: jwksB.jwksUri };

  const first = createTokenVerifier(testAuthConfig([a, b]));
  await first.start();
  t.equal(jwksA.requests, 1);
  t.equal(jwksB.requests, 1);

  // A's audience changes (read per token: the store is kept); B's algorithm list changes (its store is rebuilt).
  const second = createTokenVerifier(
    testAuthConfig([{ ...a, audiences: ['https://other.example'] }, { ...b, algorithms: ['ES256'] }]),
    undefined,
    { reuse: first },
  );
  t.equal(second.stores.get(a.issuer), first.stores.get(a.issuer), 'A store adopted across an audience change');
  t.not(second.stores.get(b.issuer), first.stores.get(b.issuer), 'B store rebuilt');
  await second.start();
  t.equal(jwksA.requests, 1, 'no refetch for the adopted issuer');
  t.equal(jwksB.requests, 2, 'the rebuilt issuer fetched once');
  t.ok(second.ready());

  const tokenA = signToken(keyA, claims(a.issuer, 'https://api.example.com'));
  const tokenA2 = signToken(keyA, claims(a.issuer, 'https://other.example'));
  const tokenB = signToken(keyB, claims(b.issuer, 'https://api.example.com'));
  t.match(await second.verify(tokenA), { ok: false, error: { code: 'ERR_AUTH_TOKEN_AUDIENCE' } }, 'the new audience rule applies to the adopted store');
  t.match(await second.verify(tokenA2), { ok: true });
  t.match(await second.verify(tokenB), { ok: true });

  await first.retire(second);
  t.match(await second.verify(tokenA2), { ok: true }, 'the adopted store still serves after the old verifier retired');
  t.equal(second.stores.get(a.issuer)?.state().loaded, true);
  await second.close();
});
