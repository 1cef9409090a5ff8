/**
 * auth/jwt-verifier.ts: fast-jwt verifies the signature and the registered claims with
 * one key and algorithm; each of its error codes maps to one scopegate code, by code.
 * Every reachable code is produced here by a real fast-jwt verifier on a real token.
 */
import t from 'tap';
import { keyVerifier, tokenErrorOf, type ClaimPolicy } from '../../../src/auth/jwt-verifier.js';
import { generateKey } from '../../helpers/keys.js';
import { b64url, claims, mintWithJose, nowS, segment, signRaw, signToken, unsignedToken } from '../../helpers/tokens.js';

const ISS = 'https://idp.example.com/';
const AUD = 'https://api.example.com';
const rsa = generateKey('rsa', { kid: 'rsa-1' });
const p256 = generateKey('p256', { kid: 'ec-1' });
const policy: ClaimPolicy = { audiences: [AUD], skewMs: 30_000 };
const noAudience: ClaimPolicy = { audiences: [], skewMs: 0 };
const verifyRs = keyVerifier(rsa.publicPem, 'RS256');
const verifyEs = keyVerifier(p256.publicPem, 'ES256');

t.test('each fast-jwt error code, produced by fast-jwt, maps to its scopegate code', async (t) => {
  const good = claims(ISS, AUD);
  const token = signToken(rsa, good);
  const [h, p] = token.split('.');
  const cases: [string, string, string, string][] = [
    // name, token, fast-jwt code, scopegate code
    ['tampered signature', `${h}.${segment({ ...good, sub: 'x' })}.${token.split('.')[2]}`, 'FAST_JWT_INVALID_SIGNATURE', 'ERR_AUTH_TOKEN_SIGNATURE'],
    ['empty signature', unsignedToken({ alg: 'RS256' }, good), 'FAST_JWT_MISSING_SIGNATURE', 'ERR_AUTH_TOKEN_SIGNATURE'],
    ['expired beyond skew', signToken(rsa, { ...good, exp: nowS() - 60 }), 'FAST_JWT_EXPIRED', 'ERR_AUTH_TOKEN_EXPIRED'],
    ['nbf beyond skew', signToken(rsa, { ...good, nbf: nowS() + 60 }), 'FAST_JWT_INACTIVE', 'ERR_AUTH_TOKEN_NOT_YET_VALID'],
    ['foreign aud', signToken(rsa, { ...good, aud: 'https://other' }), 'FAST_JWT_INVALID_CLAIM_VALUE', 'ERR_AUTH_TOKEN_AUDIENCE'],
    ['aud a number', signToken(rsa, { ...good, aud: 7 }), 'FAST_JWT_INVALID_CLAIM_TYPE', 'ERR_AUTH_TOKEN_BAD_CLAIM'],
    ['no exp', signToken(rsa, { ...good, exp: undefined }), 'FAST_JWT_MISSING_REQUIRED_CLAIM', 'ERR_AUTH_TOKEN_MISSING_EXP'],
    ['PS256 on an RS256 verifier', signRaw({ alg: 'PS256', kid: rsa.kid }, good, rsa.privateKey), 'FAST_JWT_INVALID_ALGORITHM', 'ERR_AUTH_TOKEN_ALG_NOT_ALLOWED'],
    ['unknown crit', signRaw({ alg: 'RS256', crit: ['exp'] }, good, rsa.privateKey), 'FAST_JWT_INVALID_CRIT_HEADER', 'ERR_AUTH_TOKEN_HEADER_FORBIDDEN'],
    ['two segments', `${h}.${p}`, 'FAST_JWT_MALFORMED', 'ERR_AUTH_TOKEN_MALFORMED'],
    ['payload an array', signRaw({ alg: 'RS256' }, '[1]', rsa.privateKey), 'FAST_JWT_INVALID_PAYLOAD', 'ERR_AUTH_TOKEN_BAD_CLAIM'],
  ];
  for (const [name, tok, fastCode, code] of cases) {
    const got = verifyRs(tok, policy);
    t.equal(got, fastCode, `${name}: fast-jwt says ${fastCode}`);
    t.equal(tokenErrorOf(got!, policy, undefined).code, code, `${name}: ${code}`);
  }
  t.equal(verifyRs(token, policy), undefined, 'positive control: the untouched token verifies');
  // An ECDSA signature of the wrong size makes node:crypto throw inside fast-jwt.
  const es = signToken(p256, good);
  const esLong = `${es}${b64url(Buffer.alloc(3))}`;
  const wrongSize = verifyEs(esLong, policy);
  t.equal(wrongSize, 'FAST_JWT_VERIFY_ERROR', 'ES256 signature of the wrong size');
  t.equal(tokenErrorOf(wrongSize!, policy, undefined).code, 'ERR_AUTH_TOKEN_SIGNATURE');
  t.equal(verifyEs(es, policy), undefined, 'positive control: ES256');
});

t.test('codes fast-jwt raises only around construction or input types map too; unknown codes fail closed', async (t) => {
  try {
    keyVerifier(p256.publicPem, 'RS256');
    t.fail('an EC key cannot build an RS256 verifier');
  } catch (err) {
    const code = (err as { code: string }).code;
    t.equal(code, 'FAST_JWT_INVALID_KEY');
    t.equal(tokenErrorOf(code, policy, undefined).code, 'ERR_AUTH_TOKEN_KEY_MISMATCH');
  }
  for (const [code, want] of [
    ['FAST_JWT_MISSING_KEY', 'ERR_AUTH_TOKEN_KEY_MISMATCH'],
    ['FAST_JWT_INVALID_TYPE', 'ERR_AUTH_TOKEN_MALFORMED'],
    ['FAST_JWT_SOMETHING_NEW', 'ERR_AUTH_TOKEN_MALFORMED'],
    ['toString', 'ERR_AUTH_TOKEN_MALFORMED'],
  ] as const) {
    t.equal(tokenErrorOf(code, policy, undefined).code, want, code);
  }
});

t.test('audiences: the mismatch is reported; no audiences means no aud check', async (t) => {
  const foreign = signToken(rsa, claims(ISS, ['https://a', 'https://b']));
  const code = verifyRs(foreign, policy);
  const err = tokenErrorOf(code!, policy, ['https://a', 'https://b']);
  t.equal(err.code, 'ERR_AUTH_TOKEN_AUDIENCE');
  t.same(err.mismatch, { claim: 'aud', presented: ['https://a', 'https://b'], expected: [AUD] });
  t.equal(verifyRs(foreign, noAudience), undefined, 'an issuer without audiences checks none (client_ids instead)');
  t.equal(tokenErrorOf('FAST_JWT_INVALID_CLAIM_VALUE', noAudience, 'x').code, 'ERR_AUTH_TOKEN_BAD_CLAIM', 'a claim value refusal without audiences is not an audience refusal');
  t.equal(verifyRs(signToken(rsa, claims(ISS, [AUD, 'https://b'])), policy), undefined, 'one accepted value in an array is enough');
});

t.test('clock tolerance is the policy skew, and each policy gets its own verifier', async (t) => {
  const late = signToken(rsa, claims(ISS, AUD, { exp: nowS() - 10 }));
  t.equal(verifyRs(late, policy), undefined, 'expired 10 s ago, 30 s skew');
  t.equal(verifyRs(late, noAudience), 'FAST_JWT_EXPIRED', 'same key, no skew');
  t.equal(verifyRs(late, policy), undefined, 'the first policy keeps its verifier');
});

t.test('tokens minted by jose verify for every algorithm; the same token with one claim changed does not', async (t) => {
  const keys = [rsa, generateKey('rsa', { kid: 'ps', alg: 'PS256' }), p256, generateKey('p384', { kid: 'p384' }), generateKey('p521', { kid: 'p521' }), generateKey('ed25519', { kid: 'ed' })];
  for (const key of keys) {
    const verify = keyVerifier(key.publicPem, key.alg);
    const token = await mintWithJose(key, claims(ISS, AUD));
    t.equal(verify(token, policy), undefined, `${key.alg}: jose-minted token verifies`);
    const [h, , sig] = token.split('.');
    t.equal(verify(`${h}.${segment(claims(ISS, AUD, { sub: 'other' }))}.${sig}`, policy), 'FAST_JWT_INVALID_SIGNATURE', `${key.alg}: payload swapped`);
  }
});
