/**
 * Every deny scopegate answers, built from one table keyed by code: status,
 * metrics reason, RFC 6750 `error`, default description and Bearer challenge.
 * The response (respond/deny.ts), the `reason` label of
 * scopegate_decisions_total and the access line's `code` all read a Deny built
 * here, so a deny cannot say one thing on the wire and another in the logs.
 *
 * Denials that do not depend on the request are built once and frozen: the
 * constants below at load, and each route's own (missing token, insufficient
 * scope, refused query parameters) when the route table is compiled.
 */
import { DPOP_CHECKS } from '../auth/dpop.js';
import { SENDER_DESCRIPTIONS } from '../auth/sender-constraint.js';
import type { ClaimMismatch, DenyCode, PathErrorCode, SenderDenyCode, TokenErrorCode } from '../errors.js';
import type { ChallengeError, Deny, DenyReason } from './decision.js';

export interface DenialSpec {
  readonly status: Deny['status'];
  /** The `reason` label of scopegate_decisions_total and of the access line. */
  readonly reason: DenyReason;
  /** The JSON body's `error` (an RFC 6750 §3.1 code where auth is concerned). */
  readonly error: string;
  /** The body's `error_description` unless the deny passes its own (a path or token error message). */
  readonly description: string;
  /** Whether the response carries a Bearer challenge, and with which error; none when absent. */
  readonly challenge?: ChallengeError;
}

/** A refused request target (always 400): the canonicalizer's message is the description. */
const BAD_PATH: DenialSpec = { status: 400, reason: 'bad_request', error: 'invalid_request', description: 'the request target is refused' };
/** A token that fails verification: the verifier's message is the description. */
const BAD_TOKEN: DenialSpec = { status: 401, reason: 'invalid_token', error: 'invalid_token', description: 'the token is invalid', challenge: 'invalid_token' };

const PATH_DENIALS: { readonly [C in PathErrorCode]: DenialSpec } = {
  ERR_PATH_EMPTY: BAD_PATH,
  ERR_PATH_NOT_ORIGIN_FORM: BAD_PATH,
  ERR_PATH_ENCODED_SEPARATOR: BAD_PATH,
  ERR_PATH_BACKSLASH: BAD_PATH,
  ERR_PATH_CONTROL_CHAR: BAD_PATH,
  ERR_PATH_BAD_PERCENT: BAD_PATH,
  ERR_PATH_PARAMETER: BAD_PATH,
  ERR_PATH_TRAVERSAL: BAD_PATH,
  ERR_PATH_FRAGMENT: BAD_PATH,
  ERR_PATH_TOO_LONG: BAD_PATH,
  ERR_PATH_EMPTY_SEGMENT: BAD_PATH,
  ERR_PATH_INVALID_CHAR: BAD_PATH,
};

const TOKEN_DENIALS: { readonly [C in TokenErrorCode]: DenialSpec } = {
  ERR_AUTH_TOKEN_MALFORMED: BAD_TOKEN,
  ERR_AUTH_TOKEN_TOO_LARGE: BAD_TOKEN,
  ERR_AUTH_TOKEN_ALG_NOT_ALLOWED: BAD_TOKEN,
  ERR_AUTH_TOKEN_HEADER_FORBIDDEN: BAD_TOKEN,
  ERR_AUTH_TOKEN_KEY_UNKNOWN: BAD_TOKEN,
  ERR_AUTH_TOKEN_KEY_MISMATCH: BAD_TOKEN,
  ERR_AUTH_TOKEN_SIGNATURE: BAD_TOKEN,
  ERR_AUTH_TOKEN_EXPIRED: BAD_TOKEN,
  ERR_AUTH_TOKEN_NOT_YET_VALID: BAD_TOKEN,
  ERR_AUTH_TOKEN_MISSING_EXP: BAD_TOKEN,
  ERR_AUTH_TOKEN_BAD_CLAIM: BAD_TOKEN,
  ERR_AUTH_TOKEN_ISSUER: BAD_TOKEN,
  ERR_AUTH_TOKEN_AUDIENCE: BAD_TOKEN,
  ERR_AUTH_TOKEN_INACTIVE: BAD_TOKEN,
};

/**
 * Sender-constrained tokens (README, Sender-constrained tokens): a binding that cannot
 * be checked is invalid_token (the verified token is not the caller's to use); a failed
 * DPoP proof is invalid_dpop_proof (RFC 9449 §7.1). The description is the check's own.
 * Their challenge is the DPoP one the sender step passes as `wwwAuthenticate`; the Bearer
 * `invalid_token` here is only the fail-closed fallback.
 */
const SENDER_DENIALS = Object.fromEntries([
  ...Object.entries(SENDER_DESCRIPTIONS).map(([code, description]) => [code, { ...BAD_TOKEN, description }]),
  ...DPOP_CHECKS.map((code) => [code, { status: 401, reason: 'invalid_dpop_proof', error: 'invalid_dpop_proof', description: 'the DPoP proof is invalid', challenge: 'invalid_token' }]),
]) as { readonly [C in SenderDenyCode]: DenialSpec };

/** The one table (README, Responses). Typed by code: a code without a row does not compile. */
export const DENIALS: { readonly [C in DenyCode]: DenialSpec } = {
  ...PATH_DENIALS,
  ...TOKEN_DENIALS,
  ...SENDER_DENIALS,
  ERR_ROUTE_NOT_FOUND: { status: 404, reason: 'no_route', error: 'not_found', description: 'no route matches this path' },
  ERR_ROUTE_METHOD_NOT_ALLOWED: { status: 405, reason: 'method_not_allowed', error: 'method_not_allowed', description: 'the method is not allowed on this route' },
  // Not invalid_request: nothing about the request is malformed; it simply carries no credentials (RFC 6750 §3.1).
  ERR_AUTH_TOKEN_MISSING: { status: 401, reason: 'missing_token', error: 'missing_token', description: 'a bearer token is required', challenge: '' },
  ERR_AUTH_TOKEN_IN_QUERY: {
    status: 400,
    reason: 'bad_request',
    error: 'invalid_request',
    description: 'access tokens are accepted in the Authorization header only, not in the query',
    challenge: 'invalid_request',
  },
  ERR_AUTH_DUPLICATE_AUTHORIZATION: { status: 400, reason: 'bad_request', error: 'invalid_request', description: 'More than one Authorization header', challenge: 'invalid_request' },
  ERR_AUTH_INSUFFICIENT_SCOPE: { status: 403, reason: 'insufficient_scope', error: 'insufficient_scope', description: 'the token lacks a required scope', challenge: 'insufficient_scope' },
  // A route condition (`where:`) failed: more scope would not help, so the challenge carries no error code.
  ERR_AUTH_CLAIM_MISMATCH: { status: 403, reason: 'claim_mismatch', error: 'access_denied', description: 'the token does not grant access to this object', challenge: '' },
  ERR_AUTH_KEYS_UNAVAILABLE: {
    status: 503,
    reason: 'keys_unavailable',
    error: 'temporarily_unavailable',
    description: 'the token cannot be checked now: signing keys are unavailable',
  },
  ERR_REQUEST_MISSING_HOST: { status: 400, reason: 'bad_request', error: 'invalid_request', description: 'an HTTP/1.1 request needs a Host header' },
  ERR_REQUEST_DUPLICATE_HOST: { status: 400, reason: 'bad_request', error: 'invalid_request', description: 'more than one Host header' },
  ERR_REQUEST_INVALID_HOST: { status: 400, reason: 'bad_request', error: 'invalid_request', description: 'the Host header is not a host name or address with an optional port' },
  ERR_REQUEST_LEGACY_TRANSFER_ENCODING: { status: 400, reason: 'bad_request', error: 'invalid_request', description: 'an HTTP/1.0 request cannot carry Transfer-Encoding' },
  ERR_REQUEST_TOO_MANY_HEADERS: { status: 431, reason: 'bad_request', error: 'invalid_request', description: 'too many request headers' },
  // `?_method=DELETE` (Rails, Laravel, Express method-override): the upstream would run a method other
  // than the one authorized, as with the X-HTTP-Method-Override header (README, Forwarding).
  ERR_REQUEST_METHOD_OVERRIDE: {
    status: 400,
    reason: 'bad_request',
    error: 'invalid_request',
    description: 'method override parameters (_method) are not accepted: the method authorized is the method executed',
  },
  // The authz listener (README, "Decisions for nginx, Caddy, Envoy and Traefik").
  ERR_REQUEST_ORIGINAL_MISSING: {
    status: 400,
    reason: 'bad_request',
    error: 'invalid_request',
    description: 'the original method and URI are required (X-Forwarded-Method and X-Forwarded-Uri, or X-Original-Method and X-Original-URI)',
  },
  // The proxy forwards the raw path, not scopegate's canonical one: authorizing the canonical form would authorize another request.
  ERR_REQUEST_TARGET_NOT_CANONICAL: {
    status: 400,
    reason: 'bad_request',
    error: 'invalid_request',
    description: 'the request path is not in canonical form (dot segments, "//", or percent-encoded unreserved characters): it is refused, not authorized',
  },
  // A preflight from an origin cors.allowed_origins does not list: no token involved, so no Bearer challenge.
  ERR_REQUEST_CORS_ORIGIN_NOT_ALLOWED: { status: 403, reason: 'cors_origin_not_allowed', error: 'cors_origin_not_allowed', description: 'this origin may not call the API from a browser' },
};

/** What a deny adds to its row: its own description, and the headers some statuses carry. */
export interface DenyDetail {
  readonly description?: string;
  /** 403: the scopes the client should ask for (WWW-Authenticate `scope`, body `scope`). */
  readonly requiredScopes?: readonly string[];
  /** 405: the `Allow` list. */
  readonly allowMethods?: readonly string[];
  /** 503: seconds for Retry-After. */
  readonly retryAfterS?: number;
  /** A non-Bearer challenge (DPoP), written as is. */
  readonly wwwAuthenticate?: string;
  /** 401 on `iss`/`aud`: what the log line names (never the response). */
  readonly mismatch?: ClaimMismatch;
}

/** One shared challenge object per error code: a deny never allocates its own. */
const CHALLENGES: { readonly [E in ChallengeError]: { readonly error: E } } = {
  '': Object.freeze({ error: '' }),
  invalid_request: Object.freeze({ error: 'invalid_request' }),
  invalid_token: Object.freeze({ error: 'invalid_token' }),
  insufficient_scope: Object.freeze({ error: 'insufficient_scope' }),
};

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** The deny for `code` on `route` (undefined: no route matched yet). Not frozen: freeze() what you keep. */
export function deny(code: DenyCode, route: string | undefined, detail?: DenyDetail): Deny {
  const spec = DENIALS[code];
  const d: Writable<Deny> = {
    kind: 'deny',
    allow: false,
    status: spec.status,
    reason: spec.reason,
    error: spec.error,
    description: detail?.description ?? spec.description,
    code,
    route,
  };
  if (detail?.requiredScopes !== undefined) d.requiredScopes = detail.requiredScopes;
  if (detail?.allowMethods !== undefined) d.allowMethods = detail.allowMethods;
  if (spec.challenge !== undefined) d.challenge = CHALLENGES[spec.challenge];
  if (detail?.retryAfterS !== undefined) d.retryAfterS = detail.retryAfterS;
  if (detail?.wwwAuthenticate !== undefined) d.wwwAuthenticate = detail.wwwAuthenticate;
  if (code in SENDER_DESCRIPTIONS) d.cause = 'sender_constraint';
  if (detail?.mismatch !== undefined) d.mismatch = detail.mismatch;
  return d;
}

/** A deny built once and shared by every request that gets it. */
export function frozenDeny(code: DenyCode, route: string | undefined, detail?: DenyDetail): Deny {
  return Object.freeze(deny(code, route, detail));
}

/** Refused before any route is looked at: the same object for every request. */
export const NO_ROUTE: Deny = frozenDeny('ERR_ROUTE_NOT_FOUND', undefined);
export const MISSING_HOST: Deny = frozenDeny('ERR_REQUEST_MISSING_HOST', undefined);
export const TOO_MANY_HEADERS: Deny = frozenDeny('ERR_REQUEST_TOO_MANY_HEADERS', undefined);
export const DUPLICATE_HOST: Deny = frozenDeny('ERR_REQUEST_DUPLICATE_HOST', undefined);
export const DUPLICATE_AUTHORIZATION: Deny = frozenDeny('ERR_AUTH_DUPLICATE_AUTHORIZATION', undefined);
export const ORIGINAL_REQUEST_MISSING: Deny = frozenDeny('ERR_REQUEST_ORIGINAL_MISSING', undefined);
export const TARGET_NOT_CANONICAL: Deny = frozenDeny('ERR_REQUEST_TARGET_NOT_CANONICAL', undefined);
export const INVALID_HOST: Deny = frozenDeny('ERR_REQUEST_INVALID_HOST', undefined);
export const LEGACY_TRANSFER_ENCODING: Deny = frozenDeny('ERR_REQUEST_LEGACY_TRANSFER_ENCODING', undefined);

/** The denials a route can produce that do not depend on the request, built once per route. */
export interface RouteDenials {
  readonly missingToken: Deny;
  readonly insufficientScope: Deny;
  readonly queryToken: Deny;
  readonly methodOverride: Deny;
  readonly claimMismatch: Deny;
}

export function routeDenials(template: string, requiredScopes: readonly string[], insufficientScopeText: string): RouteDenials {
  return {
    missingToken: frozenDeny('ERR_AUTH_TOKEN_MISSING', template),
    insufficientScope: frozenDeny('ERR_AUTH_INSUFFICIENT_SCOPE', template, { description: insufficientScopeText, requiredScopes }),
    queryToken: frozenDeny('ERR_AUTH_TOKEN_IN_QUERY', template),
    methodOverride: frozenDeny('ERR_REQUEST_METHOD_OVERRIDE', template),
    claimMismatch: frozenDeny('ERR_AUTH_CLAIM_MISMATCH', template),
  };
}
