/**
 * Claims: the registered claims checked around the signature (RFC 7519 §4.1), then
 * claims → granted scopes and the VerifiedToken built once per verification.
 *
 * readRegisteredClaims runs on the still unverified payload (cheap refusals before a
 * key fetch); everything else runs on a payload whose signature has been checked,
 * once per distinct token (cache hits reuse the VerifiedToken).
 */
import type { ClaimRef } from '../config/schema.js';
import { claimLabel, readClaim } from './claim-ref.js';
import { TokenError } from '../errors.js';
import { readConfirmation } from './sender-constraint.js';
import { tokenError } from './token-error.js';
import type { VerifiedToken } from './types.js';

/** The registered claims the verifier checks, read once from the payload with their types checked. */
export interface RegisteredClaims {
  /** Seconds since epoch. */
  readonly exp: number;
  readonly nbf: number | undefined;
  readonly iat: number | undefined;
  /** Undefined only when the issuer checks client_ids instead of audiences. */
  readonly aud: string | readonly string[] | undefined;
}

/** ±8.64e12 s: the range of a JavaScript Date (ECMA-262 §21.4.1.1). A date claim outside it means nothing. */
const MAX_DATE_CLAIM_S = 8.64e12;

/** A NumericDate (RFC 7519 §2) scopegate can compute with: finite and within the Date range. */
function isNumericDate(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_DATE_CLAIM_S;
}

/**
 * Before the signature: `exp` present, the date claims numbers, `iat` not in the future
 * beyond skew (no honest clock produces one), `aud` a string or a non-empty array of
 * strings, and present unless the issuer has no audiences (Cognito access tokens carry
 * none; their client_id is checked instead). Refuses tokens that cannot pass before
 * they can cost a key fetch.
 */
export function readRegisteredClaims(payload: Readonly<Record<string, unknown>>, nowMs: number, skewMs: number, audienceRequired = true): RegisteredClaims | TokenError {
  if (!Object.hasOwn(payload, 'exp')) return tokenError('ERR_AUTH_TOKEN_MISSING_EXP');
  const exp = payload.exp;
  if (!isNumericDate(exp)) return tokenError('ERR_AUTH_TOKEN_BAD_CLAIM', 'The exp claim is not a number');
  const nbf = payload.nbf;
  const iat = payload.iat;
  if (nbf !== undefined && !isNumericDate(nbf)) return tokenError('ERR_AUTH_TOKEN_BAD_CLAIM', 'The nbf claim is not a number');
  if (iat !== undefined && !isNumericDate(iat)) return tokenError('ERR_AUTH_TOKEN_BAD_CLAIM', 'The iat claim is not a number');
  if (iat !== undefined && iat * 1000 > nowMs + skewMs) return tokenError('ERR_AUTH_TOKEN_NOT_YET_VALID', 'The token iat is in the future');
  const aud = payload.aud;
  if (aud === undefined) return audienceRequired ? tokenError('ERR_AUTH_TOKEN_AUDIENCE', 'The token has no aud claim') : { exp, nbf, iat, aud };
  if (!(typeof aud === 'string' || (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === 'string')))) {
    return tokenError('ERR_AUTH_TOKEN_BAD_CLAIM', 'The aud claim is not a string or an array of strings');
  }
  return { exp, nbf, iat, aud: aud as string | readonly string[] };
}

/**
 * After the signature, now that the claims are known to be the issuer's: `exp` and
 * `nbf` with the clock skew, and `aud` against the issuer's audiences (none: no check).
 */
export function checkRegisteredClaims(
  claims: RegisteredClaims,
  audiences: readonly string[],
  nowMs: number,
  skewMs: number,
): TokenError | undefined {
  if (nowMs >= claims.exp * 1000 + skewMs) return tokenError('ERR_AUTH_TOKEN_EXPIRED');
  if (claims.nbf !== undefined && claims.nbf * 1000 > nowMs + skewMs) return tokenError('ERR_AUTH_TOKEN_NOT_YET_VALID');
  if (audiences.length > 0 && (claims.aud === undefined || !acceptsAudience(audiences, claims.aud))) return tokenError('ERR_AUTH_TOKEN_AUDIENCE', undefined, { claim: 'aud', presented: claims.aud, expected: audiences });
  return undefined;
}

/** RFC 7519 §4.1.3: `aud` (a string or a list) must contain one of the issuer's configured audiences. */
function acceptsAudience(accepted: readonly string[], aud: string | readonly string[]): boolean {
  if (typeof aud === 'string') return accepted.includes(aud);
  for (const a of aud) if (accepted.includes(a)) return true;
  return false;
}

const SP = 0x20;

/**
 * RFC 6749 §3.3 scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). Enforced because
 * scopes are echoed into an identity header and a 403 challenge: a CR/LF or a
 * quote in a scope would be header or challenge injection.
 */
function isScopeChar(c: number): boolean {
  return c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

/** Appends the space-delimited tokens of `s` to `out`; false on a character outside scope-token. */
function splitInto(s: string, out: string[], seen: Set<string>): boolean {
  let start = -1;
  for (let i = 0; i <= s.length; i++) {
    const c = i === s.length ? SP : s.charCodeAt(i);
    if (c === SP) {
      if (start !== -1) {
        const scope = s.slice(start, i);
        if (!seen.has(scope)) {
          seen.add(scope);
          out.push(scope);
        }
        start = -1;
      }
    } else if (!isScopeChar(c)) {
      return false;
    } else if (start === -1) {
      start = i;
    }
  }
  return true;
}

function badClaim(claim: string, why: string): TokenError {
  return new TokenError('ERR_AUTH_TOKEN_BAD_CLAIM', `The ${claim} claim ${why}.`);
}

/**
 * Granted scopes from the configured claims, read in order, merged and de-duplicated
 * (first occurrence wins the position). `scope` must be a space-delimited string
 * (RFC 9068 §2.2.3); every other claim (`scp`, `permissions`, `roles`, a URL-named
 * claim, a `{ path }`) may be an array of strings or a space-delimited string (array
 * elements are themselves split on spaces, so ["a b"] grants a and b). A path that
 * runs into a missing key or a non-object grants nothing. Case-sensitive. A present
 * claim of the wrong type is an error, never "no scopes": a token we cannot read must
 * not be treated as a weaker token.
 */
export function grantedScopes(payload: Readonly<Record<string, unknown>>, scopeClaims: readonly ClaimRef[]): string[] | TokenError {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const ref of scopeClaims) {
    const value = readClaim(payload, ref);
    if (value === undefined && (typeof ref !== 'string' || !Object.hasOwn(payload, ref))) continue;
    const claim = claimLabel(ref);
    if (typeof value === 'string') {
      if (!splitInto(value, out, seen)) return badClaim(claim, 'contains a character not allowed in a scope');
    } else if (ref !== 'scope' && Array.isArray(value)) {
      for (const item of value as unknown[]) {
        if (typeof item !== 'string') return badClaim(claim, 'must be an array of strings');
        if (!splitInto(item, out, seen)) return badClaim(claim, 'contains a character not allowed in a scope');
      }
    } else {
      return badClaim(claim, ref === 'scope' ? 'must be a space-delimited string' : 'must be a string or an array of strings');
    }
  }
  return out;
}

/**
 * OpenID Connect Core §2 limits `sub` to 255 ASCII characters; we require printable
 * ASCII because the subject may be forwarded as a header value.
 */
const MAX_SUBJECT_CHARS = 255;
function isPrintableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

function optionalString(payload: Readonly<Record<string, unknown>>, claim: string): string | undefined | TokenError {
  if (!Object.hasOwn(payload, claim)) return undefined;
  const v = payload[claim];
  if (typeof v !== 'string') return badClaim(claim, 'must be a string');
  return v;
}


/**
 * Build the VerifiedToken from a signature-verified payload whose `exp` has been
 * checked to be a finite number. Keeps only what the hot path and token info
 * read; the payload itself is dropped.
 */
export function buildVerifiedToken(
  issuer: string,
  keyId: string,
  payload: Record<string, unknown>,
  scopeClaims: readonly ClaimRef[],
  keepClaims: readonly string[] = NO_CLAIMS,
): VerifiedToken | TokenError {
  const scopes = grantedScopes(payload, scopeClaims);
  if (scopes instanceof TokenError) return scopes;

  const subject = optionalString(payload, 'sub');
  if (subject instanceof TokenError) return subject;
  if (subject !== undefined && (subject.length > MAX_SUBJECT_CHARS || !isPrintableAscii(subject))) {
    return badClaim('sub', 'must be at most 255 printable ASCII characters');
  }
  const clientIdClaim = optionalString(payload, 'client_id');
  if (clientIdClaim instanceof TokenError) return clientIdClaim;
  const azp = optionalString(payload, 'azp');
  if (azp instanceof TokenError) return azp;

  const granted = internScopes(scopes);
  const iat = payload.iat;
  // Cached with the token: the binding is the token's; the proof of it is checked per request.
  const cnf = readConfirmation(payload.cnf);
  const claims = keptClaims(payload, keepClaims);
  return Object.freeze({
    ...(cnf === undefined ? {} : { cnf }),
    ...(claims === undefined ? {} : { claims }),
    issuer,
    subject,
    clientId: clientIdClaim ?? azp,
    expiresAt: payload.exp as number,
    issuedAt: typeof iat === 'number' ? iat : undefined,
    jwtId: typeof payload.jti === 'string' ? payload.jti : undefined,
    scopes: granted.scopes,
    scopeSet: granted.scopeSet,
    scopeHeader: granted.scopeHeader,
    keyId,
  });
}

const NO_CLAIMS: readonly string[] = Object.freeze([]);

/**
 * The top-level claims route conditions read (policy/conditions.ts), copied out of the
 * payload and frozen; undefined when no route reads any. Only these are kept: the rest
 * of the payload is dropped with it.
 */
function keptClaims(payload: Readonly<Record<string, unknown>>, names: readonly string[]): Readonly<Record<string, unknown>> | undefined {
  if (names.length === 0) return undefined;
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const name of names) if (Object.hasOwn(payload, name)) out[name] = deepFrozen(payload[name]);
  return Object.freeze(out);
}

function deepFrozen(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFrozen(v);
    Object.freeze(value);
  }
  return value;
}

interface GrantedScopes {
  readonly scopes: readonly string[];
  readonly scopeSet: ReadonlySet<string>;
  readonly scopeHeader: string;
}

/**
 * Distinct scope sets seen recently. An IdP issues few distinct combinations,
 * so the cached tokens of one client share one frozen array, Set and header
 * string instead of carrying ~300 bytes each. Cleared when full: a bound, not
 * an LRU, because a miss only costs what every token cost before interning.
 */
const interned = new Map<string, GrantedScopes>();
const MAX_INTERNED_SCOPE_SETS = 4096;

function internScopes(scopes: string[]): GrantedScopes {
  const scopeHeader = scopes.join(' ');
  const known = interned.get(scopeHeader);
  if (known !== undefined) return known;
  if (interned.size >= MAX_INTERNED_SCOPE_SETS) interned.clear();
  const entry: GrantedScopes = Object.freeze({ scopes: Object.freeze(scopes), scopeSet: new Set(scopes), scopeHeader });
  interned.set(scopeHeader, entry);
  return entry;
}
