/**
 * The value decide() returns. Expected denials are values, not exceptions:
 * the server turns a Deny into an RFC 6750 response (respond/deny.ts) and an
 * Allow into a forward (proxy/forward.ts) or an answer of its own (token info).
 * Each carries its `kind`, so a Decision is already an Action of policy/plan.ts.
 */
import type { VerifiedToken } from '../auth/types.js';
import type { RouteResponder } from '../config/schema.js';
import type { ClaimMismatch, DenyCode } from '../errors.js';

/** Reasons, exactly the `reason` label values of scopegate_decisions_total (README, Operations). */
export type DenyReason =
  | 'no_route'
  | 'method_not_allowed'
  | 'missing_token'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'bad_request'
  | 'keys_unavailable'
  | 'cors_origin_not_allowed'
  | 'invalid_dpop_proof' // a DPoP proof (RFC 9449 §4.3) failed
  | 'claim_mismatch'; // a route condition (`where:`) does not hold: the token is for another tenant or owner

/** `cors_preflight`: a CORS preflight answered by scopegate or forwarded (forward_preflight). */
export type DecisionReason = 'allowed' | 'cors_preflight' | DenyReason;

export interface Allow {
  /** token_info: scopegate answers the route itself; forward: the upstream does. */
  readonly kind: 'forward' | 'token_info';
  readonly allow: true;
  /** Route template, the metrics `route` label. */
  readonly route: string;
  /** Canonical path that was matched — the exact path the upstream receives. */
  readonly path: string;
  /** The original query string including its leading `?`, or '' — forwarded untouched. */
  readonly query: string;
  /** Undefined on `{ auth: none }` routes. */
  readonly token: VerifiedToken | undefined;
  readonly paramNames: readonly string[];
  readonly paramValues: readonly string[];
  /**
   * Shadow (report-only) mode: the deny enforce mode would have answered. The
   * request is forwarded anyway; the server logs and counts it as shadow_deny.
   */
  readonly wouldDeny?: Deny;
  /** Deprecated scopes the token was accepted with, in place of their replacements (counted per scope). */
  readonly deprecatedScopes?: readonly string[];
  /** Set when scopegate answers this route itself instead of forwarding. */
  readonly respond?: RouteResponder;
}

/** The `route` of an Allow forwarded in shadow mode without a matching route: the `unmatched` metrics label. */
export const UNMATCHED_ROUTE = 'unmatched';

/** The error code of a Bearer challenge ('' = a challenge without one, RFC 6750 §3.1). */
export type ChallengeError = '' | 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/** Built by deny() from the one denial table (policy/denials.ts); never written out by hand. */
export interface Deny {
  readonly kind: 'deny';
  readonly allow: false;
  readonly status: 400 | 401 | 403 | 404 | 405 | 431 | 503;
  readonly reason: DenyReason;
  /** OAuth / RFC 6750 error code for the body: invalid_request, invalid_token, insufficient_scope, not_found, method_not_allowed, temporarily_unavailable. */
  readonly error: string;
  readonly description: string;
  /** Machine code for logs (ERR_PATH_TRAVERSAL, ERR_AUTH_TOKEN_EXPIRED, …). */
  readonly code: DenyCode;
  /** Route template when one matched, else undefined (metrics label becomes `unmatched`). */
  readonly route: string | undefined;
  /** 403: the scopes the client should ask for (WWW-Authenticate `scope`). */
  readonly requiredScopes?: readonly string[];
  /** 405: the `Allow` header value list. */
  readonly allowMethods?: readonly string[];
  /** 401/400: whether the response carries a Bearer challenge, and with which error code ('' = none, RFC 6750 §3.1). */
  readonly challenge?: { readonly error: ChallengeError };
  /** 503: seconds for Retry-After. */
  readonly retryAfterS?: number;
  /**
   * Sender-constrained tokens: the whole `WWW-Authenticate` value when it is not a Bearer
   * challenge (`DPoP error="invalid_dpop_proof", algs="…"`, RFC 9449 §7.1).
   */
  readonly wwwAuthenticate?: string;
  /** Why an invalid_token deny happened when the token itself verified: its binding could not be checked. */
  readonly cause?: 'sender_constraint';
  /** 403: the verified token that lacked a scope (logs: identity, missing scopes). Never in the response. */
  readonly token?: VerifiedToken;
  /** 401 on `iss`/`aud`: presented and expected values, for the log line only. */
  readonly mismatch?: ClaimMismatch;
}

export type Decision = Allow | Deny;
