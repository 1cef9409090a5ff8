/**
 * Signature and registered-claim verification through fast-jwt: one verifier per key
 * and algorithm of an imported JWK Set, specialised per claim policy (one issuer's
 * audiences and the clock skew). Each fast-jwt verifier is built synchronously (the key
 * is a PEM, never a callback), so a token with a known kid never awaits.
 *
 * fast-jwt checks: the algorithm against the one this key was imported for, the
 * signature (RFC 7515 §5.2; RSASSA-PSS with a salt as long as the hash, RFC 7518 §3.5;
 * ECDSA from JOSE's R||S form, RFC 7518 §3.4), `exp` and `nbf` with the clock tolerance,
 * `exp` present, and `aud` against the issuer's audiences when it lists any.
 *
 * Where fast-jwt falls short of a rule scopegate keeps, the rule stays in our code:
 * - base64url: its decoder checks the alphabet, not the unused low bits of the last
 *   character, so one signature would have several spellings (jws.ts isBase64Url runs
 *   on every segment first);
 * - `exp`: it accepts a token at exactly exp (+ tolerance); RFC 7519 §4.1.4 says the
 *   current time must be *before* it (verify.ts refuses the boundary);
 * - `aud`: it checks the values only when the claim is present (claims.ts requires it);
 * - headers: it accepts `jwk`/`jku`/`x5u`/`x5c`, `b64`, understood `crit` entries and any
 *   `typ`, and an `alg` of any casing the key fits (jws.ts refuses all of these first);
 * - it decodes the token a second time: the price of its claim checks (bench/jose-before-after.mjs).
 */
import { createVerifier, TokenError as FastJwtError } from 'fast-jwt';
import type { Algorithm } from '../config/schema.js';
import type { TokenError, TokenErrorCode } from '../errors.js';
import { tokenError } from './token-error.js';

/** What a verified token must satisfy beyond its signature, per issuer and config generation. */
export interface ClaimPolicy {
  /** Accepted `aud` values; empty means the issuer checks no audience (client_ids instead). */
  readonly audiences: readonly string[];
  readonly skewMs: number;
}

/**
 * Verifies one compact JWS with one key and one algorithm under `policy`: the fast-jwt
 * error code of the first rule broken, or undefined. Only fast-jwt's own errors are
 * returned; anything else thrown is a bug and propagates (the verifier turns it into a 401).
 */
export type KeyVerifier = (token: string, policy: ClaimPolicy) => string | undefined;

type FastVerify = (token: string) => unknown;

/**
 * One key (SPKI PEM) and algorithm → a KeyVerifier, built at JWKS import. Building the
 * policy-free verifier here refuses a key that does not fit the algorithm at import
 * (fast-jwt throws FAST_JWT_INVALID_KEY) and warms fast-jwt's key-type detection; the
 * per-policy verifiers are built on their first token and live as long as the policy
 * object (one per issuer and config generation) does.
 */
export function keyVerifier(pem: string, alg: Algorithm): KeyVerifier {
  const base = () => ({ key: pem, algorithms: [alg], requiredClaims: ['exp'], cache: false });
  createVerifier(base());
  const byPolicy = new WeakMap<ClaimPolicy, FastVerify>();
  return (token, policy) => {
    let verify = byPolicy.get(policy);
    if (verify === undefined) {
      verify = createVerifier({
        ...base(),
        clockTolerance: policy.skewMs,
        ...(policy.audiences.length > 0 ? { allowedAud: [...policy.audiences] } : {}),
      }) as FastVerify;
      byPolicy.set(policy, verify);
    }
    try {
      verify(token);
      return undefined;
    } catch (err) {
      if (err instanceof FastJwtError) return err.code;
      throw err;
    }
  };
}

/**
 * fast-jwt error codes (its TokenError.codes) → scopegate's. Keyed by code, never by
 * message. Codes the pre-checks make unreachable are mapped all the same, so a change in
 * either side still fails closed with the nearest meaning.
 */
const BY_CODE: Readonly<Record<string, TokenErrorCode>> = {
  FAST_JWT_INVALID_SIGNATURE: 'ERR_AUTH_TOKEN_SIGNATURE',
  FAST_JWT_MISSING_SIGNATURE: 'ERR_AUTH_TOKEN_SIGNATURE',
  // node:crypto could not run the check (an ECDSA signature of the wrong size): not a valid signature.
  FAST_JWT_VERIFY_ERROR: 'ERR_AUTH_TOKEN_SIGNATURE',
  FAST_JWT_EXPIRED: 'ERR_AUTH_TOKEN_EXPIRED',
  FAST_JWT_INACTIVE: 'ERR_AUTH_TOKEN_NOT_YET_VALID',
  // `aud` is the only claim given allowed values (allowedAud); see auth/claims.ts for the types.
  FAST_JWT_INVALID_CLAIM_VALUE: 'ERR_AUTH_TOKEN_AUDIENCE',
  FAST_JWT_INVALID_CLAIM_TYPE: 'ERR_AUTH_TOKEN_BAD_CLAIM',
  // `exp` is the only required claim.
  FAST_JWT_MISSING_REQUIRED_CLAIM: 'ERR_AUTH_TOKEN_MISSING_EXP',
  FAST_JWT_INVALID_ALGORITHM: 'ERR_AUTH_TOKEN_ALG_NOT_ALLOWED',
  FAST_JWT_INVALID_KEY: 'ERR_AUTH_TOKEN_KEY_MISMATCH',
  FAST_JWT_MISSING_KEY: 'ERR_AUTH_TOKEN_KEY_MISMATCH',
  FAST_JWT_INVALID_CRIT_HEADER: 'ERR_AUTH_TOKEN_HEADER_FORBIDDEN',
  FAST_JWT_INVALID_PAYLOAD: 'ERR_AUTH_TOKEN_BAD_CLAIM',
  FAST_JWT_MALFORMED: 'ERR_AUTH_TOKEN_MALFORMED',
  FAST_JWT_INVALID_TYPE: 'ERR_AUTH_TOKEN_MALFORMED',
};

/**
 * The TokenError for a fast-jwt error code. An audience refusal carries the mismatch
 * (presented vs accepted) like every other claim refusal; an unknown code is a
 * malformed token, never a pass.
 */
export function tokenErrorOf(code: string, policy: ClaimPolicy, presentedAud: unknown): TokenError {
  const mapped: TokenErrorCode = Object.hasOwn(BY_CODE, code) ? BY_CODE[code]! : 'ERR_AUTH_TOKEN_MALFORMED';
  if (mapped !== 'ERR_AUTH_TOKEN_AUDIENCE') return tokenError(mapped);
  if (policy.audiences.length === 0) return tokenError('ERR_AUTH_TOKEN_BAD_CLAIM');
  return tokenError(mapped, undefined, { claim: 'aud', presented: presentedAud, expected: policy.audiences });
}
