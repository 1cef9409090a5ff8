/**
 * scopegate's error vocabulary. Every failure has a stable `code` (what logs,
 * metrics and tests match on — never the message) and the HTTP status a client
 * sees when the failure happens on the request path.
 *
 * On the hot path, expected denials are *returned* (see policy/decision.ts);
 * these classes are thrown only at boundaries (config load, CLI) or carried
 * inside a returned result.
 */
import type { DpopErrorCode } from './auth/dpop.js';
import type { SenderConstraintCode } from './auth/sender-constraint.js';

export class ScopegateError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/** One problem found in a config file, with its source position. */
export interface ConfigIssue {
  readonly file: string;
  /** 1-based; 0 when the problem has no position (e.g. file unreadable). */
  readonly line: number;
  /** 1-based; 0 when the problem has no position. */
  readonly col: number;
  /** Key path, e.g. `routes."FETCH /x"` or `auth.issuers[0].audiences`. */
  readonly path: string;
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.col}` : issue.file;
  const key = issue.path === '' ? '' : ` ${issue.path}:`;
  const tag = issue.severity === 'warning' ? ' warning:' : '';
  return `${where}:${tag}${key} ${issue.message}`;
}

/** A config file that cannot be used. Carries every error found, not just the first. */
export class ConfigError extends ScopegateError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super('ERR_CONFIG_INVALID', 500, issues.map(formatConfigIssue).join('\n'));
    this.issues = issues;
  }
}

/** Request target rejected by the canonicalizer (always a 400). */
export class PathError extends ScopegateError {
  declare readonly code: PathErrorCode;
  constructor(code: PathErrorCode, message: string) {
    super(code, 400, message);
  }
}

export type PathErrorCode =
  | 'ERR_PATH_EMPTY'
  | 'ERR_PATH_NOT_ORIGIN_FORM' // absolute-form, authority-form, `*`, or not starting with `/`
  | 'ERR_PATH_ENCODED_SEPARATOR' // %2F %5C (any case)
  | 'ERR_PATH_BACKSLASH'
  | 'ERR_PATH_CONTROL_CHAR' // NUL, C0 controls, DEL, raw space, non-ASCII bytes
  | 'ERR_PATH_BAD_PERCENT' // malformed %xx or percent-encoded bytes that are not valid UTF-8
  | 'ERR_PATH_PARAMETER' // `;` path parameters
  | 'ERR_PATH_TRAVERSAL' // dot segments climbing above the root
  | 'ERR_PATH_FRAGMENT' // `#` in a request target
  | 'ERR_PATH_TOO_LONG'
  | 'ERR_PATH_EMPTY_SEGMENT' // `//` anywhere: two parsers may disagree on what it means
  | 'ERR_PATH_INVALID_CHAR'; // outside RFC 3986 pchar / `/` (e.g. `"<>{}|^` and backtick), or `?` in a template

/** Token rejected (401 invalid_token) — the code says why, for logs and metrics. */
export class TokenError extends ScopegateError {
  declare readonly code: TokenErrorCode;
  /** Issuer or audience refusals: what the token carried and what was expected, for the log line only. */
  readonly mismatch: ClaimMismatch | undefined;
  constructor(code: TokenErrorCode, message: string, options?: { cause?: unknown; mismatch?: ClaimMismatch }) {
    super(code, 401, message, options);
    this.mismatch = options?.mismatch;
  }
}

/** A claim (`iss`, `aud`) the token presented and the values it was compared with. Never sent to the client. */
export interface ClaimMismatch {
  readonly claim: 'iss' | 'aud';
  readonly presented: unknown;
  readonly expected: readonly string[];
}

export type TokenErrorCode =
  | 'ERR_AUTH_TOKEN_MALFORMED'
  | 'ERR_AUTH_TOKEN_TOO_LARGE'
  | 'ERR_AUTH_TOKEN_ALG_NOT_ALLOWED'
  | 'ERR_AUTH_TOKEN_HEADER_FORBIDDEN' // embedded jwk / jku / x5u / x5c, unknown crit
  | 'ERR_AUTH_TOKEN_KEY_UNKNOWN'
  | 'ERR_AUTH_TOKEN_KEY_MISMATCH' // key kty/alg does not fit the token's alg
  | 'ERR_AUTH_TOKEN_SIGNATURE'
  | 'ERR_AUTH_TOKEN_EXPIRED'
  | 'ERR_AUTH_TOKEN_NOT_YET_VALID'
  | 'ERR_AUTH_TOKEN_MISSING_EXP'
  | 'ERR_AUTH_TOKEN_BAD_CLAIM' // non-numeric dates, non-object payload, bad scope claim type
  | 'ERR_AUTH_TOKEN_ISSUER'
  | 'ERR_AUTH_TOKEN_AUDIENCE'
  | 'ERR_AUTH_TOKEN_INACTIVE'; // introspection answered `active: false` (RFC 7662 §2.2)

/** Keys for the token's issuer have never been loaded and cannot be fetched now (503). */
export class KeysUnavailableError extends ScopegateError {
  declare readonly code: 'ERR_AUTH_KEYS_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_AUTH_KEYS_UNAVAILABLE', 503, message, options);
  }
}

export type UpstreamErrorCode =
  | 'ERR_UPSTREAM_UNREACHABLE' // refused, reset or connect timeout before a response (502)
  | 'ERR_UPSTREAM_TIMEOUT' // no response headers (or a body stall) within upstream.timeout_ms (504)
  | 'ERR_UPSTREAM_PROTOCOL' // unparseable or inconsistent response (502)
  | 'ERR_UPSTREAM_RESET' // the upstream failed after the response started: the client connection is cut (status already sent)
  | 'ERR_UPSTREAM_REQUEST_INVALID'; // the client's request cannot be expressed to the upstream, e.g. body shorter than its Content-Length (400)

/** Upstream failures when forwarding (400 / 502 / 504). */
export class UpstreamError extends ScopegateError {
  declare readonly code: UpstreamErrorCode;
  constructor(code: UpstreamErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, upstreamErrorStatus(code), message, options);
  }
}

export function upstreamErrorStatus(code: UpstreamErrorCode): 400 | 502 | 504 {
  return code === 'ERR_UPSTREAM_TIMEOUT' ? 504 : code === 'ERR_UPSTREAM_REQUEST_INVALID' ? 400 : 502;
}

/**
 * Requests refused before or around the token, other than a bad path or a bad token.
 * Each one is a row of the denial table (policy/denials.ts).
 */
export type RequestDenyCode =
  | 'ERR_ROUTE_NOT_FOUND' // 404: no route template matches the canonical path
  | 'ERR_ROUTE_METHOD_NOT_ALLOWED' // 405: a route matches the path but not the method
  | 'ERR_AUTH_TOKEN_MISSING' // 401 without an error code (RFC 6750 §3.1)
  | 'ERR_AUTH_TOKEN_IN_QUERY' // 400: an access_token query parameter (RFC 9700)
  | 'ERR_AUTH_DUPLICATE_AUTHORIZATION' // 400: two Authorization headers
  | 'ERR_AUTH_INSUFFICIENT_SCOPE' // 403
  | 'ERR_AUTH_KEYS_UNAVAILABLE' // 503: the issuer's keys were never loaded and cannot be fetched now
  | 'ERR_REQUEST_MISSING_HOST' // 400: HTTP/1.1 without Host (RFC 9112 §3.2)
  | 'ERR_REQUEST_DUPLICATE_HOST' // 400: two Host headers
  | 'ERR_REQUEST_INVALID_HOST' // 400: a Host that is not uri-host[:port] (RFC 9112 §3.2, RFC 3986 §3.2.2)
  | 'ERR_REQUEST_LEGACY_TRANSFER_ENCODING' // 400: HTTP/1.0 with Transfer-Encoding, faulty framing (RFC 9112 §6.1)
  | 'ERR_REQUEST_TOO_MANY_HEADERS' // 431: more than limits.max_header_count (RFC 6585 §5)
  | 'ERR_REQUEST_METHOD_OVERRIDE' // 400: a `_method` query parameter
  | 'ERR_AUTH_CLAIM_MISMATCH'; // 403: a route condition (`where:`) does not hold for the token

/** Requests the authz listener refuses before plan() (README, "Decisions for nginx, Caddy, Envoy and Traefik"). */
export type AuthzDenyCode =
  | 'ERR_REQUEST_ORIGINAL_MISSING' // 400: /authz/forward without the original method or URI header
  | 'ERR_REQUEST_TARGET_NOT_CANONICAL'; // 400: the proxy would forward a path other than the one authorized

/** 403: a CORS preflight from an Origin not in cors.allowed_origins. */
export type CorsDenyCode = 'ERR_REQUEST_CORS_ORIGIN_NOT_ALLOWED';

/**
 * Sender-constrained tokens (RFC 9449 DPoP, RFC 8705 certificate-bound): a binding
 * that cannot be checked (401 invalid_token, cause sender_constraint) and a DPoP
 * proof that fails (401 invalid_dpop_proof). Defined beside the checks that return them.
 */
export type SenderDenyCode = SenderConstraintCode | DpopErrorCode;

/** Every code a deny can carry: the keys of the denial table. */
export type DenyCode = PathErrorCode | TokenErrorCode | RequestDenyCode | AuthzDenyCode | CorsDenyCode | SenderDenyCode;

/**
 * Requests answered on the raw socket, before Node could hand over a request: the
 * parser's own codes (llhttp `HPE_*`, e.g. HPE_HEADER_OVERFLOW) and socket errors
 * (`E…`, e.g. ECONNRESET) are logged as Node reports them; ERR_HTTP_PARSE when it gives none.
 */
export type SocketErrorCode = 'ERR_HTTP_PARSE' | 'ERR_HTTP_REQUEST_TIMEOUT' | `HPE_${string}` | `E${string}`;

/** Codes of failures outside the request path: config files, the OpenAPI importer. */
export type ToolErrorCode = 'ERR_CONFIG_INVALID' | 'ERR_OPENAPI_IMPORT';

/** Every error and deny code scopegate logs, counts or throws, in one union. */
export type ErrorCode = DenyCode | UpstreamErrorCode | 'ERR_CLIENT_ABORTED' | SocketErrorCode | ToolErrorCode;
