/**
 * An RFC 7662 §2.2 introspection response → the VerifiedToken the policy layer reads for
 * JWTs, or the reason the token is refused.
 *
 * `active: true` gives scopes (`scope`, space-delimited), subject (`sub`, none when absent),
 * client id (`client_id`) and expiry (`exp`, optional); an `exp` already past, an `iss` other
 * than the configured issuer, or an `aud` holding none of the configured audiences is refused
 * as 401 invalid_token. A member of the wrong type is refused too: a response we cannot read
 * must not pass as a weaker token. `active: false` is refused as inactive.
 */
import { TokenError, type TokenErrorCode } from '../errors.js';
import { buildVerifiedToken } from './claims.js';
import type { VerifiedToken } from './types.js';

/** What checks an active response beyond `active` itself. */
export interface ResponseChecks {
  /** When set, a response carrying `iss` must equal it. */
  readonly issuer: string | undefined;
  /** When non-empty, a response carrying `aud` must contain one of them. */
  readonly audiences: readonly string[];
  /** The VerifiedToken's issuer when the response has no `iss` and none is configured. */
  readonly fallbackIssuer: string;
}

/** `active: false` (RFC 7662 §2.2): expired, revoked, never issued, or not for us: the server does not say which. */
export const ERR_AUTH_TOKEN_INACTIVE = 'ERR_AUTH_TOKEN_INACTIVE' satisfies TokenErrorCode;

export class TokenInactiveError extends TokenError {
  constructor() {
    super(ERR_AUTH_TOKEN_INACTIVE, 'The token is not active'); // the wording of token-error.ts
  }
}

/** `keyId` of an introspected token: no signing key vouched for it, the introspection endpoint did. */
export const INTROSPECTED_KEY_ID = 'introspection';

/** ±8.64e12 s: the range of a JavaScript Date (ECMA-262 §21.4.1.1); token info formats these as dates. */
const MAX_DATE_S = 8.64e12;

function isDate(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_DATE_S;
}

function refuse(code: TokenErrorCode, message: string): TokenError {
  return new TokenError(code, message);
}

function audienceRefusal(aud: unknown, accepted: readonly string[]): TokenError | undefined {
  if (aud === undefined || accepted.length === 0) return undefined;
  const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) && aud.every((a) => typeof a === 'string') ? (aud as string[]) : undefined;
  if (list === undefined) return refuse('ERR_AUTH_TOKEN_BAD_CLAIM', 'The aud claim is not a string or an array of strings');
  return list.some((a) => accepted.includes(a)) ? undefined : refuse('ERR_AUTH_TOKEN_AUDIENCE', 'The token audience is not accepted');
}

/**
 * The token, or why it is refused; `undefined` when the body is not an introspection response
 * at all (no boolean `active`), which the caller treats as the endpoint failing.
 * `untilS` is when scopegate asks again: the VerifiedToken's `expiresAt` when there is no `exp`.
 */
export function interpretResponse(
  body: Readonly<Record<string, unknown>>,
  checks: ResponseChecks,
  nowS: number,
  untilS: number,
): VerifiedToken | TokenError | undefined {
  if (typeof body.active !== 'boolean') return undefined;
  if (!body.active) return new TokenInactiveError();

  const { exp, iat, iss } = body;
  if (exp !== undefined && !isDate(exp)) return refuse('ERR_AUTH_TOKEN_BAD_CLAIM', 'The exp claim is not a number');
  if (exp !== undefined && exp <= nowS) return refuse('ERR_AUTH_TOKEN_EXPIRED', 'The token has expired');
  if (iat !== undefined && !isDate(iat)) return refuse('ERR_AUTH_TOKEN_BAD_CLAIM', 'The iat claim is not a number');
  if (iss !== undefined && typeof iss !== 'string') return refuse('ERR_AUTH_TOKEN_BAD_CLAIM', 'The iss claim is not a string');
  if (iss !== undefined && checks.issuer !== undefined && iss !== checks.issuer) {
    return refuse('ERR_AUTH_TOKEN_ISSUER', 'The token issuer is not trusted');
  }
  const audience = audienceRefusal(body.aud, checks.audiences);
  if (audience !== undefined) return audience;

  // Only the members scopegate reads reach the shared claim reader: the same scope, sub and
  // client_id rules as a JWT (scope-token characters, a header-safe subject).
  const claims: Record<string, unknown> = { exp: exp ?? untilS, iat };
  for (const name of ['scope', 'sub', 'client_id'] as const) if (body[name] !== undefined) claims[name] = body[name];
  return buildVerifiedToken(iss ?? checks.issuer ?? checks.fallbackIssuer, INTROSPECTED_KEY_ID, claims, ['scope']);
}
