/**
 * JWT access-token verification (DESIGN.md §7) with a verified-token cache.
 *
 * Pipeline, cheapest and most decisive checks first:
 *   size → cache → header pre-parse (alg allow-list, forbidden headers) → payload
 *   pre-parse (iss picks the issuer, claim presence/types) → key by kid (fetch only
 *   when unknown and off cooldown) → key/alg fit → signature → exp/nbf (with skew)
 *   and aud → scopes → VerifiedToken (cached).
 *
 * The signature is checked with one-shot node:crypto `verify()` on a KeyObject built
 * once per key and algorithm at JWKS import (signatureCheck), and the claims are read
 * from the payload the pre-parser already decoded. This replaced fast-jwt's verifier,
 * which did the same checks through the streaming createVerify API after decoding the
 * token a second time: measured at 1.45x the cost of crypto.verify alone for RS256,
 * over the 1.3x budget of the benchmark issue. A known kid never awaits.
 *
 * Decisions worth knowing:
 * - A token without `kid` is accepted only when the issuer's set holds exactly one key
 *   that can verify its alg; with several we refuse rather than try each (trying keys
 *   in turn multiplies the work an attacker can cause and blurs which key signed).
 * - `typ` is not enforced: RFC 9068 asks for `at+jwt`, but major IdPs send `JWT` or
 *   nothing; exact `iss` + `aud` are what keep ID tokens and foreign JWTs out.
 * - Verified-token cache: an entry is served only if its token is identical (full string
 *   compare), `Date.now() < exp` (not exp + skew: the skew window re-verifies), and its
 *   key record is not `revoked` (set by a JWKS refresh that dropped or replaced the key).
 *   Tokens valid only thanks to skew on nbf/iat are not cached. All O(1) on a hit.
 * - Errors: every rejection is a TokenError with one of the codes in errors.ts; node:crypto
 *   failures (a signature of the wrong size) are a false signature check, never a throw.
 */
import { constants, createPublicKey, verify as cryptoVerify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { ALGORITHMS, type Algorithm, type AuthConfig, type IssuerConfig } from '../config/schema.js';
import { KeysUnavailableError, TokenError, type TokenErrorCode } from '../errors.js';
import { isB64Token } from './bearer.js';
import { buildVerifiedToken } from './claims.js';
import { createJwksStore, type JwksKey, type JwksStore, type KeyVerifyFn } from './jwks.js';
import type { AuthHooks, IssuerKeyState, TokenVerifier, VerifiedToken, VerifyResult } from './types.js';

/** Header parameters that would let the token choose its own key (RFC 7515 §4.1.2–4.1.6). */
const KEY_BEARING_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;

const DESCRIPTIONS: Readonly<Record<TokenErrorCode, string>> = {
  ERR_AUTH_TOKEN_MALFORMED: 'The token is malformed',
  ERR_AUTH_TOKEN_TOO_LARGE: 'The token is too large',
  ERR_AUTH_TOKEN_ALG_NOT_ALLOWED: 'The token algorithm is not allowed',
  ERR_AUTH_TOKEN_HEADER_FORBIDDEN: 'The token header carries a forbidden parameter',
  ERR_AUTH_TOKEN_KEY_UNKNOWN: 'The token signing key is unknown',
  ERR_AUTH_TOKEN_KEY_MISMATCH: 'The token signing key does not fit its algorithm',
  ERR_AUTH_TOKEN_SIGNATURE: 'The token signature is invalid',
  ERR_AUTH_TOKEN_EXPIRED: 'The token has expired',
  ERR_AUTH_TOKEN_NOT_YET_VALID: 'The token is not valid yet',
  ERR_AUTH_TOKEN_MISSING_EXP: 'The token has no exp claim',
  ERR_AUTH_TOKEN_BAD_CLAIM: 'The token has an invalid claim',
  ERR_AUTH_TOKEN_ISSUER: 'The token issuer is not trusted',
  ERR_AUTH_TOKEN_AUDIENCE: 'The token audience is not accepted',
};
function describe(code: TokenErrorCode): string {
  return DESCRIPTIONS[code];
}

function fail(code: TokenErrorCode, message?: string): VerifyResult {
  return { ok: false, error: new TokenError(code, message ?? describe(code)) };
}

/** RFC 7518 §3.1: the hash of each JWS algorithm (EdDSA hashes internally). */
const HASH: Readonly<Record<Algorithm, string | null>> = {
  RS256: 'sha256', RS384: 'sha384', RS512: 'sha512',
  PS256: 'sha256', PS384: 'sha384', PS512: 'sha512',
  ES256: 'sha256', ES384: 'sha384', ES512: 'sha512',
  EdDSA: null,
};

/**
 * One key, one algorithm → a signature check. RSASSA-PSS uses a salt as long as the
 * hash (RFC 7518 §3.5); ECDSA signatures are JOSE's fixed-size R||S (RFC 7518 §3.4),
 * which Node verifies as `ieee-p1363` and rejects when R or S is zero (CVE-2022-21449).
 */
function signatureCheck(pem: string, alg: Algorithm): KeyVerifyFn {
  const key: KeyObject = createPublicKey(pem);
  const hash = HASH[alg];
  const family = alg.slice(0, 2);
  const input: KeyObject | VerifyKeyObjectInput =
    family === 'PS'
      ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
      : family === 'ES'
        ? { key, dsaEncoding: 'ieee-p1363' }
        : key;
  return (signingInput, signature) => {
    try {
      return cryptoVerify(hash, signingInput, input, signature);
    } catch {
      // A signature of the wrong size for the key, for one: not a valid signature.
      return false;
    }
  };
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
function isBase64Url(s: string, from: number, to: number): boolean {
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

/** JSON object from a base64url segment, or undefined (not base64url, not JSON, not an object). */
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

/** ±8.64e12 s: the range of a JavaScript Date (ECMA-262 §21.4.1.1). A date claim outside it means nothing. */
const MAX_DATE_CLAIM_S = 8.64e12;

/** A NumericDate (RFC 7519 §2) scopegate can compute with: finite and within the Date range. */
function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_DATE_CLAIM_S;
}

/**
 * Cache lookup key: the token's last 32 characters (inside the signature: 192 bits that
 * only the key holder can choose for a valid token). V8 hashes a Map key string in full,
 * and every request brings a fresh, unhashed token string: keying by the whole token cost
 * ~1000 ns per hit for a 700-byte RS256 token, the 32-char tail ~150 ns (measured, see
 * test/unit/auth/verify.test.ts). The tail only *finds* the entry; a hit also requires
 * `entry.token === token` (a memcmp), so a swapped payload under a reused signature, or
 * any forged token sharing the tail, misses and is verified in full. Only verified tokens
 * are ever stored, so a forgery cannot displace an entry either.
 */
const CACHE_KEY_CHARS = 32;
function cacheKey(token: string): string {
  return token.length > CACHE_KEY_CHARS ? token.slice(token.length - CACHE_KEY_CHARS) : token;
}

interface CacheEntry {
  /** The full token: identity, compared on every hit. */
  readonly token: string;
  /** The exact result returned on a hit: no allocation per hit. */
  readonly result: VerifyResult;
  /** exp in ms. An entry is served only while Date.now() < expMs. */
  readonly expMs: number;
  /** Checked on every hit: a key removed by a JWKS refresh stops its tokens at once. */
  readonly key: JwksKey;
}

interface Issuer {
  readonly config: IssuerConfig;
  readonly algorithms: ReadonlySet<string>;
  readonly store: JwksStore;
}

/** Parsed state handed from the synchronous prefix to the (possibly awaited) key step. */
interface Pending {
  readonly token: string;
  /** Index of the second `.`: the signing input is token[0, signedEnd). */
  readonly signedEnd: number;
  readonly issuer: Issuer;
  readonly alg: Algorithm;
  readonly kid: string | undefined;
  /** The payload parsed once by the pre-parser; trusted only after the signature checks out. */
  readonly payload: Record<string, unknown>;
  readonly exp: number;
  readonly nbf: number | undefined;
  readonly iat: number | undefined;
  readonly aud: string | readonly string[];
}

export interface TokenVerifierInternals extends TokenVerifier {
  /** The per-issuer stores, for tests and /readyz detail. */
  readonly stores: ReadonlyMap<string, JwksStore>;
  /**
   * Hot reload: close the stores a successor did not take over. Call after the
   * successor is serving; stores it adopted keep their keys and timers.
   */
  retire(successor: TokenVerifierInternals): Promise<void>;
  /** Store per issuer fingerprint, for a successor to adopt. */
  readonly byFingerprint: ReadonlyMap<string, JwksStore>;
}

export interface TokenVerifierOptions {
  /**
   * Hot reload: the verifier being replaced. Issuers whose key settings are unchanged
   * (same issuer, jwks_uri, algorithms and JWKS timings)
   * take over its JWKS store — keys, refresh timer and cooldown — instead of
   * fetching again. The verified-token cache is never carried over: a new config
   * may accept less than the old one.
   */
  readonly reuse?: TokenVerifierInternals;
}

/**
 * Everything a JWKS store and its per-key signature checks were built from. Audiences
 * and clock skew are read per token by this verifier, so changing them keeps the store.
 */
function issuerFingerprint(config: IssuerConfig, auth: AuthConfig): string {
  return JSON.stringify([config.issuer, config.jwksUri, config.algorithms, auth.jwks]);
}

export function createTokenVerifier(auth: AuthConfig, hooks?: AuthHooks, options: TokenVerifierOptions = {}): TokenVerifierInternals {
  const skewMs = auth.clockSkewS * 1000;
  const issuers = new Map<string, Issuer>();
  const stores = new Map<string, JwksStore>();
  const byFingerprint = new Map<string, JwksStore>();
  /** Stores this verifier created (and so must start); adopted ones are already running. */
  const created = new Set<JwksStore>();
  // Union of every issuer's allow-list: lets an alg nobody accepts fail before any payload work.
  const anyAllowed = new Set<string>();

  for (const config of auth.issuers) {
    const fingerprint = issuerFingerprint(config, auth);
    const adopted = options.reuse?.byFingerprint.get(fingerprint);
    const store = adopted ?? createJwksStore(config, auth.jwks, hooks, {
      createVerifier: signatureCheck,
    });
    if (adopted === undefined) created.add(store);
    for (const a of config.algorithms) anyAllowed.add(a);
    issuers.set(config.issuer, { config, algorithms: new Set(config.algorithms), store });
    stores.set(config.issuer, store);
    byFingerprint.set(fingerprint, store);
  }
  const knownAlgorithms = new Set<string>(ALGORITHMS);

  const cache =
    auth.tokenCacheSize > 0 ? new LRUCache<string, CacheEntry>({ max: auth.tokenCacheSize }) : undefined;
  let hits = 0;
  let misses = 0;

  function finish(p: Pending, key: JwksKey): VerifyResult {
    if (!key.algorithms.has(p.alg)) return fail('ERR_AUTH_TOKEN_KEY_MISMATCH');
    const checkSignature = key.verifiers.get(p.alg);
    if (checkSignature === undefined) return fail('ERR_AUTH_TOKEN_KEY_MISMATCH');
    const token = p.token;
    if (p.signedEnd + 1 === token.length || !isBase64Url(token, p.signedEnd + 1, token.length)) return fail('ERR_AUTH_TOKEN_SIGNATURE');
    const signed = Buffer.from(token.slice(0, p.signedEnd), 'latin1');
    const signature = Buffer.from(token.slice(p.signedEnd + 1), 'base64url');
    if (!checkSignature(signed, signature)) return fail('ERR_AUTH_TOKEN_SIGNATURE');

    // The claims, now that they are known to be the issuer's (types were checked by the pre-parser).
    const now = Date.now();
    if (now >= p.exp * 1000 + skewMs) return fail('ERR_AUTH_TOKEN_EXPIRED');
    if (p.nbf !== undefined && p.nbf * 1000 > now + skewMs) return fail('ERR_AUTH_TOKEN_NOT_YET_VALID');
    if (!acceptsAudience(p.issuer.config.audiences, p.aud)) return fail('ERR_AUTH_TOKEN_AUDIENCE');

    const payload = p.payload;
    const verified: VerifiedToken | TokenError = buildVerifiedToken(p.issuer.config.issuer, key.id, payload, auth.scopeClaims);
    if (verified instanceof TokenError) return { ok: false, error: verified };
    const result: VerifyResult = Object.freeze({ ok: true, token: verified });
    if (cache !== undefined) {
      const now = Date.now();
      const expMs = verified.expiresAt * 1000;
      // Strictly before exp (the skew window re-verifies instead), and never a token that
      // is only valid thanks to skew on nbf/iat: a cache hit must mean "valid now".
      const early = (p.nbf !== undefined && p.nbf * 1000 > now) || (p.iat !== undefined && p.iat * 1000 > now);
      if (expMs > now && !early) cache.set(cacheKey(p.token), { token: p.token, result, expMs, key });
    }
    return result;
  }

  function keysUnavailable(p: Pending): VerifyResult {
    return {
      ok: false,
      error: new KeysUnavailableError(`Keys for issuer ${p.issuer.config.issuer} have never been loaded`),
    };
  }

  function lookup(p: Pending): JwksKey | undefined {
    return p.kid !== undefined ? p.issuer.store.getKey(p.kid) : p.issuer.store.soleKeyFor(p.alg);
  }

  function withKey(p: Pending): VerifyResult | Promise<VerifyResult> {
    const store = p.issuer.store;
    if (!store.loaded()) {
      const fetching = store.refetch();
      if (fetching === undefined) return keysUnavailable(p);
      return fetching.then(() => {
        if (!store.loaded()) return keysUnavailable(p);
        const key = lookup(p);
        return key === undefined ? fail('ERR_AUTH_TOKEN_KEY_UNKNOWN') : finish(p, key);
      });
    }
    const key = lookup(p);
    if (key !== undefined) return finish(p, key);
    // Unknown kid: maybe a rotation we have not seen. Refetch at most once per cooldown,
    // joining any fetch already in flight.
    const fetching = store.refetch();
    if (fetching === undefined) return fail('ERR_AUTH_TOKEN_KEY_UNKNOWN');
    return fetching.then(() => {
      const again = lookup(p);
      return again === undefined ? fail('ERR_AUTH_TOKEN_KEY_UNKNOWN') : finish(p, again);
    });
  }

  function verifyUnsafe(token: string): VerifyResult | Promise<VerifyResult> {
    // Length in UTF-16 units: a bearer token is ASCII (b64token), where that equals bytes;
    // anything non-ASCII fails the base64url checks below anyway.
    if (token.length > auth.maxTokenBytes) return fail('ERR_AUTH_TOKEN_TOO_LARGE');

    if (cache !== undefined) {
      const k = cacheKey(token);
      const entry = cache.get(k);
      if (entry !== undefined && entry.token === token) {
        if (!entry.key.revoked && Date.now() < entry.expMs) {
          hits++;
          return entry.result;
        }
        cache.delete(k);
      }
      misses++;
    }

    // RFC 6750 §2.1 syntax, deferred from extractBearer to here: only a miss pays for the scan.
    if (!isB64Token(token)) return fail('ERR_AUTH_TOKEN_MALFORMED', 'The bearer token is not a b64token (RFC 6750 §2.1)');

    // Structure: exactly three segments. Five is a JWE, which we never decrypt.
    const dot1 = token.indexOf('.');
    const dot2 = dot1 === -1 ? -1 : token.indexOf('.', dot1 + 1);
    if (dot2 === -1) return fail('ERR_AUTH_TOKEN_MALFORMED');
    if (token.indexOf('.', dot2 + 1) !== -1) return fail('ERR_AUTH_TOKEN_MALFORMED', 'The token is not a compact JWS (JWE is not accepted)');

    const header = parseSegment(token, 0, dot1);
    if (header === undefined || header === 'not-object') return fail('ERR_AUTH_TOKEN_MALFORMED', 'The token header is not a base64url JSON object');
    const alg = header.alg;
    if (typeof alg !== 'string') return fail('ERR_AUTH_TOKEN_MALFORMED', 'The token header has no alg');
    // `none` in any casing is refused by name, whatever a config might say.
    if (alg.toLowerCase() === 'none' || !knownAlgorithms.has(alg) || !anyAllowed.has(alg)) {
      return fail('ERR_AUTH_TOKEN_ALG_NOT_ALLOWED');
    }
    for (const name of KEY_BEARING_HEADERS) {
      if (Object.hasOwn(header, name)) return fail('ERR_AUTH_TOKEN_HEADER_FORBIDDEN', `The token header carries "${name}"`);
    }
    // We understand no JWS extension (RFC 7515 §4.1.11), so any crit is fatal; `b64`
    // (RFC 7797) changes what the signature covers and is refused even without crit.
    if (Object.hasOwn(header, 'crit')) return fail('ERR_AUTH_TOKEN_HEADER_FORBIDDEN', 'The token header carries "crit"');
    if (Object.hasOwn(header, 'b64')) return fail('ERR_AUTH_TOKEN_HEADER_FORBIDDEN', 'The token header carries "b64"');
    const kid = header.kid;
    if (kid !== undefined && (typeof kid !== 'string' || kid === '')) return fail('ERR_AUTH_TOKEN_MALFORMED', 'The token kid is not a non-empty string');

    // Cheap decode of the (still unverified) payload, to pick the issuer and to refuse
    // tokens that cannot pass before they can cost a key fetch.
    const payload = parseSegment(token, dot1 + 1, dot2);
    if (payload === undefined) return fail('ERR_AUTH_TOKEN_MALFORMED', 'The token payload is not base64url JSON');
    if (payload === 'not-object') return fail('ERR_AUTH_TOKEN_BAD_CLAIM', 'The token payload is not a JSON object');
    const iss = payload.iss;
    const issuer = typeof iss === 'string' ? issuers.get(iss) : undefined;
    if (issuer === undefined) return fail('ERR_AUTH_TOKEN_ISSUER');
    if (!issuer.algorithms.has(alg)) return fail('ERR_AUTH_TOKEN_ALG_NOT_ALLOWED');

    if (!Object.hasOwn(payload, 'exp')) return fail('ERR_AUTH_TOKEN_MISSING_EXP');
    if (!isFiniteNumber(payload.exp)) return fail('ERR_AUTH_TOKEN_BAD_CLAIM', 'The exp claim is not a number');
    const nbf = payload.nbf;
    const iat = payload.iat;
    if (nbf !== undefined && !isFiniteNumber(nbf)) return fail('ERR_AUTH_TOKEN_BAD_CLAIM', 'The nbf claim is not a number');
    if (iat !== undefined && !isFiniteNumber(iat)) return fail('ERR_AUTH_TOKEN_BAD_CLAIM', 'The iat claim is not a number');
    // A token issued in the future (beyond skew) is refused: no honest clock produces one.
    if (iat !== undefined && iat * 1000 > Date.now() + skewMs) return fail('ERR_AUTH_TOKEN_NOT_YET_VALID', 'The token iat is in the future');
    const aud = payload.aud;
    if (aud === undefined) return fail('ERR_AUTH_TOKEN_AUDIENCE', 'The token has no aud claim');
    if (!(typeof aud === 'string' || (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === 'string')))) {
      return fail('ERR_AUTH_TOKEN_BAD_CLAIM', 'The aud claim is not a string or an array of strings');
    }

    return withKey({ token, signedEnd: dot2, issuer, alg: alg as Algorithm, kid, payload, exp: payload.exp, nbf, iat, aud: aud as string | readonly string[] });
  }

  return {
    stores,
    byFingerprint,
    verify(token: string): VerifyResult | Promise<VerifyResult> {
      try {
        const r = verifyUnsafe(token);
        return r instanceof Promise ? r.catch(unexpected) : r;
      } catch (err) {
        return unexpected(err);
      }
    },
    ready: () => [...stores.values()].every((s) => s.loaded()),
    start: async () => {
      await Promise.all([...created].map((s) => s.start()));
    },
    close: async () => {
      await Promise.all([...stores.values()].map((s) => s.close()));
    },
    retire: async (successor) => {
      const kept = new Set(successor.stores.values());
      await Promise.all([...stores.values()].filter((s) => !kept.has(s)).map((s) => s.close()));
    },
    issuerStates: (): readonly IssuerKeyState[] => [...stores.values()].map((s) => s.state()),
    cacheStats: () => ({ hits, misses, size: cache?.size ?? 0 }),
  };
}

/** RFC 7519 §4.1.3: `aud` (a string or a list) must contain one of the issuer's configured audiences. */
function acceptsAudience(accepted: readonly string[], aud: string | readonly string[]): boolean {
  if (typeof aud === 'string') return accepted.includes(aud);
  for (const a of aud) if (accepted.includes(a)) return true;
  return false;
}

/** The verifier never throws: a bug here is a 401, not a crash and never a pass. */
function unexpected(err: unknown): VerifyResult {
  return { ok: false, error: new TokenError('ERR_AUTH_TOKEN_MALFORMED', 'Token verification failed', { cause: err }) };
}
