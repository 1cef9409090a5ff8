/**
 * Regression (found by test/fuzz/parsers.fuzz.test.ts at 1,000,000 runs, seed
 * 883952699): a JWS segment whose last base64url character differs only in the
 * unused low bits decodes to the same bytes. Buffer's decoder ignores those bits, so
 * an RS256 token with its last signature character changed ("…I_" for "…IA"-style
 * spellings) still verified: one token, up to 16 accepted strings. Nothing is
 * escalated, but any control keyed by the token string (a revocation or replay list,
 * an upstream's own token cache) can be sidestepped, and each spelling takes its own
 * cache slot. RFC 7515 §2 requires base64url; RFC 4648 §3.5 lets decoders refuse
 * non-canonical encodings. Fixed in src/auth/verify.ts isBase64Url: the alphabet, no
 * 4n+1 length, and zero spare bits in the last character, for all three segments.
 */
import t from 'tap';
import { createTokenVerifier } from '../../src/auth/verify.js';
import { startJwksServer } from '../helpers/jwks-server.js';
import { generateKey, jwkOf, type TestKey } from '../helpers/keys.js';
import { claims, signToken, testAuthConfig } from '../helpers/tokens.js';
import { get, startWorld, ISSUER, AUD } from './fixture.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Every other spelling of the token's last character that decodes to the same bytes. */
function respellings(token: string): string[] {
  const sig = token.slice(token.lastIndexOf('.') + 1);
  const rem = sig.length % 4;
  if (rem === 0) return [];
  const spare = rem === 2 ? 0x0f : 0x03;
  const v = ALPHABET.indexOf(token.at(-1) as string);
  const out: string[] = [];
  for (let x = 0; x <= spare; x++) if ((v & ~spare) + x !== v) out.push(token.slice(0, -1) + ALPHABET[(v & ~spare) + x]);
  return out;
}

t.test('verifier: non-canonical base64url spellings of a valid signature are refused', async (t) => {
  const keys: TestKey[] = [generateKey('rsa'), generateKey('p256'), generateKey('ed25519')];
  const jwks = await startJwksServer({ keys: keys.map((k) => jwkOf(k)) });
  t.teardown(() => jwks.close());
  const v = createTokenVerifier(testAuthConfig([{ issuer: ISSUER, jwksUri: jwks.jwksUri, algorithms: ['RS256', 'ES256', 'EdDSA'] }]));
  t.teardown(() => v.close());
  await v.start();
  for (const k of keys) {
    const token = signToken(k, claims(ISSUER, AUD));
    t.equal((await v.verify(token)).ok, true, `${k.alg}: the canonical token verifies`);
    const others = respellings(token);
    t.ok(others.length > 0, `${k.alg}: signature length ${token.length - token.lastIndexOf('.') - 1} has spare bits`);
    for (const other of others) {
      t.not(other, token);
      t.equal(Buffer.from(other.slice(other.lastIndexOf('.') + 1), 'base64url').equals(Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url')), true, 'same bytes');
      const r = await v.verify(other);
      t.equal(r.ok, false, `${k.alg}: re-spelt ${other.slice(-3)} refused`);
      t.equal(!r.ok && r.error.code, 'ERR_AUTH_TOKEN_SIGNATURE');
    }
    // A 4n+1-length segment can never be base64url.
    t.equal((await v.verify(token + 'A')).ok, false);
  }
});

t.test('the real sidecar answers 401 to a re-spelt token and forwards the canonical one', async (t) => {
  const w = await startWorld();
  t.teardown(() => w.close());
  const token = w.token('items:read');
  const ok = await w.probe(get('/api/items/1', `Authorization: Bearer ${token}`));
  t.equal(ok.first?.status, 200, 'positive control');
  for (const other of respellings(token)) {
    const r = await w.probe(get('/api/items/1', `Authorization: Bearer ${other}`));
    t.equal(r.first?.status, 401);
    t.equal(r.first?.json?.error, 'invalid_token');
    t.equal(r.delta.length, 0);
  }
});
