/**
 * The token conformance table: every case is a request (Authorization header,
 * path, method) built from real keys and a real issuer, and the decision
 * decide() must reach. Run by tokens.test.ts against a real JWKS server.
 *
 * Sources of the attack cases: RFC 8725 (JWT BCP) §2–3, CVE-2015-9235 (alg
 * confusion), CVE-2018-0114 (embedded jwk), CVE-2022-21449 (zero ECDSA
 * signatures), fast-jwt GHSA advisories on `iss` arrays and `crit`.
 */
import { createHmac } from 'node:crypto';
import type { TestKey } from '../helpers/keys.js';
import { b64url, claims, nowS, segment, signRaw, signToken, swapPayload, tamperSignature, unsignedToken, zeroSignature, type Json } from '../helpers/tokens.js';

export interface TokenWorld {
  readonly iss: string;
  readonly aud: string;
  readonly rsa: TestKey; // RS256
  readonly rsaPss: TestKey; // PS256
  readonly p256: TestKey; // ES256
  readonly ed: TestKey; // EdDSA
  readonly p384: TestKey; // ES384: published, but ES384 is not on the issuer's allow-list
  readonly attacker: TestKey; // RS256, never published
  /** URL of a live server that must receive zero requests (jku/x5u targets). */
  readonly trap: string;
}

export type Expected =
  | { readonly allow: true; readonly scopes?: readonly string[] }
  | { readonly status: 400 | 401 | 403 | 503; readonly reason: string; readonly code?: string };

export interface TokenCase {
  readonly name: string;
  readonly method?: string;
  readonly path?: string;
  /** Query string including `?`. */
  readonly query?: string;
  /** Raw header pairs; built from the world. */
  readonly headers: (w: TokenWorld) => readonly [string, string][];
  readonly expect: Expected;
  /** Run against the hierarchical-matching decider instead of the exact one. */
  readonly hierarchical?: boolean;
}

const ALLOW: Expected = { allow: true };
const bearer = (token: string): [string, string][] => [['Authorization', `Bearer ${token}`]];
const base = (w: TokenWorld, o: Json = {}): Json => claims(w.iss, w.aud, { scope: 'org:read', ...o });
const ok = (w: TokenWorld, o: Json = {}, key: TestKey = w.rsa, header: Json = {}): [string, string][] => bearer(signToken(key, base(w, o), header));
const invalid = (code?: string): Expected => (code === undefined ? { status: 401, reason: 'invalid_token' } : { status: 401, reason: 'invalid_token', code });
const forbidden: Expected = { status: 403, reason: 'insufficient_scope', code: 'ERR_AUTH_INSUFFICIENT_SCOPE' };

export const TOKEN_CASES: readonly TokenCase[] = [
  // ---- valid tokens, every allowed algorithm and claim form ----
  { name: 'RS256 valid', headers: (w) => ok(w), expect: { allow: true, scopes: ['org:read'] } },
  { name: 'ES256 valid', headers: (w) => ok(w, {}, w.p256), expect: ALLOW },
  { name: 'PS256 valid', headers: (w) => ok(w, {}, w.rsaPss), expect: ALLOW },
  { name: 'EdDSA valid', headers: (w) => ok(w, {}, w.ed), expect: ALLOW },
  { name: 'lower-case bearer scheme', headers: (w) => [['authorization', `bearer ${signToken(w.rsa, base(w))}`]], expect: ALLOW },
  { name: 'scp array', headers: (w) => ok(w, { scope: undefined, scp: ['org:read', 'x'] }), expect: { allow: true, scopes: ['org:read', 'x'] } },
  { name: 'scp space-delimited string', headers: (w) => ok(w, { scope: undefined, scp: 'x org:read' }), expect: ALLOW },
  { name: 'scope with repeated, leading and trailing spaces', headers: (w) => ok(w, { scope: '  a   org:read  ' }), expect: { allow: true, scopes: ['a', 'org:read'] } },
  { name: 'scope and scp merged in configured order', headers: (w) => ok(w, { scope: 'a', scp: ['org:read'] }), expect: { allow: true, scopes: ['a', 'org:read'] } },
  { name: 'aud array containing the configured audience', headers: (w) => ok(w, { aud: ['https://other.example', w.aud] }), expect: ALLOW },
  { name: 'expired but within clock skew', headers: (w) => ok(w, { exp: nowS() - 10 }), expect: ALLOW },
  { name: 'nbf in the future but within clock skew', headers: (w) => ok(w, { nbf: nowS() + 10 }), expect: ALLOW },
  { name: '{auth: token} route accepts a token with no scope at all', path: '/me', headers: (w) => ok(w, { scope: undefined }), expect: ALLOW },
  { name: 'any_of: second alternative', path: '/reports/7', headers: (w) => ok(w, { scope: 'admin' }), expect: ALLOW },
  { name: 'all_of: both scopes', method: 'DELETE', path: '/projects/7', headers: (w) => ok(w, { scope: 'projects:admin projects:write' }), expect: ALLOW },

  // ---- algorithm attacks ----
  ...['none', 'None', 'NONE', 'nOnE'].map((alg): TokenCase => ({
    name: `alg "${alg}" unsigned`,
    headers: (w) => bearer(unsignedToken({ alg, typ: 'JWT', kid: w.rsa.kid }, base(w))),
    expect: invalid(),
  })),
  {
    name: 'HS256 signed with the RSA public key PEM (key confusion, CVE-2015-9235)',
    headers: (w) => bearer(signRaw({ alg: 'HS256', typ: 'JWT', kid: w.rsa.kid }, base(w), Buffer.from(w.rsa.publicPem))),
    expect: invalid('ERR_AUTH_TOKEN_ALG_NOT_ALLOWED'),
  },
  {
    name: 'HS256 signed with the RSA public JWK as the secret',
    headers: (w) => bearer(signRaw({ alg: 'HS256', typ: 'JWT', kid: w.rsa.kid }, base(w), Buffer.from(JSON.stringify(w.rsa.jwk)))),
    expect: invalid('ERR_AUTH_TOKEN_ALG_NOT_ALLOWED'),
  },
  {
    name: 'HS256 with an empty secret',
    headers: (w) => {
      const input = `${segment({ alg: 'HS256', kid: w.rsa.kid })}.${segment(base(w))}`;
      return bearer(`${input}.${b64url(createHmac('sha256', '').update(input).digest())}`);
    },
    expect: invalid('ERR_AUTH_TOKEN_ALG_NOT_ALLOWED'),
  },
  { name: 'ES256 all-zero signature (CVE-2022-21449)', headers: (w) => bearer(zeroSignature(signToken(w.p256, base(w)))), expect: invalid() },
  { name: 'ES384 with a published key but alg not on the allow-list', headers: (w) => ok(w, {}, w.p384), expect: invalid('ERR_AUTH_TOKEN_ALG_NOT_ALLOWED') },
  {
    name: 'RS256 header over the EC key (kid of a key that cannot do RS256)',
    headers: (w) => bearer(signRaw({ alg: 'RS256', typ: 'JWT', kid: w.p256.kid }, base(w), w.rsa.privateKey)),
    expect: invalid(),
  },
  {
    name: 'PS256 signature presented as RS256',
    headers: (w) => bearer(signRaw({ alg: 'RS256', typ: 'JWT', kid: w.rsaPss.kid }, base(w), w.rsaPss.privateKey, 'PS256')),
    expect: invalid(),
  },

  // ---- key-selection attacks ----
  {
    name: 'embedded jwk header with the attacker key (CVE-2018-0114)',
    headers: (w) => ok(w, {}, w.attacker, { jwk: w.attacker.jwk }),
    expect: invalid('ERR_AUTH_TOKEN_HEADER_FORBIDDEN'),
  },
  { name: 'jku header pointing at a live server', headers: (w) => ok(w, {}, w.attacker, { jku: `${w.trap}/jwks.json` }), expect: invalid('ERR_AUTH_TOKEN_HEADER_FORBIDDEN') },
  { name: 'x5u header pointing at a live server', headers: (w) => ok(w, {}, w.attacker, { x5u: `${w.trap}/cert.pem` }), expect: invalid('ERR_AUTH_TOKEN_HEADER_FORBIDDEN') },
  { name: 'jku header on an otherwise valid token', headers: (w) => ok(w, {}, w.rsa, { jku: `${w.trap}/jwks.json` }), expect: invalid('ERR_AUTH_TOKEN_HEADER_FORBIDDEN') },
  { name: 'x5c header', headers: (w) => ok(w, {}, w.rsa, { x5c: ['MIIB'] }), expect: invalid('ERR_AUTH_TOKEN_HEADER_FORBIDDEN') },
  { name: 'unknown kid, valid signature by an unpublished key', headers: (w) => ok(w, {}, w.attacker), expect: invalid('ERR_AUTH_TOKEN_KEY_UNKNOWN') },
  { name: 'kid path traversal', headers: (w) => ok(w, {}, w.attacker, { kid: '../../../../etc/passwd' }), expect: invalid('ERR_AUTH_TOKEN_KEY_UNKNOWN') },
  { name: 'kid __proto__', headers: (w) => ok(w, {}, w.attacker, { kid: '__proto__' }), expect: invalid() },
  { name: 'kid constructor', headers: (w) => ok(w, {}, w.attacker, { kid: 'constructor' }), expect: invalid() },
  { name: 'kid not a string', headers: (w) => ok(w, {}, w.rsa, { kid: 42 }), expect: invalid() },
  { name: 'unknown crit extension', headers: (w) => ok(w, {}, w.rsa, { crit: ['urn:x:unknown'], 'urn:x:unknown': true }), expect: invalid('ERR_AUTH_TOKEN_HEADER_FORBIDDEN') },
  { name: 'crit naming a registered claim', headers: (w) => ok(w, {}, w.rsa, { crit: ['exp'] }), expect: invalid('ERR_AUTH_TOKEN_HEADER_FORBIDDEN') },

  // ---- integrity ----
  { name: 'payload swapped under a valid signature (scope escalation)', headers: (w) => bearer(swapPayload(signToken(w.rsa, base(w, { scope: 'none' })), base(w))), expect: invalid('ERR_AUTH_TOKEN_SIGNATURE') },
  { name: 'one signature character changed', headers: (w) => bearer(tamperSignature(signToken(w.rsa, base(w)))), expect: invalid() },
  { name: 'empty signature segment', headers: (w) => bearer(signToken(w.rsa, base(w)).replace(/\.[^.]+$/, '.')), expect: invalid() },

  // ---- structure ----
  { name: 'two segments', headers: (w) => bearer(signToken(w.rsa, base(w)).split('.').slice(0, 2).join('.')), expect: invalid('ERR_AUTH_TOKEN_MALFORMED') },
  { name: 'four segments', headers: (w) => bearer(`${signToken(w.rsa, base(w))}.AAAA`), expect: invalid('ERR_AUTH_TOKEN_MALFORMED') },
  { name: 'JWE-shaped (five segments)', headers: () => bearer(`${segment({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.AAAA.AAAA.AAAA.AAAA`), expect: invalid('ERR_AUTH_TOKEN_MALFORMED') },
  { name: 'header is not JSON', headers: (w) => bearer(`${b64url('not json')}.${segment(base(w))}.AAAA`), expect: invalid('ERR_AUTH_TOKEN_MALFORMED') },
  { name: 'payload is a JSON array', headers: (w) => bearer(signRaw({ alg: 'RS256', kid: w.rsa.kid }, JSON.stringify([base(w)]), w.rsa.privateKey)), expect: invalid() },
  { name: 'payload is a JSON string', headers: (w) => bearer(signRaw({ alg: 'RS256', kid: w.rsa.kid }, JSON.stringify('org:read'), w.rsa.privateKey)), expect: invalid() },
  { name: 'standard base64 (+/) instead of base64url', headers: () => bearer('eyJ+.eyJ/.AAA+'), expect: invalid('ERR_AUTH_TOKEN_MALFORMED') },
  { name: 'token over the size limit', headers: (w) => ok(w, { pad: 'x'.repeat(9000) }), expect: invalid('ERR_AUTH_TOKEN_TOO_LARGE') },

  // ---- time ----
  { name: 'expired', headers: (w) => ok(w, { exp: nowS() - 120 }), expect: invalid('ERR_AUTH_TOKEN_EXPIRED') },
  { name: 'nbf in the future', headers: (w) => ok(w, { nbf: nowS() + 120 }), expect: invalid('ERR_AUTH_TOKEN_NOT_YET_VALID') },
  { name: 'missing exp', headers: (w) => ok(w, { exp: undefined }), expect: invalid('ERR_AUTH_TOKEN_MISSING_EXP') },
  { name: 'string exp', headers: (w) => ok(w, { exp: String(nowS() + 300) }), expect: invalid() },
  { name: 'iat outside the range of a date (would break date formatting)', headers: (w) => ok(w, { iat: -1e13 }), expect: invalid('ERR_AUTH_TOKEN_BAD_CLAIM') },
  { name: 'exp outside the range of a date', headers: (w) => ok(w, { exp: 1e13 }), expect: invalid('ERR_AUTH_TOKEN_BAD_CLAIM') },
  { name: 'string nbf', headers: (w) => ok(w, { nbf: String(nowS() - 10) }), expect: invalid() },

  // ---- issuer and audience ----
  { name: 'wrong iss', headers: (w) => ok(w, { iss: 'https://evil.example/' }), expect: invalid('ERR_AUTH_TOKEN_ISSUER') },
  { name: 'iss differs by a trailing slash', headers: (w) => ok(w, { iss: w.iss.replace(/\/$/, '') }), expect: invalid('ERR_AUTH_TOKEN_ISSUER') },
  { name: 'iss as an array containing the issuer', headers: (w) => ok(w, { iss: [w.iss] }), expect: invalid() },
  { name: 'missing iss', headers: (w) => ok(w, { iss: undefined }), expect: invalid() },
  { name: 'wrong aud', headers: (w) => ok(w, { aud: 'https://other.example' }), expect: invalid('ERR_AUTH_TOKEN_AUDIENCE') },
  { name: 'missing aud', headers: (w) => ok(w, { aud: undefined }), expect: invalid() },
  { name: 'aud array without the configured audience', headers: (w) => ok(w, { aud: ['https://a.example', 'https://b.example'] }), expect: invalid('ERR_AUTH_TOKEN_AUDIENCE') },

  // ---- scopes ----
  { name: 'org:readonly does not satisfy org:read', headers: (w) => ok(w, { scope: 'org:readonly' }), expect: forbidden },
  { name: 'org does not satisfy org:read under exact matching', headers: (w) => ok(w, { scope: 'org' }), expect: forbidden },
  { name: 'case differs', headers: (w) => ok(w, { scope: 'ORG:READ Org:Read' }), expect: forbidden },
  { name: 'no scope claim on a scoped route', headers: (w) => ok(w, { scope: undefined }), expect: forbidden },
  { name: 'scope claim that is not a string', headers: (w) => ok(w, { scope: ['org:read'] }), expect: invalid('ERR_AUTH_TOKEN_BAD_CLAIM') },
  { name: 'scp array with a non-string', headers: (w) => ok(w, { scope: undefined, scp: ['org:read', 7] }), expect: invalid('ERR_AUTH_TOKEN_BAD_CLAIM') },
  { name: 'all_of with one scope missing', method: 'DELETE', path: '/projects/7', headers: (w) => ok(w, { scope: 'projects:write' }), expect: forbidden },
  { name: 'any_of with neither', path: '/reports/7', headers: (w) => ok(w, { scope: 'reports:write' }), expect: forbidden },
  { name: 'hierarchical: resource grants resource:action:modifier', hierarchical: true, path: '/h', headers: (w) => ok(w, { scope: 'a' }), expect: ALLOW },
  { name: 'hierarchical: resource:action grants the modifier', hierarchical: true, path: '/h', headers: (w) => ok(w, { scope: 'a:b' }), expect: ALLOW },
  { name: 'hierarchical: narrower scope never grants wider', hierarchical: true, path: '/h2', headers: (w) => ok(w, { scope: 'a:b:c' }), expect: forbidden },
  { name: 'hierarchical: partial segment never grants', hierarchical: true, path: '/h3', headers: (w) => ok(w, { scope: 'a:b' }), expect: forbidden },

  // ---- credential framing ----
  { name: 'no Authorization header', headers: () => [], expect: { status: 401, reason: 'missing_token' } },
  { name: 'Basic scheme', headers: () => [['Authorization', 'Basic dXNlcjpwYXNz']], expect: { status: 401, reason: 'missing_token' } },
  { name: 'credential with a comma (not a b64token)', headers: () => [['Authorization', 'Bearer ab,c']], expect: invalid('ERR_AUTH_TOKEN_MALFORMED') },
  { name: 'credential with trailing junk after a space', headers: (w) => [['Authorization', `Bearer ${signToken(w.rsa, base(w))} extra`]], expect: invalid('ERR_AUTH_TOKEN_MALFORMED') },
  { name: 'credential that is only padding', headers: () => [['Authorization', 'Bearer ==']], expect: invalid('ERR_AUTH_TOKEN_MALFORMED') },
  { name: 'Bearer with two spaces', headers: (w) => [['Authorization', `Bearer  ${signToken(w.rsa, base(w))}`]], expect: invalid('ERR_AUTH_TOKEN_MALFORMED') },
  { name: 'two Authorization headers', headers: (w) => [...ok(w), ...ok(w)], expect: { status: 400, reason: 'bad_request', code: 'ERR_AUTH_DUPLICATE_AUTHORIZATION' } },
  { name: 'token in the query only', query: '?access_token=abc', headers: () => [], expect: { status: 400, reason: 'bad_request', code: 'ERR_AUTH_TOKEN_IN_QUERY' } },
  { name: 'token in the query beside a valid header', query: '?x=1&access_token=abc', headers: (w) => ok(w), expect: { status: 400, reason: 'bad_request', code: 'ERR_AUTH_TOKEN_IN_QUERY' } },
];
