/**
 * JWKs published as an `x5c` certificate (auth/jwk-x5c.ts through auth/jwk-import.ts):
 * imported from the leaf certificate when the JWK has no public members, refused when
 * its members and its certificate name different keys, and held to the same key-safety
 * rules. End to end, a token signed by an x5c-only key verifies.
 */
import t from 'tap';
import { importJwk, type ImportContext } from '../../../src/auth/jwk-import.js';
import type { AuthHooks } from '../../../src/auth/types.js';
import { createTokenVerifier } from '../../../src/auth/verify.js';
import type { Algorithm } from '../../../src/config/schema.js';
import { startJwksServer } from '../../helpers/jwks-server.js';
import { generateKey, jwkOf } from '../../helpers/keys.js';
import { claims, signToken, testAuthConfig } from '../../helpers/tokens.js';
import { x5cOf } from '../../helpers/x5c.js';

const ALL: ReadonlySet<Algorithm> = new Set(['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA']);
const ctx: ImportContext = { issuer: 'https://i/', allowed: ALL, createVerifier: undefined, previous: [] };
const rsa = generateKey('rsa', { kid: 'rsa-x5c' });
const p256 = generateKey('p256', { kid: 'ec-x5c' });
const ed = generateKey('ed25519', { kid: 'ed-x5c' });
const rsaCert = x5cOf(rsa);

async function imported(jwk: unknown): Promise<{ refusal: string; reason: string; pem?: string }> {
  const r = await importJwk(jwk, ctx);
  return r.ok ? { refusal: 'imported', reason: '', pem: r.key.pem } : { refusal: r.refusal, reason: r.reason };
}

t.test('x5c only: the leaf certificate public key is imported, for each key type', async (t) => {
  for (const key of [rsa, p256, ed]) {
    const cert = key === rsa ? rsaCert : x5cOf(key);
    const r = await imported(jwkOf(key, { n: undefined, e: undefined, x: undefined, y: undefined, x5c: [cert] }));
    t.equal(r.refusal, 'imported', key.kind);
    t.equal(r.pem, key.publicPem, `${key.kind}: the certificate's key, not another`);
  }
  // An EC JWK without crv: the curve comes from the certificate.
  const noCrv = await imported({ kty: 'EC', kid: 'ec', x5c: [x5cOf(p256)] });
  t.equal(noCrv.pem, p256.publicPem, 'EC without crv');
});

t.test('x5c with members: the same key imports, another key is refused', async (t) => {
  t.equal((await imported(jwkOf(rsa, { x5c: [rsaCert] }))).refusal, 'imported', 'n/e and x5c agree');
  const other = generateKey('rsa', { kid: 'other' });
  const mismatch = await imported(jwkOf(other, { x5c: [rsaCert] }));
  t.same(mismatch, { refusal: 'malformed', reason: 'x5c leaf certificate holds another key than the JWK members' }, 'n/e of one key, certificate of another');
  const kty = await imported(jwkOf(p256, { x: undefined, y: undefined, crv: undefined, x5c: [rsaCert] }));
  t.equal(kty.refusal, 'malformed', 'EC JWK with an RSA certificate');
  t.match(kty.reason, /^x5c leaf certificate holds no EC key jose can import/);
});

t.test('x5c that is not a certificate, and unsafe keys in certificates', async (t) => {
  for (const x5c of [[], 'MIIB', [42], ['not base64!'], ['AAAA']]) {
    t.equal((await imported({ kty: 'RSA', kid: 'bad', x5c })).refusal, 'malformed', JSON.stringify(x5c));
  }
  const small = generateKey('rsa', { kid: 'small', rsaBits: 1024 });
  t.equal((await imported({ kty: 'RSA', kid: 'small', x5c: [x5cOf(small)] })).refusal, 'rsa_too_small', 'RSA-1024 behind a certificate');
  t.equal((await imported({ kty: 'RSA', kid: 'enc', use: 'enc', x5c: [rsaCert] })).refusal, 'use_not_sig', 'use is checked before the certificate');
});

t.test('end to end: a token signed by an x5c-only key verifies; a key mismatch logs issuer, kid and why', async (t) => {
  const other = generateKey('rsa', { kid: 'mixed' });
  const server = await startJwksServer({
    keys: [jwkOf(rsa, { n: undefined, e: undefined, x5c: [rsaCert] }), jwkOf(other, { x5c: [rsaCert] })],
  });
  const skipped: string[] = [];
  const hooks: AuthHooks = { onKeySkipped: (issuer, kid, reason) => skipped.push(`${issuer} ${kid ?? ''}: ${reason}`) };
  const iss = 'https://idp.example.com/';
  const v = createTokenVerifier(testAuthConfig([{ issuer: iss, jwksUri: server.jwksUri }]), hooks);
  t.teardown(async () => {
    await v.close();
    await server.close();
  });
  await v.start();
  const ok = await v.verify(signToken(rsa, claims(iss, 'https://api.example.com')));
  t.equal(ok.ok, true, 'x5c-only key verifies');
  const refused = await v.verify(signToken(other, claims(iss, 'https://api.example.com')));
  t.equal(!refused.ok && refused.error.code, 'ERR_AUTH_TOKEN_KEY_UNKNOWN', 'the mismatched key was not imported');
  t.same(skipped, [`${iss} mixed: x5c leaf certificate holds another key than the JWK members`]);
});
