/**
 * auth/key-safety.ts and auth/jwk-import.ts: every unsafe key is refused with its
 * bounded reason, every sound key of every supported kind is imported, and each
 * refused Ed25519 encoding is shown to be forgeable with node:crypto itself.
 */
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import t from 'tap';
import { importJwk, KEY_REFUSALS, type ImportContext } from '../../../src/auth/jwk-import.js';
import { ecPointRefusal, ed25519Refusal, rsaRefusal } from '../../../src/auth/key-safety.js';
import type { Algorithm } from '../../../src/config/schema.js';
import { generateKey, jwkOf, privateJwkOf } from '../../helpers/keys.js';

const ALL: ReadonlySet<Algorithm> = new Set(['RS256', 'PS256', 'ES256', 'ES384', 'ES512', 'EdDSA']);
const ctx: ImportContext = { issuer: 'https://i/', allowed: ALL, createVerifier: undefined, previous: [] };
const refusalOf = async (jwk: unknown, c: ImportContext = ctx): Promise<string> => {
  const r = await importJwk(jwk, c);
  return r.ok ? 'imported' : r.refusal;
};

const ED25519_P = (1n << 255n) - 19n;
const ORDER_8_Y = 2707385501144840649318225287225658788936804267575313519463743609750303402022n;
function edPoint(y: bigint, sign: number): Buffer {
  const b = Buffer.alloc(32);
  for (let i = 0, v = y; i < 32; i++, v >>= 8n) b[i] = Number(v & 0xffn);
  b[31]! |= sign << 7;
  return b;
}

t.test('RSA: at least 2048 bits and an odd public exponent ≥ 65537', async (t) => {
  const n = String(generateKey('rsa').jwk.n);
  const cases: [string, string][] = [
    ['AQ', 'rsa_exponent'], // 1: the padded hash is its own signature
    ['Ag', 'rsa_exponent'], // 2
    ['Aw', 'rsa_exponent'], // 3
    ['AQAA', 'rsa_exponent'], // 65536: even
    ['AP__', 'rsa_exponent'], // 65535: odd but below 65537
    ['AQAB', 'imported'], // 65537
    ['AQAAAAE', 'imported'], // 2^32 + 1
  ];
  for (const [e, want] of cases) t.equal(await refusalOf({ kty: 'RSA', n, e, kid: `e-${e}` }), want, `e=${e}`);
  t.equal(await refusalOf(jwkOf(generateKey('rsa', { rsaBits: 1024 }))), 'rsa_too_small');
  t.equal(await refusalOf(jwkOf(generateKey('rsa', { rsaBits: 2048 }))), 'imported');
  t.same(rsaRefusal(undefined)?.refusal, 'rsa_too_small', 'no details: refused');
  t.match(rsaRefusal({ modulusLength: 2048, publicExponent: 3n })?.reason, /public exponent 3 is not an odd number ≥ 65537/);
});

t.test('EC: the point must be on its curve, with full-size canonical coordinates', async (t) => {
  for (const kind of ['p256', 'p384', 'p521'] as const) {
    const jwk = jwkOf(generateKey(kind));
    t.equal(ecPointRefusal(jwk.crv, jwk.x, jwk.y), undefined, `${kind}: a real key is on its curve`);
    t.equal(await refusalOf(jwk), 'imported', kind);
    const y = Buffer.from(String(jwk.y), 'base64url');
    y[y.length - 1]! ^= 1;
    t.equal(ecPointRefusal(jwk.crv, jwk.x, y.toString('base64url'))?.refusal, 'ec_not_on_curve', `${kind}: y off by one`);
    t.equal(await refusalOf({ ...jwk, y: y.toString('base64url') }), 'ec_not_on_curve');
    // node:crypto refuses the same point on its own (the check here gives the reason a name).
    t.throws(() => createPublicKey({ key: { kty: 'EC', crv: String(jwk.crv), x: String(jwk.x), y: y.toString('base64url') }, format: 'jwk' }), { code: 'ERR_CRYPTO_INVALID_JWK' }, `${kind}: node:crypto refuses it too`);
    const short = Buffer.from(String(jwk.x), 'base64url').subarray(1).toString('base64url');
    t.equal(ecPointRefusal(jwk.crv, short, jwk.y)?.refusal, 'malformed', `${kind}: short x`);
    t.equal(ecPointRefusal(jwk.crv, `${String(jwk.x)}=`, jwk.y)?.refusal, 'malformed', `${kind}: padded x`);
  }
  const p256 = jwkOf(generateKey('p256'));
  const p = Buffer.from('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff', 'hex').toString('base64url');
  t.equal(ecPointRefusal('P-256', p, p256.y)?.refusal, 'ec_not_on_curve', 'x = p is not a field element');
  t.equal(ecPointRefusal('P-256', 'AA', 'AA')?.refusal, 'malformed');
  t.equal(ecPointRefusal('secp256k1', 'AA', 'AA'), undefined, 'unknown curves are refused elsewhere');
  t.equal(await refusalOf({ kty: 'EC', crv: 'secp256k1', x: 'AA', y: 'AA' }), 'unsupported');
});

t.test('Ed25519: the 8 small-order points and their non-canonical twins are refused, and each is forgeable', async (t) => {
  const ys = [0n, 1n, ED25519_P - 1n, ORDER_8_Y, ED25519_P - ORDER_8_Y, ED25519_P, ED25519_P + 1n];
  const identity = edPoint(1n, 0);
  const forgery = Buffer.concat([identity, Buffer.alloc(32)]); // R = identity, S = 0
  let encodings = 0;
  for (const y of ys) {
    for (const sign of [0, 1]) {
      const x = edPoint(y, sign);
      encodings++;
      const name = `y=${y === ED25519_P ? 'p' : y === ED25519_P + 1n ? 'p+1' : y.toString().slice(0, 8)}, sign ${sign}`;
      t.equal(ed25519Refusal(x.toString('base64url'))?.refusal, 'ed25519_small_order', name);
      t.equal(await refusalOf({ kty: 'OKP', crv: 'Ed25519', x: x.toString('base64url') }), 'ed25519_small_order', name);
      // Why: node:crypto accepts (R = identity, S = 0) under this key for some message among a few.
      const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: x.toString('base64url') }, format: 'jwk' });
      const forged = Array.from({ length: 64 }, (_, i) => Buffer.from(`message ${i}`)).some((m) => verify(null, m, key, forgery));
      t.ok(forged, `${name}: a forged signature verifies under node:crypto`);
    }
  }
  t.equal(encodings, 14, '8 canonical encodings and 6 non-canonical twins');
  for (let i = 0; i < 50; i++) {
    const x = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x;
    if (ed25519Refusal(x) !== undefined) t.fail(`a random key was refused: ${x}`);
  }
  t.equal(await refusalOf(jwkOf(generateKey('ed25519'))), 'imported', 'a real key imports');
  t.equal(ed25519Refusal('AAAA')?.refusal, 'malformed', 'not 32 bytes');
  t.equal(ed25519Refusal(undefined)?.refusal, 'malformed');
});

t.test('purpose and shape: use, key_ops, private members, kty, alg, allow-list', async (t) => {
  const ed = generateKey('ed25519');
  const cases: [string, unknown, string, ImportContext?][] = [
    ['use sig', jwkOf(ed), 'imported'],
    ['no use, no key_ops', jwkOf(ed, { use: undefined }), 'imported'],
    ['key_ops [verify]', jwkOf(ed, { use: undefined, key_ops: ['verify'] }), 'imported'],
    ['use enc', jwkOf(ed, { use: 'enc' }), 'use_not_sig'],
    ['use "SIG"', jwkOf(ed, { use: 'SIG' }), 'use_not_sig'],
    ['use null', jwkOf(ed, { use: null }), 'use_not_sig'],
    ['key_ops [sign]', jwkOf(ed, { key_ops: ['sign'] }), 'key_ops_no_verify'],
    ['key_ops []', jwkOf(ed, { key_ops: [] }), 'key_ops_no_verify'],
    ['key_ops "verify" (not an array)', jwkOf(ed, { key_ops: 'verify' }), 'key_ops_no_verify'],
    ['private key', privateJwkOf(ed), 'private_member'],
    ['symmetric key', { kty: 'oct', k: 'c2VjcmV0' }, 'private_member'],
    ['kty unknown', { kty: 'XYZ' }, 'unsupported'],
    ['Ed448', { kty: 'OKP', crv: 'Ed448', x: 'AA' }, 'unsupported'],
    ['alg of another kty', jwkOf(ed, { alg: 'RS256' }), 'alg_mismatch'],
    ['kid a number', jwkOf(ed, { kid: 7 }), 'malformed'],
    ['not an object', 'key', 'malformed'],
    ['an array', [], 'malformed'],
    ['allow-list without EdDSA', jwkOf(ed), 'no_allowed_algorithm', { ...ctx, allowed: new Set<Algorithm>(['RS256']) }],
  ];
  const seen = new Set<string>();
  for (const [name, jwk, want, c] of cases) {
    const got = await refusalOf(jwk, c);
    seen.add(got);
    t.equal(got, want, name);
  }
  for (const r of seen) if (r !== 'imported') t.ok((KEY_REFUSALS as readonly string[]).includes(r), `${r} is in the bounded set`);
});

t.test('an unchanged key keeps its record across refreshes; changed material or algorithms get a new one', async (t) => {
  const ed = generateKey('ed25519', { kid: 'k' });
  const first = await importJwk(jwkOf(ed), ctx);
  if (!first.ok) throw new Error('import failed');
  const again = await importJwk(jwkOf(ed), { ...ctx, previous: [first.key] });
  t.equal(again.ok && again.key, first.key, 'same record');
  const other = await importJwk(jwkOf(generateKey('ed25519', { kid: 'k' })), { ...ctx, previous: [first.key] });
  t.not(other.ok && other.key, first.key, 'other material under the same kid: new record');
});
