/**
 * The one wording of each token rejection, shared by the JWS parser, the claim checks
 * and the verifier so that a code always reads the same in an `error_description`.
 */
import { TokenError, type ClaimMismatch, type TokenErrorCode } from '../errors.js';

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
  ERR_AUTH_TOKEN_INACTIVE: 'The token is not active',
};

/** A rejection with its code's standard description, or a more specific `message`. */
export function tokenError(code: TokenErrorCode, message?: string, mismatch?: ClaimMismatch): TokenError {
  return new TokenError(code, message ?? DESCRIPTIONS[code], mismatch === undefined ? undefined : { mismatch });
}
