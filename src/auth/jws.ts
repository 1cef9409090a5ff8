/**
 * Compact JWS (RFC 7515 §7.1): parsing and the header rules scopegate keeps on top of
 * fast-jwt (which checks the signature, auth/jwt-verifier.ts) because fast-jwt does not
 * enforce them. Pure: no I/O and no state; nothing here knows issuers, key sets or caches.
 *
 * The header rules, cheapest first, each one a distinct rejection:
 * - exactly three segments (five is a JWE, which we never decrypt);
 * - every segment canonical base64url (see isBase64Url: one token, one spelling);
 * - `alg` a string, never `none` in any casing, one scopegate implements and one some
 *   issuer allows (the per-issuer allow-list is applied once `iss` is known);
 * - no header that lets the token choose its own key (`jwk`, `jku`, `x5u`, `x5c`),
 *   no `crit` and no `b64`;
 * - `kid`, when present, a non-empty string;
 * - `typ` not another kind of JWT (see isOtherJwtKind).
 */
import { ALGORITHMS, type Algorithm } from '../config/schema.js';
import type { TokenError } from '../errors.js';
import { tokenError } from './token-error.js';

/** The per-key verifier factory keyring.ts hands to each JWKS store, under its historical name. */
export { keyVerifier as signatureCheck } from './jwt-verifier.js';

/** Header parameters that would let the token choose its own key (RFC 7515 §4.1.2–4.1.6). */
const KEY_BEARING_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;

const KNOWN_ALGORITHMS: ReadonlySet<string> = new Set<string>(ALGORITHMS);

/** A compact JWS whose header passed every rule, its payload decoded once. */
export interface CompactJws {
  readonly alg: Algorithm;
  readonly kid: string | undefined;
  /** Index of the second `.`: the signing input is token[0, signedEnd), the signature follows. */
  readonly signedEnd: number;
  /** Decoded, not yet trusted: its claims mean something only after the signature checks out. */
  readonly payload: Record<string, unknown>;
}

/** The 6-bit value of a base64url character, or -1. */
function b64urlValue(c: number): number {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41; // A-Z
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 26; // a-z
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 52; // 0-9
  if (c === 0x2d) return 62; // -
  if (c === 0x5f) return 63; // _
  return -1;
}

/**
 * Canonical base64url without padding (RFC 7515 §2, RFC 4648 §3.5): only the alphabet
 * (Buffer's decoder would skip anything else), no impossible length (4n+1), and the
 * unused low bits of the last character zero. Without that last rule one signature has
 * up to 16 spellings that decode to the same bytes, so a valid token could be re-spelt
 * into a different string that still verifies (found by the verifier mutation fuzz):
 * a revocation list or replay check keyed by the token string would miss it.
 */
export function isBase64Url(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    if (b64urlValue(s.charCodeAt(i)) < 0) return false;
  }
  const rem = (to - from) % 4;
  if (rem === 1) return false;
  if (rem === 0) return true;
  const last = b64urlValue(s.charCodeAt(to - 1));
  // 2 chars carry 1 byte (4 spare bits), 3 chars carry 2 bytes (2 spare bits).
  return (last & (rem === 2 ? 0x0f : 0x03)) === 0;
}

/** JSON object from a base64url segment, or undefined (not base64url, not JSON), or 'not-object'. */
function parseSegment(token: string, from: number, to: number): Record<string, unknown> | 'not-object' | undefined {
  if (to <= from || !isBase64Url(token, from, to)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token.slice(from, to), 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not-object';
  return value as Record<string, unknown>;
}

const MEDIA_TYPE_PREFIX = 'application/';
const JWT_SUFFIX = '+jwt';
/** RFC 9068 §2.1: the one explicit type of a JWT access token. */
const ACCESS_TOKEN_TYP = 'at+jwt';

/**
 * Whether a JWS `typ` names a kind of JWT other than an access token (RFC 8725 §3.11):
 * a `+jwt` media type (`logout+jwt`, `dpop+jwt`, `secevent+jwt`, …) other than `at+jwt`,
 * compared case-insensitively with or without `application/` (RFC 7515 §4.1.9). Such a
 * token was signed by a trusted key for another purpose and must not pass as an access
 * token. Absent, `JWT` or any other value passes: major IdPs send `JWT` or nothing.
 */
export function isOtherJwtKind(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  let t = typ.trim().toLowerCase();
  if (t.startsWith(MEDIA_TYPE_PREFIX)) t = t.slice(MEDIA_TYPE_PREFIX.length);
  return t.endsWith(JWT_SUFFIX) && t !== ACCESS_TOKEN_TYP;
}

/** The header rules after the structure: alg, key-bearing and extension parameters, kid, typ. */
function checkHeader(header: Record<string, unknown>, allowed: ReadonlySet<string>): TokenError | undefined {
  const alg = header.alg;
  if (typeof alg !== 'string') return tokenError('ERR_AUTH_TOKEN_MALFORMED', 'The token header has no alg');
  // `none` in any casing is refused by name, whatever a config might say.
  if (alg.toLowerCase() === 'none' || !KNOWN_ALGORITHMS.has(alg) || !allowed.has(alg)) {
    return tokenError('ERR_AUTH_TOKEN_ALG_NOT_ALLOWED');
  }
  for (const name of KEY_BEARING_HEADERS) {
    if (Object.hasOwn(header, name)) return tokenError('ERR_AUTH_TOKEN_HEADER_FORBIDDEN', `The token header carries "${name}"`);
  }
  // We understand no JWS extension (RFC 7515 §4.1.11), so any crit is fatal; `b64`
  // (RFC 7797) changes what the signature covers and is refused even without crit.
  if (Object.hasOwn(header, 'crit')) return tokenError('ERR_AUTH_TOKEN_HEADER_FORBIDDEN', 'The token header carries "crit"');
  if (Object.hasOwn(header, 'b64')) return tokenError('ERR_AUTH_TOKEN_HEADER_FORBIDDEN', 'The token header carries "b64"');
  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid === '')) {
    return tokenError('ERR_AUTH_TOKEN_MALFORMED', 'The token kid is not a non-empty string');
  }
  if (isOtherJwtKind(header.typ)) return tokenError('ERR_AUTH_TOKEN_HEADER_FORBIDDEN', 'The token typ names another kind of JWT, not an access token');
  return undefined;
}

/**
 * Parse a compact JWS and apply the header rules, or the first rule it breaks.
 * `allowed` is every algorithm some issuer accepts: an algorithm nobody accepts fails
 * before any payload work. The signature segment is checked by hasCanonicalSignature,
 * then by fast-jwt.
 */
export function parseCompactJws(token: string, allowed: ReadonlySet<string>): CompactJws | TokenError {
  const dot1 = token.indexOf('.');
  const dot2 = dot1 === -1 ? -1 : token.indexOf('.', dot1 + 1);
  if (dot2 === -1) return tokenError('ERR_AUTH_TOKEN_MALFORMED');
  if (token.indexOf('.', dot2 + 1) !== -1) return tokenError('ERR_AUTH_TOKEN_MALFORMED', 'The token is not a compact JWS (JWE is not accepted)');

  const header = parseSegment(token, 0, dot1);
  if (header === undefined || header === 'not-object') return tokenError('ERR_AUTH_TOKEN_MALFORMED', 'The token header is not a base64url JSON object');
  const broken = checkHeader(header, allowed);
  if (broken !== undefined) return broken;

  const payload = parseSegment(token, dot1 + 1, dot2);
  if (payload === undefined) return tokenError('ERR_AUTH_TOKEN_MALFORMED', 'The token payload is not base64url JSON');
  if (payload === 'not-object') return tokenError('ERR_AUTH_TOKEN_BAD_CLAIM', 'The token payload is not a JSON object');
  return { alg: header.alg as Algorithm, kid: header.kid as string | undefined, signedEnd: dot2, payload };
}

/**
 * RFC 7515 §5.2 step 7 as scopegate reads it: the signature segment is not empty and is
 * canonical base64url. fast-jwt checks only the alphabet, so without this a valid token
 * could be re-spelt (isBase64Url) and still verify.
 */
export function hasCanonicalSignature(token: string, signedEnd: number): boolean {
  return signedEnd + 1 < token.length && isBase64Url(token, signedEnd + 1, token.length);
}
