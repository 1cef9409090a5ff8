/**
 * Hot reload through the verifier's public interface: a successor built with `previous`
 * keeps the JWKS stores of unchanged issuers (no refetch) and drops the rest. Which
 * store is adopted is asserted on the keyring itself in keyring.test.ts.
 */
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
    { previous: first },
  );
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

  // What the server does once the successor serves: close the replaced verifier.
  await first.close();
  t.match(await second.verify(tokenA2), { ok: true }, 'the adopted store still serves after the old verifier closed');
  t.equal(second.issuerStates().find((s) => s.issuer === a.issuer)?.loaded, true);
  await second.close();
});

t.test('the verified-token cache is never carried over to a successor', async (t) => {
  const key = generateKey('p256');
  const jwks = await startJwksServer({ keys: [jwkOf(key)] });
  t.teardown(() => jwks.close());
  const a = { issuer: 'https://a.test/', jwksUri: jwks.jwksUri };
  const first = createTokenVerifier(testAuthConfig([a]));
  await first.start();
  const token = signToken(key, claims(a.issuer, 'https://api.example.com'));
  t.match(await first.verify(token), { ok: true });
  t.match(await first.verify(token), { ok: true });
  t.equal(first.cacheStats().hits, 1);

  // The new config no longer accepts that audience: a carried-over entry would still pass.
  const second = createTokenVerifier(testAuthConfig([{ ...a, audiences: ['https://other.example'] }]), undefined, { previous: first });
  t.match(await second.verify(token), { ok: false, error: { code: 'ERR_AUTH_TOKEN_AUDIENCE' } });
  t.same(second.cacheStats(), { hits: 0, misses: 1, size: 0 });
  await first.close();
  await second.close();
});

t.test('a verifier not built by createTokenVerifier hands over nothing', async (t) => {
  const key = generateKey('p256');
  const jwks = await startJwksServer({ keys: [jwkOf(key)] });
  t.teardown(() => jwks.close());
  const first = createTokenVerifier(testAuthConfig([{ issuer: 'https://a.test/', jwksUri: jwks.jwksUri }]));
  await first.start();
  // A wrapper (as explain builds around the real verifier) is another object.
  const wrapper = { ...first };
  const second = createTokenVerifier(testAuthConfig([{ issuer: 'https://a.test/', jwksUri: jwks.jwksUri }]), undefined, { previous: wrapper });
  await second.start();
  t.equal(jwks.requests, 2, 'the successor fetched its own keys');
  await first.close();
  await second.close();
});
