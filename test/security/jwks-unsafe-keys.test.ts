/**
 * Bypass class: unsafe keys imported from the JWKS (issue 12, class 3). A key set
 * is trusted, but a key in it that cannot be safe lets *anyone* sign: with an RSA
 * public exponent of 1 the PKCS#1 v1.5 padded hash is itself a valid signature, and
 * with an Ed25519 public key of small order the signature (R = identity, S = 0)
 * verifies for every message (identity) or one message in eight (order 8). node:crypto
 * verifies both forgeries; before the fix scopegate imported both keys and forwarded
 * the forged tokens.
 *
 * Each such key is refused at import, with a `jwks key skipped` log line naming the
 * issuer, the kid and why, and scopegate_jwks_keys_refused_total{issuer,reason}.
 */
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import t from 'tap';
import { generateKey, jwkOf } from '../helpers/keys.js';
import { b64url, claims, segment, signRaw, type Json } from '../helpers/tokens.js';
import { AUD, ISSUER, startKeyWorld } from './jwks-fixture.js';

const ED25519_P = (1n << 255n) - 19n;
const ED25519_ORDER_8_Y = 2707385501144840649318225287225658788936804267575313519463743609750303402022n;

/** RFC 8032 §5.1.2 encoding of a point with this y (little-endian, sign bit of x on top). */
function edPoint(y: bigint, sign = 0): Buffer {
  const b = Buffer.alloc(32);
  for (let i = 0, v = y; i < 32; i++, v >>= 8n) b[i] = Number(v & 0xffn);
  b[31]! |= sign << 7;
  return b;
}

/** An RS256 "signature" that verifies under e = 1: the EMSA-PKCS1-v1_5 encoding itself (RFC 8017 §9.2). */
function rsaE1Signature(input: string, modulusBytes: number): Buffer {
  const digestInfo = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), createHash('sha256').update(input).digest()]);
  const padding = Buffer.alloc(modulusBytes - 3 - digestInfo.length, 0xff);
  return Buffer.concat([Buffer.from([0, 1]), padding, Buffer.from([0]), digestInfo]);
}

/** An items:read token whose signature was made without any private key (varying `jti` until the forgery verifies). */
function forged(header: Json, sign: (input: string) => Buffer, check: (input: string, sig: Buffer) => boolean): string {
  for (let i = 0; i < 256; i++) {
    const input = `${segment(header)}.${segment(claims(ISSUER, AUD, { scope: 'items:read', jti: `forged-${i}` }))}`;
    const sig = sign(input);
    // Only a signature node:crypto itself accepts under the published key makes the case real.
    if (check(input, sig)) return `${input}.${b64url(sig)}`;
  }
  throw new Error('no forgery found in 256 tries');
}

t.test('keys that cannot be safe are refused at import, logged and counted', async (t) => {
  const good = generateKey('ed25519', { kid: 'good' });
  const rsa = generateKey('rsa', { kid: 'rsa-real' });
  const n = String(rsa.jwk.n);
  const e3 = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
  const weak = generateKey('rsa', { kid: 'rsa-1024', rsaBits: 1024 });
  const encKey = generateKey('ed25519', { kid: 'enc-only' });
  const opsKey = generateKey('ed25519', { kid: 'sign-ops' });
  const p256 = generateKey('p256', { kid: 'ec-off-curve' });
  const offCurveY = Buffer.from(String(p256.jwk.y), 'base64url');
  offCurveY[31]! ^= 1;

  const edJwk = (kid: string, x: Buffer): Json => ({ kty: 'OKP', crv: 'Ed25519', x: b64url(x), kid, alg: 'EdDSA', use: 'sig' });
  const smallOrder = {
    'ed-identity': edPoint(1n),
    'ed-order-8': edPoint(ED25519_ORDER_8_Y),
    'ed-identity-noncanonical': edPoint(ED25519_P + 1n),
  } as const;

  const w = await startKeyWorld({
    jwks: {
      keys: [
        jwkOf(good),
        { kty: 'RSA', n, e: 'AQ', kid: 'rsa-e1', alg: 'RS256', use: 'sig' },
        { ...e3.publicKey.export({ format: 'jwk' }), kid: 'rsa-e3', alg: 'RS256', use: 'sig' },
        jwkOf(weak),
        ...Object.entries(smallOrder).map(([kid, x]) => edJwk(kid, x)),
        jwkOf(encKey, { use: 'enc' }),
        jwkOf(opsKey, { use: undefined, key_ops: ['sign'] }),
        jwkOf(p256, { y: b64url(offCurveY) }),
      ],
    },
  });
  t.teardown(() => w.close());

  t.test('positive control: the sound key in the same set serves', async (t) => {
    const r = await w.call(w.token(good));
    t.equal(r.first?.status, 200);
    t.equal(r.delta.length, 1);
  });

  const e1Key = createPublicKey({ key: { kty: 'RSA', n, e: 'AQ' }, format: 'jwk' });
  const identity = edPoint(1n);
  const edForgery = (kid: keyof typeof smallOrder): string => {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(smallOrder[kid]) }, format: 'jwk' });
    const sig = Buffer.concat([identity, Buffer.alloc(32)]); // R = identity, S = 0
    return forged({ alg: 'EdDSA', typ: 'at+jwt', kid }, () => sig, (input, s) => verify(null, Buffer.from(input), key, s));
  };
  const e1 = (i: string, s: Buffer): boolean => verify('sha256', Buffer.from(i), e1Key, s);
  const cases: { name: string; kid: string; token: string; why: RegExp; reason: string }[] = [
    { name: 'RSA e=1, forged with no private key', kid: 'rsa-e1', token: forged({ alg: 'RS256', typ: 'at+jwt', kid: 'rsa-e1' }, (i) => rsaE1Signature(i, 256), e1), why: /public exponent 1 /, reason: 'rsa_exponent' },
    { name: 'RSA e=3', kid: 'rsa-e3', token: signRaw({ alg: 'RS256', typ: 'at+jwt', kid: 'rsa-e3' }, claims(ISSUER, AUD, { scope: 'items:read' }), e3.privateKey), why: /public exponent 3 /, reason: 'rsa_exponent' },
    { name: 'RSA 1024 bits', kid: 'rsa-1024', token: w.token(weak), why: /below 2048 bits/, reason: 'rsa_too_small' },
    { name: 'Ed25519 identity, forged', kid: 'ed-identity', token: edForgery('ed-identity'), why: /small order/, reason: 'ed25519_small_order' },
    { name: 'Ed25519 order 8, forged', kid: 'ed-order-8', token: edForgery('ed-order-8'), why: /small order/, reason: 'ed25519_small_order' },
    { name: 'Ed25519 identity spelt y = p + 1, forged', kid: 'ed-identity-noncanonical', token: edForgery('ed-identity-noncanonical'), why: /small order/, reason: 'ed25519_small_order' },
    { name: 'use enc', kid: 'enc-only', token: w.token(encKey), why: /use is enc/, reason: 'use_not_sig' },
    { name: 'key_ops without verify', kid: 'sign-ops', token: w.token(opsKey), why: /key_ops/, reason: 'key_ops_no_verify' },
    { name: 'EC point off its curve', kid: 'ec-off-curve', token: w.token(p256), why: /not on P-256/, reason: 'ec_not_on_curve' },
  ];

  t.test(`tokens of refused keys: 401 invalid_token, never forwarded (${cases.length} cases)`, async (t) => {
    for (const { name, token } of cases) {
      const r = await w.call(token);
      t.equal(r.first?.status, 401, name);
      t.equal(r.first?.json?.error, 'invalid_token', name);
      t.equal(r.delta.length, 0, `${name}: upstream saw nothing`);
    }
  });

  t.test('each refusal is logged with the issuer, the kid and why', async (t) => {
    const skipped = await w.sidecar.waitForLogs('jwks key skipped', cases.length);
    for (const { name, kid, why } of cases) {
      t.match(skipped.find((l) => l['kid'] === kid), { level: 'warn', issuer: ISSUER, kid, reason: why }, name);
    }
  });

  t.test('scopegate_jwks_keys_refused_total counts them by a bounded reason', async (t) => {
    const text = await w.metrics();
    const count = (reason: string): number =>
      Number(new RegExp(`^scopegate_jwks_keys_refused_total\\{issuer="${ISSUER}",reason="${reason}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    const expected = new Map<string, number>();
    for (const { reason } of cases) expected.set(reason, (expected.get(reason) ?? 0) + 1);
    for (const [reason, n] of expected) t.ok(count(reason) >= n, `${reason}: ${count(reason)} ≥ ${n}`);
    t.equal(/^scopegate_jwks_keys\{[^}]*\} (\d+)$/m.exec(text)?.[1], '1', 'one usable key');
  });
});
