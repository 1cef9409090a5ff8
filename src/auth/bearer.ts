/**
 * Authorization header → access token and its scheme: `Bearer` (RFC 6750 §2.1) or
 * `DPoP` (RFC 9449 §7.1, same b64token syntax), and the query-token refusal
 * (README, Responses). Hot path: one pass over rawHeaders, no regex, and the only
 * allocations are the token slice and its result object; every failure result is
 * a shared frozen constant.
 */
import { hexValue } from '../routes/normalize.js';
import type { AuthScheme } from './sender-constraint.js';

export type BearerResult =
  | { readonly kind: 'token'; readonly token: string; readonly scheme: AuthScheme }
  /** No Authorization header, an empty one, or another scheme (Basic …): 401 without an error code. */
  | { readonly kind: 'missing' }
  /** Bearer scheme but not one space + b64token: 401 invalid_token. */
  | { readonly kind: 'invalid'; readonly code: 'ERR_AUTH_TOKEN_MALFORMED'; readonly description: string };

const MISSING: BearerResult = Object.freeze({ kind: 'missing' });
const INVALID: BearerResult = Object.freeze({
  kind: 'invalid',
  code: 'ERR_AUTH_TOKEN_MALFORMED',
  description: 'The Authorization header is not "Bearer" followed by one space and a token',
});
const INVALID_DPOP: BearerResult = Object.freeze({
  kind: 'invalid',
  code: 'ERR_AUTH_TOKEN_MALFORMED',
  description: 'The Authorization header is not "DPoP" followed by one space and a token',
});

const AUTHORIZATION = 'authorization';
const BEARER = 'bearer';
const DPOP = 'dpop';
const SP = 0x20;
const HTAB = 0x09;

/** ASCII case-insensitive compare of s[0..lower.length) with an all-lowercase literal. */
function startsWithLower(s: string, lower: string): boolean {
  if (s.length < lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    // `| 0x20` folds A-Z onto a-z; it also maps some non-letters onto letters
    // (e.g. '@' → '`'), which is harmless because `lower` holds only letters.
    if ((s.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * RFC 6750 §2.1 b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 *
 * Not called by extractBearer: scanning a ~1 KB token costs 0.5–2 µs, more than
 * the rest of a cached decision. The verifier runs it on a cache miss only; a
 * cache hit is a token that already passed it (entries are keyed by the exact string).
 */
export function isB64Token(s: string, start = 0): boolean {
  let i = start;
  const n = s.length;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (
      (c >= 0x61 && c <= 0x7a) || // a-z
      (c >= 0x41 && c <= 0x5a) || // A-Z
      (c >= 0x30 && c <= 0x39) || // 0-9
      c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e || c === 0x2b || c === 0x2f // - . _ ~ + /
    ) {
      continue;
    }
    break;
  }
  if (i === start) return false; // at least one token character before any '='
  for (; i < n; i++) if (s.charCodeAt(i) !== 0x3d) return false;
  return true;
}

/**
 * Read the bearer token from Node's flat `req.rawHeaders` ([name, value, name, value …]).
 * A second Authorization header never gets here: decide() refuses it (400) before any
 * route is looked at, since only rawHeaders shows it (README, Request and credential rules).
 *
 * - header name case-insensitive; the first Authorization header is the one read (plan() refuses
 *   a second one before this runs: Node keeps only the first, rawHeaders has both);
 * - no header, an empty value, or a scheme other than Bearer or DPoP → missing;
 * - scheme "Bearer" or "DPoP" in any case, then exactly one SP and a non-empty credential → token
 *   with its scheme (whether the token must be, or must not be, DPoP-bound is decided after
 *   verification: auth/sender-constraint.ts);
 * - anything else that starts with the Bearer scheme (`Bearer`, `Bearer `, two or more
 *   spaces, a tab) → invalid. More than one space is refused although RFC 6750 §2.1 writes
 *   `1*SP`: upstreams that split the header on one space would read an empty token. An empty token is therefore *invalid*, not missing: the client did try to
 *   present a bearer token.
 * The credential's b64token syntax (no spaces, quotes, commas…) is checked by the verifier
 * on a cache miss (isB64Token), so a malformed credential is still a 401 invalid_token.
 */
export function extractBearer(rawHeaders: readonly string[]): BearerResult {
  let value: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === AUTHORIZATION.length && startsWithLower(name, AUTHORIZATION)) {
      value = rawHeaders[i + 1]!;
      break;
    }
  }
  if (value === undefined || value.length === 0) return MISSING;
  if (startsWithLower(value, BEARER)) return afterScheme(value, BEARER.length, 'Bearer', INVALID);
  if (startsWithLower(value, DPOP)) return afterScheme(value, DPOP.length, 'DPoP', INVALID_DPOP);
  return MISSING;
}

/** The credential after a scheme name of `n` characters: the same syntax rules for Bearer and DPoP. */
function afterScheme(value: string, n: number, scheme: AuthScheme, invalid: BearerResult): BearerResult {
  if (value.length > n) {
    const next = value.charCodeAt(n);
    // "Bearerish xyz" is some other scheme; "Bearer\txyz" is a malformed Bearer attempt.
    if (next !== SP && next !== HTAB) return MISSING;
    if (next === SP && value.length > n + 1 && value.charCodeAt(n + 1) !== SP) {
      return { kind: 'token', token: value.slice(n + 1), scheme };
    }
  }
  return invalid;
}

/** Bound on nested percent-decoding (`access%255Ftoken` → `access%5Ftoken` → `access_token`). */
const MAX_DECODE_ROUNDS = 4;


/** Percent-decode ASCII-only; undecodable escapes are left as they are. */
function pctDecode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length) {
      const h = hexValue(s.charCodeAt(i + 1));
      const l = hexValue(s.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) {
        out += String.fromCharCode(h * 16 + l);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

/**
 * PHP turns ' ', '.', '+' (a form-encoded space) and '[' in parameter names into '_', and
 * reads `access_token[x]` as an `access_token` array: so `access.token` and
 * `access_token[]` reach a PHP upstream as `$_GET['access_token']`.
 */
const PHP_NAME_MANGLED = /[ .+[]/g;
function looksLikeParam(candidate: string, param: string): boolean {
  // C-string parsers stop at NUL: `access_token%00x` is `access_token` to them.
  const nul = candidate.indexOf('\0');
  const cut = nul === -1 ? candidate : candidate.slice(0, nul);
  const n = cut.trim().toLowerCase().replace(PHP_NAME_MANGLED, '_');
  return n === param || (n.startsWith(param) && n.charCodeAt(param.length) === 0x5f /* '_' from '[' */ && cut.includes('['));
}

/** Does this parameter name denote `param` (lower-case) to some plausible upstream parser? */
function denotes(name: string, param: string): boolean {
  let n = name;
  for (let round = 0; round < MAX_DECODE_ROUNDS; round++) {
    // Case-insensitive and trimmed on purpose: refusing `ACCESS_TOKEN` costs nothing,
    // while forwarding one to a lenient upstream would bypass verification.
    if (n.length >= param.length && looksLikeParam(n, param)) return true;
    if (n.indexOf('%') === -1) return false;
    const d = pctDecode(n);
    if (d === n) return false;
    n = d;
  }
  return false;
}

/**
 * The first of `params` (lower-case names) that the query (with its leading `?`, or
 * empty) carries in any position, under any spelling a lenient upstream would read as
 * that name: any case, percent-encoded (`access%5Ftoken`, double-encoded too), PHP-mangled
 * (`access.token`, `access_token[]`), cut at a NUL. `&` and `;` both separate parameters
 * because some frameworks split on `;`. Undefined when none.
 */
export function findQueryParam(query: string, params: readonly string[]): string | undefined {
  const n = query.length;
  if (n <= 1) return undefined;
  let shortest = Infinity;
  for (const p of params) shortest = Math.min(shortest, p.length);
  let start = query.charCodeAt(0) === 0x3f ? 1 : 0;
  while (start <= n) {
    let end = start;
    let eq = -1;
    for (; end < n; end++) {
      const c = query.charCodeAt(end);
      if (c === 0x26 || c === 0x3b) break; // & ;
      if (c === 0x3d && eq === -1) eq = end; // =
    }
    const nameEnd = eq === -1 ? end : eq;
    // Decoding only shortens a name, so a shorter one can never spell a parameter.
    if (nameEnd - start >= shortest) {
      const name = query.slice(start, nameEnd);
      for (const p of params) if (nameEnd - start >= p.length && denotes(name, p)) return p;
    }
    start = end + 1;
  }
  return undefined;
}

const ACCESS_TOKEN: readonly string[] = ['access_token'];

export function hasAccessTokenQuery(query: string): boolean {
  return findQueryParam(query, ACCESS_TOKEN) !== undefined;
}
