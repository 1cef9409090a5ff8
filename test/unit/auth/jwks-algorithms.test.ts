/** A JWKS whose keys fit none of the issuer's algorithms loads nothing: readiness stays false. */
import t from 'tap';
import { createTokenVerifier } from '../../../src/auth/verify.js';
import { startJwksServer } from '../../helpers/jwks-server.js';
import { generateKey, jwkOf } from '../../helpers/keys.js';
import { testAuthConfig } from '../../helpers/tokens.js';

t.test('keys outside the allow-list do not count as loaded', async (t) => {
  const rsa = generateKey('rsa');
  const jwks = await startJwksServer({ keys: [jwkOf(rsa)] });
  t.teardown(() => jwks.close());
  const skipped: string[] = [];
  const v = createTokenVerifier(testAuthConfig([{ issuer: 'https://i/', jwksUri: jwks.jwksUri, algorithms: ['ES256'] }]), {
    onKeySkipped: (_issuer, kid, reason) => skipped.push(`${kid}: ${reason}`),
  });
  await v.start();
  t.equal(v.ready(), false, 'an RSA-only set cannot serve an ES256-only issuer');
  t.match(skipped, [/no algorithm of this key is on the issuer allow-list/]);
  await v.close();
});
