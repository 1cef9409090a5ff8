/**
 * Bypass class: JWT verification — the classic library attacks, end to end over
 * raw sockets against the real process (the full table, 78 cases, runs through
 * decide() in test/conformance/tokens.cases.ts; these prove the wiring).
 *
 * Covered: `alg: none` (CVE-2015-9235 class; RFC 8725 §2.1, §3.1), RS/HS key
 * confusion with the public key as HMAC secret (CVE-2016-10555), embedded `jwk`
 * (CVE-2018-0114) and `jku`/`x5u` (RFC 8725 §3.10), all-zero ECDSA signatures
 * (CVE-2022-21449), `iss` as an array and unknown `crit` (fast-jwt
 * GHSA-c2ff-88x2-x9pg / GHSA-gm45-q3v2-6cf8 class), RFC 7797 `b64: false`,
 * payload swap under a valid signature, JWE instead of JWS.
 */
import t from 'tap';
import { generateKey, jwkOf } from '../helpers/keys.js';
import { b64url, claims, segment, signRaw, signToken, swapPayload, unsignedToken, zeroSignature } from '../helpers/tokens.js';
import { get, startWorld, ISSUER, AUD } from './fixture.js';

t.test('JWT attacks over raw sockets against scopegate serve', async (t) => {
  const p256 = generateKey('p256');
  const rsa = generateKey('rsa');
  const attacker = generateKey('ed25519');
  const w = await startWorld({ keys: [p256, rsa] });
  t.teardown(() => w.close());
  const base = claims(ISSUER, AUD, { scope: 'items:read' });
  const admin = claims(ISSUER, AUD, { scope: 'admin' });

  t.test('positive control: EdDSA, ES256 and RS256 tokens from the published keys pass', async (t) => {
    for (const k of [w.key, p256, rsa]) {
      const r = await w.probe(get('/api/items/1', `Authorization: Bearer ${signToken(k, base)}`));
      t.equal(r.first?.status, 200, k.alg);
      t.equal(r.delta.length, 1);
    }
  });

  const hs = (secret: string | Buffer, kid: string): string => signRaw({ alg: 'HS256', kid }, admin, Buffer.from(secret), 'HS256');
  const cases: [string, string][] = [
    ['alg none', unsignedToken({ alg: 'none', kid: w.key.kid }, admin)],
    ['alg None', unsignedToken({ alg: 'None', kid: w.key.kid }, admin)],
    ['alg NONE with a signature', `${unsignedToken({ alg: 'NONE', kid: w.key.kid }, admin)}AAAA`],
    ['HS256 keyed with the RSA public PEM', hs(rsa.publicPem, rsa.kid)],
    ['HS256 keyed with the RSA JWK JSON', hs(JSON.stringify(jwkOf(rsa)), rsa.kid)],
    ['HS256 with an empty secret', hs('', w.key.kid)],
    ['embedded jwk with the attacker key (CVE-2018-0114)', signToken(attacker, admin, { jwk: jwkOf(attacker) })],
    ['jku pointing elsewhere', signToken(attacker, admin, { jku: 'http://127.0.0.1:9/jwks.json' })],
    ['x5u pointing elsewhere', signToken(attacker, admin, { x5u: 'http://127.0.0.1:9/cert.pem' })],
    ['ES256 all-zero signature (CVE-2022-21449)', zeroSignature(signToken(p256, admin))],
    ['ES256 zero signature, DER-length', `${signToken(p256, admin).split('.').slice(0, 2).join('.')}.${b64url(Buffer.from('3006020100020100', 'hex'))}`],
    ['iss as an array', signToken(w.key, { ...admin, iss: [ISSUER] })],
    ['unknown crit', signToken(w.key, admin, { crit: ['urn:x'], 'urn:x': 1 })],
    ['b64 false (RFC 7797)', signToken(w.key, admin, { b64: false, crit: ['b64'] })],
    ['payload swapped under a valid signature', swapPayload(signToken(w.key, base), admin)],
    ['unknown kid, valid signature by an unpublished key', signToken(attacker, admin)],
    ['kid of an EC key on an EdDSA-signed token', signToken(attacker, admin, { kid: p256.kid })],
    ['JWE (five segments)', `${segment({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.AAAA.AAAA.AAAA.AAAA`],
    ['audience of another API', signToken(w.key, { ...admin, aud: 'https://other.example' })],
    ['expired', signToken(w.key, { ...admin, exp: Math.floor(Date.now() / 1000) - 3600 })],
    ['no exp', signToken(w.key, { ...admin, exp: undefined })],
  ];

  t.test(`forged and foreign tokens: 401 invalid_token, never forwarded (${cases.length} cases)`, async (t) => {
    for (const [name, token] of cases) {
      const r = await w.probe(get('/admin/x', `Authorization: Bearer ${token}`));
      t.equal(r.first?.status, 401, name);
      t.equal(r.first?.json?.error, 'invalid_token', name);
      t.match(r.first?.headers['www-authenticate'], /^Bearer realm="scopegate", error="invalid_token"/);
      t.equal(r.delta.length, 0, `${name}: upstream saw nothing`);
    }
  });
});
