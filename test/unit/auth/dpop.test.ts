import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import t from 'tap';
import { createDpopVerifier, accessTokenHash, DPOP_CHECKS, type DpopOptions, type DpopRequest, type DpopVerifier } from '../../../src/auth/dpop.js';
import { forgedProof, hmacProof, mintProof, PROOF_ALGS, proofKey, unsignedProof, type ProofKey, type ProofClaims } from '../../helpers/dpop.js';
import { nowS, segment } from '../../helpers/tokens.js';

const ORIGIN = 'https://api.example.com';
const PATH = '/orders/42';
const HTU = `${ORIGIN}${PATH}`;
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImNuZiI6e319.c2lnbmF0dXJl';
const MAX_AGE_S = 60;
const SKEW_S = 5;
const WINDOW_S = MAX_AGE_S + SKEW_S;

function verifier(over: Partial<DpopOptions> = {}): DpopVerifier {
  return createDpopVerifier({
    origins: [ORIGIN, 'http://127.0.0.1:8080'],
    algorithms: ['ES256', 'EdDSA', 'RS256'],
    maxAgeS: MAX_AGE_S,
    clockSkewS: SKEW_S,
    replayCacheSize: 1000,
    ...over,
  });
}

function request(key: ProofKey, proofs: readonly string[], over: Partial<DpopRequest> = {}): DpopRequest {
  return { proofs, method: 'GET', path: PATH, accessToken: TOKEN, jkt: key.jkt, ...over };
}

const GOOD: ProofClaims = { htm: 'GET', htu: HTU, token: TOKEN };
const keys = new Map<string, ProofKey>();
for (const alg of PROOF_ALGS) keys.set(alg, await proofKey(alg));
const other = await proofKey('ES256');

t.test('accepted: a fresh proof for each algorithm, then refused as a replay', async (t) => {
  const v = verifier();
  for (const key of keys.values()) {
    const proof = await mintProof(key, GOOD);
    t.same(await v.verify(request(key, [proof])), { ok: true }, `${key.alg} accepted`);
    t.match(await v.verify(request(key, [proof])), { ok: false, code: 'ERR_AUTH_DPOP_REPLAY' }, `${key.alg} replay refused`);
  }
  t.equal(v.replayCacheSize(), 3, 'one replay-cache entry per accepted proof');
  t.same(v.algorithms, ['ES256', 'EdDSA', 'RS256']);
});

t.test('ath is base64url(SHA-256(token))', async (t) => {
  // RFC 9449 §4.2: SHA-256 of the ASCII access token, base64url without padding.
  t.equal(accessTokenHash('abc'), 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
});

/** Each refusal of RFC 9449 §4.3, for every algorithm: [name, expected code, how the request is made]. */
type Case = readonly [string, string, (key: ProofKey) => Promise<DpopRequest>];
const one = (key: ProofKey, proof: Promise<string>, over: Partial<DpopRequest> = {}) => proof.then((p) => request(key, [p], over));
const CASES: readonly Case[] = [
  ['no proof', 'ERR_AUTH_DPOP_PROOF_MISSING', async (k) => request(k, [])],
  ['an empty DPoP header', 'ERR_AUTH_DPOP_PROOF_MISSING', async (k) => request(k, [''])],
  ['two proofs', 'ERR_AUTH_DPOP_PROOF_DUPLICATE', async (k) => request(k, [await mintProof(k, GOOD), await mintProof(k, GOOD)])],
  ['two proofs folded into one line', 'ERR_AUTH_DPOP_PROOF_DUPLICATE', async (k) => request(k, [`${await mintProof(k, GOOD)}, ${await mintProof(k, GOOD)}`])],
  ['not a JWT', 'ERR_AUTH_DPOP_PROOF_MALFORMED', async (k) => request(k, ['not-a-jwt'])],
  ['an undecodable header', 'ERR_AUTH_DPOP_PROOF_MALFORMED', async (k) => request(k, [`${segment('{nope')}.${segment({})}.c2ln`])],
  ['an oversized proof', 'ERR_AUTH_DPOP_PROOF_MALFORMED', async (k) => one(k, mintProof(k, { ...GOOD, pad: 'x'.repeat(9000) }))],
  ['typ JWT', 'ERR_AUTH_DPOP_TYP', async (k) => one(k, mintProof(k, GOOD, { typ: 'JWT' }))],
  ['no typ', 'ERR_AUTH_DPOP_TYP', async (k) => one(k, mintProof(k, GOOD, { typ: undefined }))],
  ['alg none', 'ERR_AUTH_DPOP_ALG', async (k) => one(k, unsignedProof(k, GOOD))],
  ['HS256 keyed with the public key', 'ERR_AUTH_DPOP_ALG', async (k) => one(k, hmacProof(k, GOOD, new TextEncoder().encode(JSON.stringify(k.jwk))))],
  ['no jwk', 'ERR_AUTH_DPOP_JWK', async (k) => one(k, mintProof(k, GOOD, { jwk: undefined }))],
  ['a jwk that is not an object', 'ERR_AUTH_DPOP_JWK', async (k) => one(k, mintProof(k, GOOD, { jwk: 'key' }))],
  ['a private jwk', 'ERR_AUTH_DPOP_JWK', async (k) => one(k, mintProof(k, GOOD, { jwk: k.privateJwk }))],
  ['a symmetric jwk', 'ERR_AUTH_DPOP_JWK', async (k) => one(k, mintProof(k, GOOD, { jwk: { kty: 'oct', k: 'c2VjcmV0' } }))],
  ['a jwk whose alg contradicts the header', 'ERR_AUTH_DPOP_JWK', async (k) => one(k, mintProof(k, GOOD, { jwk: { ...k.jwk, alg: 'PS512' } }))],
  ['a signature by another key', 'ERR_AUTH_DPOP_SIGNATURE', async (k) => {
    const signer = k.alg === 'ES256' ? other : await proofKey(k.alg);
    return one(k, mintProof(k, GOOD, {}, signer));
  }],
  ['no jti', 'ERR_AUTH_DPOP_CLAIM_INVALID', async (k) => one(k, mintProof(k, { ...GOOD, jti: undefined }))],
  ['an empty jti', 'ERR_AUTH_DPOP_CLAIM_INVALID', async (k) => one(k, mintProof(k, { ...GOOD, jti: '' }))],
  ['no htm', 'ERR_AUTH_DPOP_CLAIM_INVALID', async (k) => one(k, mintProof(k, { ...GOOD, htm: undefined as unknown as string }))],
  ['no htu', 'ERR_AUTH_DPOP_CLAIM_INVALID', async (k) => one(k, mintProof(k, { ...GOOD, htu: undefined as unknown as string }))],
  ['no iat', 'ERR_AUTH_DPOP_CLAIM_INVALID', async (k) => one(k, mintProof(k, { ...GOOD, iat: undefined }))],
  ['a string iat', 'ERR_AUTH_DPOP_CLAIM_INVALID', async (k) => one(k, mintProof(k, { ...GOOD, iat: String(nowS()) }))],
  ['htm POST for a GET', 'ERR_AUTH_DPOP_HTM', async (k) => one(k, mintProof(k, { ...GOOD, htm: 'POST' }))],
  ['htm get (methods are case-sensitive)', 'ERR_AUTH_DPOP_HTM', async (k) => one(k, mintProof(k, { ...GOOD, htm: 'get' }))],
  ['htm GET for a HEAD', 'ERR_AUTH_DPOP_HTM', async (k) => one(k, mintProof(k, GOOD), { method: 'HEAD' })],
  ['htu for another path', 'ERR_AUTH_DPOP_HTU', async (k) => one(k, mintProof(k, { ...GOOD, htu: `${ORIGIN}/orders/43` }))],
  ['htu for another origin', 'ERR_AUTH_DPOP_HTU', async (k) => one(k, mintProof(k, { ...GOOD, htu: `https://evil.example.com${PATH}` }))],
  ['htu with http for an https origin', 'ERR_AUTH_DPOP_HTU', async (k) => one(k, mintProof(k, { ...GOOD, htu: `http://api.example.com${PATH}` }))],
  ['htu with a non-default port', 'ERR_AUTH_DPOP_HTU', async (k) => one(k, mintProof(k, { ...GOOD, htu: `https://api.example.com:8443${PATH}` }))],
  ['htu with userinfo', 'ERR_AUTH_DPOP_HTU', async (k) => one(k, mintProof(k, { ...GOOD, htu: `https://u@api.example.com${PATH}` }))],
  ['htu with a trailing slash', 'ERR_AUTH_DPOP_HTU', async (k) => one(k, mintProof(k, { ...GOOD, htu: `${HTU}/` }))],
  ['a relative htu', 'ERR_AUTH_DPOP_HTU', async (k) => one(k, mintProof(k, { ...GOOD, htu: PATH }))],
  ['htu with a query', 'ERR_AUTH_DPOP_HTU_QUERY', async (k) => one(k, mintProof(k, { ...GOOD, htu: `${HTU}?a=1` }))],
  ['htu with an empty query', 'ERR_AUTH_DPOP_HTU_QUERY', async (k) => one(k, mintProof(k, { ...GOOD, htu: `${HTU}?` }))],
  ['htu with a fragment', 'ERR_AUTH_DPOP_HTU_QUERY', async (k) => one(k, mintProof(k, { ...GOOD, htu: `${HTU}#x` }))],
  ['a stale iat', 'ERR_AUTH_DPOP_IAT_STALE', async (k) => one(k, mintProof(k, { ...GOOD, iat: nowS() - WINDOW_S - 2 }))],
  ['a future iat', 'ERR_AUTH_DPOP_IAT_FUTURE', async (k) => one(k, mintProof(k, { ...GOOD, iat: nowS() + WINDOW_S + 2 }))],
  ['no ath', 'ERR_AUTH_DPOP_ATH_MISSING', async (k) => one(k, mintProof(k, { htm: 'GET', htu: HTU }))],
  ['ath of another token', 'ERR_AUTH_DPOP_ATH', async (k) => one(k, mintProof(k, { ...GOOD, token: `${TOKEN}x` }))],
  ['ath not base64url of the hash', 'ERR_AUTH_DPOP_ATH', async (k) => one(k, mintProof(k, { ...GOOD, ath: accessTokenHash(TOKEN) + '=' }))],
  ['a key that is not the token\'s cnf.jkt', 'ERR_AUTH_DPOP_JKT', async (k) => one(k, mintProof(k, GOOD), { jkt: other.jkt === k.jkt ? 'x' : other.jkt })],
  ['an optional exp in the past', 'ERR_AUTH_DPOP_CLAIM_INVALID', async (k) => one(k, mintProof(k, { ...GOOD, exp: nowS() - 3600 }))],
];

for (const key of keys.values()) {
  t.test(`refusals, ${key.alg}`, async (t) => {
    const v = verifier();
    for (const [name, code, make] of CASES) {
      const r = await v.verify(await make(key));
      t.match(r, { ok: false, code }, name);
      if (!r.ok) t.ok(r.description.length > 0 && !/[\r\n"\\]/.test(r.description), `${name}: a description safe in a header`);
    }
    t.equal(v.replayCacheSize(), 0, 'no refused proof takes a replay-cache entry');
  });
}

t.test('an algorithm outside auth.dpop.algorithms is refused', async (t) => {
  const es = keys.get('ES256')!;
  const v = verifier({ algorithms: ['EdDSA'] });
  t.match(await v.verify(request(es, [await mintProof(es, GOOD)])), { ok: false, code: 'ERR_AUTH_DPOP_ALG' });
});

t.test('an RSA key under 2048 bits is refused as a jwk, not as a malformed proof', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const jwk = publicKey.export({ format: 'jwk' });
  const proof = await forgedProof({ alg: 'RS256', jwk }, GOOD, privateKey);
  const r = await verifier().verify({ proofs: [proof], method: 'GET', path: PATH, accessToken: TOKEN, jkt: await calculateJwkThumbprint(jwk as JWK) });
  t.match(r, { ok: false, code: 'ERR_AUTH_DPOP_JWK' });
});

t.test('htu is compared after RFC 3986 syntax-based normalization', async (t) => {
  const k = keys.get('ES256')!;
  const v = verifier();
  const same = [
    `HTTPS://API.Example.COM${PATH}`,
    `https://api.example.com:443${PATH}`,
    `https://api.example.com:${PATH}`, // empty port = default (RFC 3986 §6.2.3)
    `https://api.example.com/orders/./x/../42`,
    `https://api.example.com/%6Frders/42`, // %6F is "o", unreserved
  ];
  for (const htu of same) t.same(await v.verify(request(k, [await mintProof(k, { ...GOOD, htu })])), { ok: true }, htu);
  t.same(await v.verify(request(k, [await mintProof(k, { ...GOOD, htu: 'http://127.0.0.1:8080/' })], { path: '/' })), { ok: true }, 'second origin, root path');
  t.same(await v.verify(request(k, [await mintProof(k, { ...GOOD, htu: 'http://127.0.0.1:8080' })], { path: '/' })), { ok: true }, 'empty path is /');
  const encodedSlash = await mintProof(k, { ...GOOD, htu: `${ORIGIN}/orders%2F42` });
  t.match(await v.verify(request(k, [encodedSlash])), { ok: false, code: 'ERR_AUTH_DPOP_HTU' }, 'a path the canonicalizer refuses never matches');
});

t.test('the iat window is ±(max_age_s + clock skew)', async (t) => {
  const k = keys.get('EdDSA')!;
  let clock = Date.now();
  const v = verifier({ now: () => clock });
  const base = Math.floor(clock / 1000);
  for (const iat of [base - WINDOW_S + 1, base + WINDOW_S - 1, base - MAX_AGE_S - 1, base + MAX_AGE_S + 1]) {
    t.same(await v.verify(request(k, [await mintProof(k, { ...GOOD, iat })])), { ok: true }, `iat ${iat - base}s from now`);
  }
  clock += (WINDOW_S + 2) * 1000;
  t.match(await v.verify(request(k, [await mintProof(k, { ...GOOD, iat: base })])), { ok: false, code: 'ERR_AUTH_DPOP_IAT_STALE' }, 'the clock moved on');
});

t.test('replay cache: bounded in time and entries, keyed by key and jti', async (t) => {
  const k = keys.get('ES256')!;
  let clock = Date.now();
  const v = verifier({ now: () => clock, replayCacheSize: 2 });
  const jti = 'fixed-jti';
  const first = await mintProof(k, { ...GOOD, jti });
  t.same(await v.verify(request(k, [first])), { ok: true });
  t.match(await v.verify(request(k, [await mintProof(k, { ...GOOD, jti })])), { ok: false, code: 'ERR_AUTH_DPOP_REPLAY' }, 'a new proof reusing a jti');
  t.same(await v.verify(request(other, [await mintProof(other, { ...GOOD, jti })])), { ok: true }, 'the same jti from another key is its own entry');
  t.match(await v.verify(request(k, [await mintProof(k, GOOD)])), { ok: false, code: 'ERR_AUTH_DPOP_REPLAY_CACHE_FULL' },
    'full of live entries: refused rather than forgetting one');
  t.equal(v.replayCacheSize(), 2);
  // The first proof's iat leaves the window: its entry may go, and the jti is free again.
  clock += (WINDOW_S + 2) * 1000;
  const later = await mintProof(k, { ...GOOD, jti, iat: Math.floor(clock / 1000) });
  t.same(await v.verify(request(k, [later])), { ok: true }, 'expired entries make room');
  t.match(await v.verify(request(k, [first])), { ok: false, code: 'ERR_AUTH_DPOP_IAT_STALE' }, 'the old proof itself is stale');
  t.ok(v.replayCacheSize() <= 2, 'never above the bound');
});

t.test('a reload that hands over the replay cache still refuses a replay', async (t) => {
  const k = keys.get('ES256')!;
  const before = verifier();
  const proof = await mintProof(k, GOOD);
  t.same(await before.verify(request(k, [proof])), { ok: true });
  const after = verifier({ origins: [ORIGIN], replayCache: before.replayCache });
  t.match(await after.verify(request(k, [proof])), { ok: false, code: 'ERR_AUTH_DPOP_REPLAY' });
  t.equal(after.replayCacheSize(), 1);
  t.same(await verifier().verify(request(k, [proof])), { ok: true }, 'a fresh cache would have let it through');
});

t.test('two copies of one proof in flight: exactly one passes', async (t) => {
  const k = keys.get('RS256')!;
  const v = verifier();
  const proof = await mintProof(k, GOOD);
  const results = await Promise.all([v.verify(request(k, [proof])), v.verify(request(k, [proof])), v.verify(request(k, [proof]))]);
  t.equal(results.filter((r) => r.ok).length, 1);
  t.equal(results.filter((r) => !r.ok && r.code === 'ERR_AUTH_DPOP_REPLAY').length, 2);
});

t.test('options no config should let through are refused at construction', async (t) => {
  t.throws(() => verifier({ algorithms: ['HS256'] }), TypeError);
  t.throws(() => verifier({ algorithms: ['none'] }), TypeError);
  t.throws(() => verifier({ algorithms: [] }), TypeError);
  t.throws(() => verifier({ origins: ['https://api.example.com/base'] }), TypeError, 'an origin with a path');
  t.throws(() => verifier({ origins: ['api.example.com'] }), TypeError, 'no scheme');
  t.throws(() => verifier({ origins: ['ftp://api.example.com'] }), TypeError, 'not http(s)');
  t.throws(() => verifier({ replayCacheSize: 0 }), TypeError);
  t.throws(() => verifier({ maxAgeS: 0 }), TypeError);
  t.doesNotThrow(() => verifier({ origins: ['https://API.example.com:443/'] }));
});

t.test('DPOP_CHECKS lists every code once', async (t) => {
  t.equal(new Set(DPOP_CHECKS).size, DPOP_CHECKS.length);
});
