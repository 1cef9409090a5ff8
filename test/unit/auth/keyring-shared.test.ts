/** keyring.ts: issuers naming one jwks_uri share one key store (README, Identity providers). */
import t from 'tap';
import { createKeyring } from '../../../src/auth/keyring.js';
import { startJwksServer } from '../../helpers/jwks-server.js';
import { generateKey } from '../../helpers/keys.js';
import { testAuthConfig } from '../../helpers/tokens.js';

t.test('issuers sharing a jwks_uri share one store: one fetch, a state per issuer', async (t) => {
  // Without `alg` in the JWK, so the key may serve every algorithm the store allows.
  const key = generateKey('rsa', { jwkAlg: false });
  const jwks = await startJwksServer({ keys: [key.jwk] });
  t.teardown(() => jwks.close());
  const auth = testAuthConfig([
    { issuer: 'https://sts.windows.net/t1/', jwksUri: jwks.jwksUri, algorithms: ['RS256'] },
    { issuer: 'https://login.microsoftonline.com/t1/v2.0', jwksUri: jwks.jwksUri, algorithms: ['PS256'] },
    { issuer: 'https://other.test/', jwksUri: `${jwks.url}/other` },
  ]);
  const keyring = createKeyring(auth);
  t.teardown(() => keyring.close());
  await keyring.start();
  t.equal(jwks.requests, 2, 'two distinct jwks_uri, two fetches');
  t.equal(keyring.storeOf(auth.issuers[0]!), keyring.storeOf(auth.issuers[1]!), 'one store for both');
  t.ok(keyring.storeOf(auth.issuers[0]!).getKey(key.kid)?.algorithms.has('PS256'), 'imports for the union of their algorithms');
  t.same(keyring.states().map((s) => [s.issuer, s.loaded]), auth.issuers.map((i) => [i.issuer, true]));
});
