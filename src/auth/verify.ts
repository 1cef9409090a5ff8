/**
 * JWT access-token verification (RFC 7519, RFC 8725): the orchestration of the parts.
 *
 * Pipeline, cheapest and most decisive checks first:
 *   size → cache (token-cache.ts) → b64token syntax → compact JWS and header rules
 *   (jws.ts) → `iss` picks the issuer and its alg allow-list → registered claims present
 *   and typed (claims.ts) → key by kid from the issuer's store (keyring.ts; a fetch only
 *   when unknown and off cooldown) → key/alg fit → canonical signature segment (jws.ts)
 *   → fast-jwt: signature, exp/nbf with skew, aud (jwt-verifier.ts) → scopes →
 *   VerifiedToken (cached).
 *
 * The signature and the registered claims are checked by fast-jwt, with one verifier per
 * key and algorithm built at JWKS import and specialised per issuer claim policy on its
 * first token, synchronously: a known kid never awaits. Its errors are mapped by code
 * (jwt-verifier.ts). What fast-jwt does not enforce stays here and in jws.ts/claims.ts:
 * which issuer, the algorithm allow-list, the header rules, canonical base64url, `exp`
 * and `aud` presence, the exp boundary, the JWKS policy and the verified-token cache.
 *
 * Decisions worth knowing:
 * - A token without `kid` is accepted only when the issuer's set holds exactly one key
 *   that can verify its alg; with several we refuse rather than try each (trying keys
 *   in turn multiplies the work an attacker can cause and blurs which key signed).
 * - `typ` is not required to be `at+jwt`: RFC 9068 asks for it, but major IdPs send `JWT`
 *   or nothing; only another JWT kind (`logout+jwt`, …) is refused (jws.ts, RFC 8725
 *   §3.11). Exact `iss` + `aud` are what keep ID tokens and foreign JWTs out.
 * - Errors: every rejection is a TokenError with one of the codes in errors.ts; a fast-jwt
 *   error is mapped by its code (a signature of the wrong size is a bad signature), and
 *   anything else thrown is a bug: a 401, never a crash and never a pass.
 */
import type { AuthConfig, IssuerConfig } from '../config/schema.js';
import { KeysUnavailableError, TokenError, type TokenErrorCode } from '../errors.js';
import { isB64Token } from './bearer.js';
import { buildVerifiedToken, readRegisteredClaims, type RegisteredClaims } from './claims.js';
import type { JwksKey, JwksStore } from './jwks.js';
import { hasCanonicalSignature, parseCompactJws, type CompactJws } from './jws.js';
import { checkIssuerPolicy, createIssuerIndex } from './issuer-policy.js';
import { tokenErrorOf, type ClaimPolicy } from './jwt-verifier.js';
import { createKeyring, type Keyring } from './keyring.js';
import { createTokenCache } from './token-cache.js';
import { tokenError } from './token-error.js';
import type { AuthHooks, IssuerKeyDetail, TokenVerifier, VerifyResult } from './types.js';

export interface TokenVerifierOptions {
  /**
   * Hot reload: the verifier being replaced. Issuers whose key settings are unchanged
   * (same issuer, jwks_uri, algorithms and JWKS timings) take over its JWKS store —
   * keys, refresh timer and cooldown — instead of fetching again; an audience or skew
   * change keeps the store. The verified-token cache is never carried over: a new
   * config may accept less than the old one. Closing `previous` afterwards closes only
   * the stores this verifier did not take over.
   */
  readonly previous?: TokenVerifier;
  /** Top-level claims route conditions read: kept on each VerifiedToken (policy/conditions.ts). */
  readonly keepClaims?: readonly string[];
}

interface Issuer {
  readonly config: IssuerConfig;
  readonly algorithms: ReadonlySet<string>;
  readonly store: JwksStore;
  /** What fast-jwt checks besides the signature; one object per issuer and generation (its verifiers are keyed by it). */
  readonly policy: ClaimPolicy;
}

/** Parsed state handed from the synchronous prefix to the (possibly awaited) key step. */
interface Pending {
  readonly token: string;
  readonly jws: CompactJws;
  readonly issuer: Issuer;
  readonly claims: RegisteredClaims;
}

function fail(code: TokenErrorCode, message?: string): VerifyResult {
  return { ok: false, error: tokenError(code, message) };
}

/** The keyring behind each verifier built here: what `previous` hands over, invisible to callers. */
const keyringOf = new WeakMap<TokenVerifier, Keyring>();

export function createTokenVerifier(auth: AuthConfig, hooks?: AuthHooks, options: TokenVerifierOptions = {}): TokenVerifier {
  const skewMs = auth.clockSkewS * 1000;
  const keyring = createKeyring(auth, hooks, options.previous === undefined ? undefined : keyringOf.get(options.previous));
  const issuers = new Map<string, Issuer>();
  // Union of every issuer's allow-list: lets an alg nobody accepts fail before any payload work.
  const anyAllowed = new Set<string>();
  for (const config of auth.issuers) {
    for (const a of config.algorithms) anyAllowed.add(a);
    const policy: ClaimPolicy = Object.freeze({ audiences: config.audiences, skewMs });
    issuers.set(config.issuer, { config, algorithms: new Set(config.algorithms), store: keyring.storeOf(config), policy });
  }
  const cache = createTokenCache(auth.tokenCacheSize);
  const issuerIndex = createIssuerIndex(auth.issuers);

  function finish(p: Pending, key: JwksKey): VerifyResult {
    const alg = p.jws.alg;
    if (!key.algorithms.has(alg)) return fail('ERR_AUTH_TOKEN_KEY_MISMATCH');
    const verifyWithKey = key.verifiers.get(alg);
    if (verifyWithKey === undefined) return fail('ERR_AUTH_TOKEN_KEY_MISMATCH');
    if (!hasCanonicalSignature(p.token, p.jws.signedEnd)) return fail('ERR_AUTH_TOKEN_SIGNATURE');
    const broken = verifyWithKey(p.token, p.issuer.policy);
    if (broken !== undefined) return { ok: false, error: tokenErrorOf(broken, p.issuer.policy, p.jws.payload.aud) };
    // fast-jwt still accepts a token at exactly exp + skew; RFC 7519 §4.1.4 says "before".
    if (Date.now() >= p.claims.exp * 1000 + skewMs) return fail('ERR_AUTH_TOKEN_EXPIRED');
    // The issuer's own rules (client_ids, require_claims, typ): issuer-policy.ts.
    const refused = checkIssuerPolicy(p.issuer.config, p.token, p.jws.payload);
    if (refused !== undefined) return { ok: false, error: refused };
    const verified = buildVerifiedToken(p.issuer.config.issuer, key.id, p.jws.payload, p.issuer.config.scopeClaims ?? auth.scopeClaims, options.keepClaims);
    if (verified instanceof TokenError) return { ok: false, error: verified };
    const result = Object.freeze({ ok: true, token: verified } as const);
    cache.remember(p.token, result, key, p.claims);
    return result;
  }

  function keysUnavailable(p: Pending): VerifyResult {
    return {
      ok: false,
      error: new KeysUnavailableError(`Keys for issuer ${p.issuer.config.issuer} have never been loaded`),
    };
  }

  function lookup(p: Pending): JwksKey | undefined {
    return p.jws.kid !== undefined ? p.issuer.store.getKey(p.jws.kid) : p.issuer.store.soleKeyFor(p.jws.alg);
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
    // anything non-ASCII fails the base64url checks anyway.
    if (token.length > auth.maxTokenBytes) return fail('ERR_AUTH_TOKEN_TOO_LARGE');
    const cached = cache.get(token);
    if (cached !== undefined) return cached;

    // RFC 6750 §2.1 syntax, deferred from extractBearer to here: only a miss pays for the scan.
    if (!isB64Token(token)) return fail('ERR_AUTH_TOKEN_MALFORMED', 'The bearer token is not a b64token (RFC 6750 §2.1)');
    const jws = parseCompactJws(token, anyAllowed);
    if (jws instanceof TokenError) return { ok: false, error: jws };

    // The still unverified payload picks the issuer and refuses tokens that cannot pass
    // before they can cost a key fetch.
    // Exact `iss`, or an issuer template with the token's `tid` (issuer-policy.ts).
    const iss = jws.payload.iss;
    const found = issuerIndex.find(jws.payload);
    const issuer = found === undefined ? undefined : issuers.get(found.issuer);
    if (issuer === undefined) return { ok: false, error: tokenError('ERR_AUTH_TOKEN_ISSUER', undefined, { claim: 'iss', presented: iss, expected: [...issuers.keys()] }) };
    if (!issuer.algorithms.has(jws.alg)) return fail('ERR_AUTH_TOKEN_ALG_NOT_ALLOWED');
    const claims = readRegisteredClaims(jws.payload, Date.now(), skewMs, issuer.config.audiences.length > 0);
    if (claims instanceof TokenError) return { ok: false, error: claims };
    return withKey({ token, jws, issuer, claims });
  }

  const verifier: TokenVerifier = {
    verify(token: string): VerifyResult | Promise<VerifyResult> {
      try {
        const r = verifyUnsafe(token);
        return r instanceof Promise ? r.catch(unexpected) : r;
      } catch (err) {
        return unexpected(err);
      }
    },
    ready: () => keyring.ready(),
    start: () => keyring.start(),
    close: () => keyring.close(),
    issuerStates: () => keyring.states(),
    cacheStats: () => cache.stats(),
  };
  keyringOf.set(verifier, keyring);
  return verifier;
}

/** The key stores' detail behind a verifier this module built, for the admin page; [] for any other verifier. */
export function keyDetailsOf(verifier: TokenVerifier): readonly IssuerKeyDetail[] {
  return keyringOf.get(verifier)?.details() ?? [];
}

/** The verifier never throws: a bug here is a 401, not a crash and never a pass. */
function unexpected(err: unknown): VerifyResult {
  return { ok: false, error: new TokenError('ERR_AUTH_TOKEN_MALFORMED', 'Token verification failed', { cause: err }) };
}
