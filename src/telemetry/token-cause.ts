/**
 * Why a token was refused, in a few words an operator can act on: the `cause`
 * label of scopegate_decisions_total and the `cause` of an access line
 * (README, Operations). One bounded set, mapped from the verifier's error codes
 * in one table: a new code without a row does not compile.
 */
import type { TokenErrorCode } from '../errors.js';

export type TokenCause = 'expired' | 'not_yet_valid' | 'bad_signature' | 'unknown_key' | 'issuer' | 'audience' | 'malformed' | 'algorithm' | 'inactive' | 'sender_constraint';

// `inactive`: introspection said active: false (RFC 7662). `sender_constraint`: the token verified but its
// binding (DPoP, certificate) could not be checked; that cause is carried on the deny itself.
export const TOKEN_CAUSES: readonly TokenCause[] = ['expired', 'not_yet_valid', 'bad_signature', 'unknown_key', 'issuer', 'audience', 'malformed', 'algorithm', 'inactive', 'sender_constraint'];

const CAUSE_OF: { readonly [C in TokenErrorCode]: TokenCause } = {
  ERR_AUTH_TOKEN_MALFORMED: 'malformed',
  ERR_AUTH_TOKEN_TOO_LARGE: 'malformed',
  ERR_AUTH_TOKEN_HEADER_FORBIDDEN: 'malformed',
  ERR_AUTH_TOKEN_MISSING_EXP: 'malformed',
  ERR_AUTH_TOKEN_BAD_CLAIM: 'malformed',
  ERR_AUTH_TOKEN_ALG_NOT_ALLOWED: 'algorithm',
  // A key of another type than the token's alg names: the algorithm does not fit.
  ERR_AUTH_TOKEN_KEY_MISMATCH: 'algorithm',
  ERR_AUTH_TOKEN_KEY_UNKNOWN: 'unknown_key',
  ERR_AUTH_TOKEN_SIGNATURE: 'bad_signature',
  ERR_AUTH_TOKEN_EXPIRED: 'expired',
  ERR_AUTH_TOKEN_NOT_YET_VALID: 'not_yet_valid',
  ERR_AUTH_TOKEN_ISSUER: 'issuer',
  ERR_AUTH_TOKEN_AUDIENCE: 'audience',
  ERR_AUTH_TOKEN_INACTIVE: 'inactive',
};

/** The cause of a deny code, or undefined for a code that is not a token rejection. */
export function tokenCause(code: string | undefined): TokenCause | undefined {
  return code !== undefined && Object.hasOwn(CAUSE_OF, code) ? CAUSE_OF[code as TokenErrorCode] : undefined;
}
