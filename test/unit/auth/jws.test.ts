/**
 * Compact JWS parsing, the header rules and the per-algorithm signature checks, on their
 * own: no JWKS, no issuer, no cache. The same rules through the whole verifier are in
 * verify.test.ts and the token conformance table.
 */
import t from 'tap';
import { TokenError } from '../../../src/errors.js';
import { hasCanonicalSignature, isBase64Url, isOtherJwtKind, parseCompactJws, signatureCheck, type CompactJws } from '../../../src/auth/jws.js';
import type { ClaimPolicy, KeyVerifier } from '../../../src/auth/jwt-verifier.js';
import { generateKey } from '../../helpers/keys.js';
import { b64url, segment, signRaw, signToken, zeroSignature } from '../../helpers/tokens.js';

const ALL = new Set(['RS256', 'PS256', 'ES256', 'EdDSA']);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The same bytes spelt with a non-zero spare bit in the last character (needs a length of 4n+2 or 4n+3). */
function respell(s: string): string {
  if (s.length % 4 === 0) throw new Error('no spare bits to set');
  return s.slice(0, -1) + ALPHABET[ALPHABET.indexOf(s.at(-1)!) ^ 1]!;
}
const payload = { iss: 'https://i/', aud: 'a', exp: 2_000_000_000 };
const rsa = generateKey('rsa', { kid: 'rsa-1' });
const p256 = generateKey('p256', { kid: 'ec-1' });
const ed = generateKey('ed25519', { kid: 'ed-1' });

function parsed(token: string, allowed: ReadonlySet<string> = ALL): CompactJws {
  const r = parseCompactJws(token, allowed);
  if (r instanceof TokenError) throw new Error(`unexpected ${r.code}: ${r.message}`);
  return r;
}

function rejection(token: string, allowed: ReadonlySet<string> = ALL): [string, string] | 'parsed' {
  const r = parseCompactJws(token, allowed);
  return r instanceof TokenError ? [r.code, r.message] : 'parsed';
}

t.test('isBase64Url: the alphabet, possible lengths, zero spare bits', async (t) => {
  const ok = (s: string) => isBase64Url(s, 0, s.length);
  t.ok(ok(''), 'an empty range is canonical (empty segments are refused by the parser)');
  t.ok(ok('AZaz09-_'));
  for (const s of ['AAA=', 'AA+A', 'AA/A', 'A A', 'AA.A', 'AAé']) t.notOk(ok(s), `outside the alphabet: ${s}`);
  t.notOk(ok('AAAAA'), 'length 4n+1 encodes no byte string');
  // One byte in 2 chars leaves 4 spare bits; two bytes in 3 chars leave 2.
  t.ok(ok('QQ'), 'QQ: "A", spare bits zero');
  t.notOk(ok('QR'), 'QR: same byte, non-zero spare bits');
  t.ok(ok('QUI'), 'QUI: "AB"');
  t.notOk(ok('QUJ'), 'QUJ: same bytes, non-zero spare bits');
  t.ok(isBase64Url('..QQ..', 2, 4), 'only the given range is read');
});

t.test('a well-formed compact JWS parses once, payload included', async (t) => {
  const token = signToken(rsa, payload);
  const jws = parsed(token);
  t.equal(jws.alg, 'RS256');
  t.equal(jws.kid, 'rsa-1');
  t.equal(jws.signedEnd, token.lastIndexOf('.'));
  t.same(jws.payload, payload);
  t.equal(parsed(signToken(rsa, payload, { kid: undefined })).kid, undefined, 'kid is optional');
});

t.test('every structural and header rule, in order, with its code and message', async (t) => {
  const body = segment(payload);
  const sig = b64url('sig');
  const h = (header: Record<string, unknown>) => `${segment(header)}.${body}.${sig}`;
  const cases: Array<[string, string, string, string]> = [
    ['no dot', 'abc', 'ERR_AUTH_TOKEN_MALFORMED', 'The token is malformed'],
    ['two segments', `${segment({ alg: 'RS256' })}.${body}`, 'ERR_AUTH_TOKEN_MALFORMED', 'The token is malformed'],
    ['five segments (JWE)', `a.b.c.d.e`, 'ERR_AUTH_TOKEN_MALFORMED', 'The token is not a compact JWS (JWE is not accepted)'],
    ['empty header', `.${body}.${sig}`, 'ERR_AUTH_TOKEN_MALFORMED', 'The token header is not a base64url JSON object'],
    ['header not JSON', `${b64url('{alg')}.${body}.${sig}`, 'ERR_AUTH_TOKEN_MALFORMED', 'The token header is not a base64url JSON object'],
    ['header an array', `${segment(['RS256'])}.${body}.${sig}`, 'ERR_AUTH_TOKEN_MALFORMED', 'The token header is not a base64url JSON object'],
    ['header padded', `${segment({ alg: 'RS256' })}=.${body}.${sig}`, 'ERR_AUTH_TOKEN_MALFORMED', 'The token header is not a base64url JSON object'],
    ['no alg', h({ kid: 'x' }), 'ERR_AUTH_TOKEN_MALFORMED', 'The token header has no alg'],
    ['alg not a string', h({ alg: 256 }), 'ERR_AUTH_TOKEN_MALFORMED', 'The token header has no alg'],
    ['alg none', h({ alg: 'none' }), 'ERR_AUTH_TOKEN_ALG_NOT_ALLOWED', 'The token algorithm is not allowed'],
    ['alg NoNe', h({ alg: 'NoNe' }), 'ERR_AUTH_TOKEN_ALG_NOT_ALLOWED', 'The token algorithm is not allowed'],
    ['alg HS256', h({ alg: 'HS256' }), 'ERR_AUTH_TOKEN_ALG_NOT_ALLOWED', 'The token algorithm is not allowed'],
    ['alg rs256 (case-sensitive)', h({ alg: 'rs256' }), 'ERR_AUTH_TOKEN_ALG_NOT_ALLOWED', 'The token algorithm is not allowed'],
    ['alg ES512: known, allowed by no issuer', h({ alg: 'ES512' }), 'ERR_AUTH_TOKEN_ALG_NOT_ALLOWED', 'The token algorithm is not allowed'],
    ['jwk', h({ alg: 'RS256', jwk: {} }), 'ERR_AUTH_TOKEN_HEADER_FORBIDDEN', 'The token header carries "jwk"'],
    ['jku', h({ alg: 'RS256', jku: 'https://x' }), 'ERR_AUTH_TOKEN_HEADER_FORBIDDEN', 'The token header carries "jku"'],
    ['x5u', h({ alg: 'RS256', x5u: 'https://x' }), 'ERR_AUTH_TOKEN_HEADER_FORBIDDEN', 'The token header carries "x5u"'],
    ['x5c', h({ alg: 'RS256', x5c: [] }), 'ERR_AUTH_TOKEN_HEADER_FORBIDDEN', 'The token header carries "x5c"'],
    ['jwk even when null', h({ alg: 'RS256', jwk: null }), 'ERR_AUTH_TOKEN_HEADER_FORBIDDEN', 'The token header carries "jwk"'],
    ['crit', h({ alg: 'RS256', crit: ['exp'] }), 'ERR_AUTH_TOKEN_HEADER_FORBIDDEN', 'The token header carries "crit"'],
    ['b64 without crit', h({ alg: 'RS256', b64: false }), 'ERR_AUTH_TOKEN_HEADER_FORBIDDEN', 'The token header carries "b64"'],
    ['kid empty', h({ alg: 'RS256', kid: '' }), 'ERR_AUTH_TOKEN_MALFORMED', 'The token kid is not a non-empty string'],
    ['kid a number', h({ alg: 'RS256', kid: 1 }), 'ERR_AUTH_TOKEN_MALFORMED', 'The token kid is not a non-empty string'],
    ['empty payload', `${segment({ alg: 'RS256' })}..${sig}`, 'ERR_AUTH_TOKEN_MALFORMED', 'The token payload is not base64url JSON'],
    ['payload not JSON', `${segment({ alg: 'RS256' })}.${b64url('exp')}.${sig}`, 'ERR_AUTH_TOKEN_MALFORMED', 'The token payload is not base64url JSON'],
    ['payload non-canonical', `${segment({ alg: 'RS256' })}.${respell(segment({ a: 1 }))}.${sig}`, 'ERR_AUTH_TOKEN_MALFORMED', 'The token payload is not base64url JSON'],
    ['payload an array', `${segment({ alg: 'RS256' })}.${segment([1])}.${sig}`, 'ERR_AUTH_TOKEN_BAD_CLAIM', 'The token payload is not a JSON object'],
    ['payload null', `${segment({ alg: 'RS256' })}.${segment('null')}.${sig}`, 'ERR_AUTH_TOKEN_BAD_CLAIM', 'The token payload is not a JSON object'],
  ];
  for (const [name, token, code, message] of cases) t.same(rejection(token), [code, message], name);
  // The header is refused before the payload is looked at.
  t.same(rejection(`${segment({ alg: 'none' })}.!!!.${sig}`), ['ERR_AUTH_TOKEN_ALG_NOT_ALLOWED', 'The token algorithm is not allowed']);
  // The signature segment is not the parser's: hasCanonicalSignature and fast-jwt check it.
  t.equal(rejection(`${segment({ alg: 'RS256' })}.${body}.`), 'parsed');
});

t.test('allowed narrows the algorithms, but never beyond the ones scopegate implements', async (t) => {
  const token = signToken(p256, payload);
  t.equal(rejection(token, new Set(['ES256'])), 'parsed');
  t.same(rejection(token, new Set(['RS256'])), ['ERR_AUTH_TOKEN_ALG_NOT_ALLOWED', 'The token algorithm is not allowed']);
  const hs = `${segment({ alg: 'HS256' })}.${segment(payload)}.${b64url('x')}`;
  t.same(rejection(hs, new Set(['HS256', 'none'])), ['ERR_AUTH_TOKEN_ALG_NOT_ALLOWED', 'The token algorithm is not allowed']);
  const none = `${segment({ alg: 'none' })}.${segment(payload)}.`;
  t.same(rejection(none, new Set(['none'])), ['ERR_AUTH_TOKEN_ALG_NOT_ALLOWED', 'The token algorithm is not allowed']);
});

/** The signature step of the verifier: the canonical-segment rule, then fast-jwt with one key and alg (no aud, no skew). */
const POLICY: ClaimPolicy = { audiences: [], skewMs: 0 };
function verifySignature(token: string, end: number, check: KeyVerifier): boolean {
  return hasCanonicalSignature(token, end) && check(token, POLICY) === undefined;
}

t.test('signatureCheck (fast-jwt) and hasCanonicalSignature: each algorithm, and every way a signature fails', async (t) => {
  const rsaPs = generateKey('rsa', { kid: 'rsa-ps', alg: 'PS256' });
  for (const [key, alg] of [[rsa, 'RS256'], [rsaPs, 'PS256'], [p256, 'ES256'], [ed, 'EdDSA']] as const) {
    const check = signatureCheck(key.publicPem, alg);
    const token = signRaw({ alg, kid: key.kid }, payload, key.privateKey, alg);
    const end = token.lastIndexOf('.');
    t.ok(verifySignature(token, end, check), `${alg}: valid`);
    const other = signRaw({ alg, kid: key.kid }, { ...payload, aud: 'b' }, key.privateKey, alg);
    t.notOk(verifySignature(`${token.slice(0, end)}${other.slice(other.lastIndexOf('.'))}`, end, check), `${alg}: another token's signature`);
    t.notOk(verifySignature(zeroSignature(token), end, check), `${alg}: all-zero signature (CVE-2022-21449 for ES256)`);
    t.notOk(verifySignature(`${token}AA`, end, check), `${alg}: wrong size: false, not a throw`);
    t.notOk(verifySignature(token.slice(0, end + 1), end, check), `${alg}: empty signature`);
  }
  // RS256 and PS256 share a key type but not a padding.
  const psToken = signRaw({ alg: 'PS256' }, payload, rsa.privateKey, 'PS256');
  t.notOk(verifySignature(psToken, psToken.lastIndexOf('.'), signatureCheck(rsa.publicPem, 'RS256')), 'a PS256 signature under an RS256 check');
  // A key that cannot verify the algorithm is refused when the check is built (at JWKS import).
  t.throws(() => signatureCheck(p256.publicPem, 'RS256'), { code: 'FAST_JWT_INVALID_KEY' });
});

t.test('hasCanonicalSignature refuses a re-spelt signature before any crypto', async (t) => {
  const token = signToken(p256, payload);
  const end = token.lastIndexOf('.');
  let calls = 0;
  const counting: KeyVerifier = () => {
    calls++;
    return undefined;
  };
  t.ok(verifySignature(token, end, counting));
  t.equal(calls, 1);
  // A 64-byte ES256 signature is 86 chars: the last one carries 4 spare bits.
  const respelt = respell(token);
  t.same(Buffer.from(respelt.slice(end + 1), 'base64url'), Buffer.from(token.slice(end + 1), 'base64url'), 'Buffer decodes both to the same bytes');
  t.notOk(verifySignature(respelt, end, counting), 'same bytes, another spelling');
  t.notOk(verifySignature(`${token.slice(0, end + 1)}a+b/`, end, counting), 'base64, not base64url');
  t.equal(calls, 1, 'the check never ran for either');
  // fast-jwt itself would accept the re-spelt token: the rule is ours.
  t.equal(signatureCheck(p256.publicPem, 'ES256')(respelt, POLICY), undefined, 'fast-jwt alone accepts the other spelling');
  t.same(
    verifySignature(token, end, (whole) => {
      t.equal(whole, token, 'the verifier gets the token as sent');
      return 'FAST_JWT_INVALID_SIGNATURE';
    }),
    false,
  );
});

t.test('isOtherJwtKind: +jwt types other than at+jwt (RFC 8725 §3.11)', async (t) => {
  for (const typ of ['logout+jwt', 'application/logout+JWT', 'dpop+jwt', 'secevent+jwt', '+jwt']) t.equal(isOtherJwtKind(typ), true, typ);
  for (const typ of ['at+jwt', 'application/AT+JWT', 'JWT', 'jose', 'jwt+json', undefined, 7, ['logout+jwt']]) t.equal(isOtherJwtKind(typ), false, String(typ));
});
