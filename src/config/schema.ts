/**
 * The typed, validated shape of a scopegate config (YAML version 1, README,
 * "The config file"). YAML keys are snake_case; the in-memory Config is
 * camelCase. `load.ts` is the only producer of a Config; everything it returns
 * is deeply frozen.
 *
 * Each option documents its unit and default here, for readers of the code;
 * the values themselves (default, range, YAML key) live in the option's row of
 * sections.ts, and DEFAULTS is derived from those rows.
 */

export { ALGORITHMS, HTTP_METHODS, type Algorithm, type HttpMethod } from './vocabulary.js';
// The defaults and ranges are stated once, in the option's row of sections.ts, and derived from there.
export { DEFAULTS, INTEGER_RANGES } from './sections.js';
import type { Algorithm, HttpMethod } from './vocabulary.js';
import type { WorkerCount } from './workers.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface IssuerConfig {
  /** Exact `iss` value tokens must carry, or a template with one `{tid}` (then `tenants` is set). */
  readonly issuer: string;
  /** http(s) URL of the issuer's JWKS. The only URL scopegate ever fetches keys from; issuers naming the same URL share one key store. */
  readonly jwksUri: string;
  /** A token's `aud` must contain at least one of these. Empty: no audience check (then clientIds is non-empty). Default []. */
  readonly audiences: readonly string[];
  /** Allow-list of JWS algorithms. Default: [RS256]. */
  readonly algorithms: readonly Algorithm[];
  /** Whether /readyz waits for this issuer's keys. Default required. */
  readonly readiness: IssuerReadiness;
  // ---- tokens from real identity providers (README, Identity providers) ----
  /** The token's `client_id` (else `azp`) must be one of these. Empty: not configured. Default []. */
  readonly clientIds: readonly string[];
  /** Replaces auth.scopeClaims for this issuer. Undefined: the global list. */
  readonly scopeClaims?: readonly ScopeClaimSpec[];
  /** With a `{tid}` issuer template: the accepted `tid` values, or ['any']. Undefined otherwise. */
  readonly tenants?: readonly string[];
  /** Top-level claims that must be present and equal these strings exactly. Empty when not configured. */
  readonly requireClaims: Readonly<Record<string, string>>;
  /** Accepted JWS `typ` values (case-insensitive, `application/` optional). Undefined: any but another JWT kind. */
  readonly typ?: readonly string[];
}

/**
 * A claim read for scopes or by a route condition: a top-level claim name taken
 * literally (dots and all, e.g. `https://example.com/roles`), or a path of keys
 * into nested objects (`{ path: [realm_access, roles] }`).
 */
export type ClaimRef = string | { readonly path: readonly string[] };
export type ScopeClaimSpec = ClaimRef;

/** `where: { PARAM: { claim: … } }`: the decoded path parameter must equal the claim, or be one of its elements. */
export interface RouteCondition {
  readonly param: string;
  readonly claim: ClaimRef;
}

/** required: /readyz is 503 until this issuer's keys load. optional: an outage of its IdP does not hold the pod back. */
export type IssuerReadiness = 'required' | 'optional';

export interface JwksConfig {
  /** Seconds after a successful fetch before keys are refreshed in the background. Default 600. */
  readonly maxAgeS: number;
  /** Seconds: an unknown `kid` triggers at most one refetch per cooldown. Default 10. */
  readonly cooldownS: number;
  /** Milliseconds for a whole JWKS fetch (connect + headers + body). Default 5000. */
  readonly timeoutMs: number;
  /** Bytes: a JWKS response larger than this is rejected. Default 1 MiB. */
  readonly maxBytes: number;
}

/** Kept for callers of the first config version; any claim name or path is accepted now. */
export type ScopeClaim = ScopeClaimSpec;
export type ScopeMatching = 'exact' | 'hierarchical';

/** `auth.introspection`: opaque tokens checked at an RFC 7662 endpoint (README, Opaque tokens). */
export interface IntrospectionConfig {
  /** http(s) URL of the introspection endpoint. */
  readonly endpoint: string;
  /** scopegate's client id at the authorization server (client_secret_basic). */
  readonly clientId: string;
  /** File holding the client secret (trailing whitespace trimmed), re-read on reload. Exactly one of this and clientSecretEnv. */
  readonly clientSecretFile: string | undefined;
  /** Environment variable holding the client secret. */
  readonly clientSecretEnv: string | undefined;
  /** When set, a response carrying `iss` must equal it. */
  readonly issuer: string | undefined;
  /** When set, a response carrying `aud` must contain one of them. */
  readonly audiences: readonly string[] | undefined;
  /** Seconds an active result is reused, capped by its exp. Default 60. */
  readonly cacheTtlS: number;
  /** Seconds an inactive result is reused. Default 5. */
  readonly negativeCacheTtlS: number;
  /** Milliseconds for a whole introspection call. Default 2000. */
  readonly timeoutMs: number;
  /** Introspection calls in flight at once; beyond it 503. Default 64. */
  readonly maxInFlight: number;
}

export interface AuthConfig {
  /** Trusted JWT issuers; empty only when `introspection` is set. Default []. */
  readonly issuers: readonly IssuerConfig[];
  /** Opaque tokens: unset means every token must be a JWT from `issuers`. */
  readonly introspection: IntrospectionConfig | undefined;
  /** Seconds of tolerance on exp / nbf / iat. Default 30. */
  readonly clockSkewS: number;
  /** Claims read for granted scopes, in order; an issuer's own list replaces it. Default [scope, scp]. */
  readonly scopeClaims: readonly ScopeClaimSpec[];
  /** Default exact. */
  readonly scopeMatching: ScopeMatching;
  readonly jwks: JwksConfig;
  /** Bytes: a bearer token longer than this is rejected before parsing. Default 8192. */
  readonly maxTokenBytes: number;
  /** Entries in the verified-token cache. Default 10000. 0 disables the cache. */
  readonly tokenCacheSize: number;
  /** `realm` in WWW-Authenticate challenges. Default "scopegate". */
  readonly realm: string;
  /** DPoP-bound tokens (RFC 9449); undefined: not configured, DPoP-bound tokens are refused. */
  readonly dpop?: DpopConfig | undefined;
  /** Certificate-bound tokens (RFC 8705) behind a TLS-terminating proxy; undefined: not configured. */
  readonly mtls?: MtlsConfig | undefined;
  /** Refuse tokens without `cnf` on every route (routes may set `sender_constrained`). Default false. */
  readonly requireSenderConstrained: boolean;
}

export interface DpopConfig {
  /** `scheme://host[:port]` clients use; a proof's `htu` must be one of these + the request path. */
  readonly origins: readonly string[];
  /** Proof algorithms, asymmetric only. Default [ES256, EdDSA, RS256]. */
  readonly algorithms: readonly Algorithm[];
  /** Seconds: a proof's `iat` must be within ±max_age_s (plus clock_skew_s). Default 60. */
  readonly maxAgeS: number;
}

export type CertHeaderFormat = 'xfcc' | 'pem';

export interface MtlsConfig {
  /** Header the TLS-terminating proxy puts the client certificate in. Default x-forwarded-client-cert. */
  readonly certHeader: string;
  /** xfcc (Envoy, Istio) or pem (a URL-encoded PEM, nginx $ssl_client_escaped_cert). Default xfcc. */
  readonly certHeaderFormat: CertHeaderFormat;
}

export interface UpstreamConfig {
  /** http(s) origin of the protected API (path must be empty or `/`). */
  readonly url: string;
  /** Milliseconds to wait for response headers, and between body chunks, before a 504. Default 30000. */
  readonly timeoutMs: number;
  /** Milliseconds to establish a TCP/TLS connection before a 502. Default 5000. */
  readonly connectTimeoutMs: number;
  /** Maximum concurrent connections to the upstream (undici Pool size). Default 128. */
  readonly connections: number;
  /** Milliseconds an idle keep-alive connection to the upstream is kept. Default 4000. */
  readonly keepAliveTimeoutMs: number;
}

export interface ServerLimits {
  /** Bytes of request line + headers (Node maxHeaderSize). Default 16384. */
  readonly maxHeaderBytes: number;
  /** Headers per request (Node maxHeadersCount). Default 100. */
  readonly maxHeaderCount: number;
  /** Bytes of the request target (path + query). Default 8192. */
  readonly maxPathBytes: number;
  /** Path segments after normalization. Default 64. */
  readonly maxPathSegments: number;
  /** Milliseconds to receive complete request headers (slowloris guard). Default 10000. */
  readonly headersTimeoutMs: number;
  /** Milliseconds to receive a complete request, body included. 0 = none. Default 300000. */
  readonly requestTimeoutMs: number;
  /** Milliseconds an idle client keep-alive connection is kept. Default 5000. */
  readonly keepAliveTimeoutMs: number;
  /** Milliseconds SIGTERM waits for in-flight requests before exiting. Default 25000. */
  readonly drainTimeoutMs: number;
  /** Concurrent client connections; further ones are closed at once. Default 4096. */
  readonly maxConnections: number;
}

export interface IdentityHeaders {
  /** Header set to the token's `sub` on forwarded requests. */
  readonly subject?: string;
  /** Header set to the granted scopes, space-joined. */
  readonly scopes?: string;
}

/** A route requirement as written in YAML, compiled to a predicate in policy/scopes.ts. */
/** How `/a/b/` relates to the route of `/a/b` (README, routes_trailing_slash). */
export type TrailingSlashMode = 'merge' | 'distinct';

export type Requirement =
  | { readonly kind: 'none' } // `{ auth: none }`: public, no token read
  | { readonly kind: 'token' } // `{ auth: token }`: any valid token
  | { readonly kind: 'all_of'; readonly scopes: readonly string[] } // a bare scope string is all_of [scope]
  | { readonly kind: 'any_of'; readonly scopes: readonly string[] };

export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/**
 * enforce: a deny is answered and never forwarded.
 * shadow (report-only): a policy deny is logged as `would_deny`, counted as
 * outcome="shadow_deny", and the request is forwarded anyway — without identity
 * headers unless the token verified. Requests whose path or framing is ambiguous
 * (400) are refused in every mode: there is no single request to forward.
 */
export type EnforcementMode = 'enforce' | 'shadow';

/** One scope of the catalogue (`scopes:`), as real APIs publish them. */
export interface ScopeInfo {
  readonly name: string;
  /** What the scope grants, for humans: shown by discovery, token info and `check`. */
  readonly description: string | undefined;
  readonly displayName: string | undefined;
  /** Every request on a token-protected route must carry it, in addition to the route's own requirement. Default false. */
  readonly required: boolean;
  /** Listed in `scopes_supported` of the protected-resource metadata (RFC 9728). Default true. */
  readonly discoverable: boolean;
  /** Whether clients get it unless they opt out (`default: on|off`); informational. */
  readonly defaultOn: boolean | undefined;
  /** Grants destructive operations (`check` warns when a GET requires it). Default false. */
  readonly destructive: boolean;
  /** Default false. A deprecated scope with replaced_by is still accepted where its replacement is required. */
  readonly deprecated: boolean;
  readonly replacedBy: string | undefined;
  readonly position: SourcePosition;
}

/** The protected resource, for RFC 9728 discovery and `resource_metadata` in challenges. */
export interface ResourceConfig {
  /** The resource identifier (an https URL); never taken from the request's Host. */
  readonly identifier: string;
  readonly name: string | undefined;
  readonly documentation: string | undefined;
  /** Issuer identifiers of the authorization servers. Default: every configured issuer. */
  readonly authorizationServers: readonly string[];
}

/** `cors:` (README, "Browser apps (CORS) and WebSocket"); absent: scopegate does no CORS at all. */
export interface CorsConfig {
  /** Exact origins, or ['*']; undefined with forwardPreflight. */
  readonly allowedOrigins: readonly string[] | undefined;
  /** Lower-cased. Default [authorization, content-type]. */
  readonly allowedHeaders: readonly string[];
  /** Lower-cased. Default [www-authenticate]. */
  readonly exposedHeaders: readonly string[];
  /** Default false; never with ['*']. */
  readonly allowCredentials: boolean;
  /** Seconds. Default 600. */
  readonly maxAgeS: number;
  /** The upstream answers CORS; preflights to routed paths are forwarded without a token. Default false. */
  readonly forwardPreflight: boolean;
}

/** `tls:` (README, TLS): the listener on `listen` serves HTTP/1.1 over TLS. */
export interface TlsConfig {
  /** PEM certificate (intermediates after it); re-read when it changes and on SIGHUP. */
  readonly certFile: string;
  /** Its unencrypted PEM private key; re-read with certFile. */
  readonly keyFile: string;
  /** Lowest TLS version accepted. Default TLSv1.2. */
  readonly minVersion: TlsVersion;
}

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

/** A route scopegate answers itself instead of forwarding. */
export type RouteResponder = 'token_info';

export interface RouteConfig {
  /** The key exactly as written, e.g. `GET,POST /reports/:id`. */
  readonly key: string;
  /** Upper-case methods; `*` expands to every HTTP_METHODS entry and sets anyMethod. */
  readonly methods: readonly HttpMethod[];
  readonly anyMethod: boolean;
  /** The path template, canonicalized, e.g. `/reports/:id`. */
  readonly path: string;
  readonly requirement: Requirement;
  /** Per-route override of Config.mode; undefined inherits it. */
  readonly mode: EnforcementMode | undefined;
  /** Answered by scopegate (e.g. token info), never forwarded. */
  readonly respond: RouteResponder | undefined;
  /** `websocket: true`: a GET route that accepts `Upgrade: websocket` handshakes. Absent otherwise. */
  readonly websocket?: true;
  /** Tokens without `cnf` are refused on this route (`sender_constrained: true`). Absent: false. */
  readonly senderConstrained?: boolean;
  /** Object-level conditions (`where:`), every one must hold. Absent: none. */
  readonly where?: readonly RouteCondition[];
  readonly position: SourcePosition;
}

export interface Config {
  /** Absolute path of the file this came from, and sha256 (hex) of its bytes. */
  readonly source: { readonly file: string; readonly hash: string };
  /** Default 127.0.0.1:8080. Undefined only in an authz-only config (authz_listen without listen and upstream). */
  readonly listen: ListenAddress | undefined;
  /** Default 127.0.0.1:9090. */
  readonly adminListen: ListenAddress;
  /** Undefined only in an authz-only config: nothing is forwarded then. */
  readonly upstream: UpstreamConfig | undefined;
  /** The decision-only listener for nginx, Caddy, Envoy and Traefik (README, "Decisions for nginx, Caddy, Envoy and Traefik"). Default: none. */
  readonly authzListen: ListenAddress | undefined;
  readonly auth: AuthConfig;
  readonly identityHeaders: IdentityHeaders;
  /** Only `deny` exists: an unmapped request is never forwarded. */
  readonly unmatched: 'deny';
  /** Global enforcement mode; routes may override it. Default enforce. */
  readonly mode: EnforcementMode;
  /** Trailing-slash twins: `merge` applies the slash-less twin's requirement too, `distinct` does not. Default merge. */
  readonly routesTrailingSlash: TrailingSlashMode;
  readonly limits: ServerLimits;
  /** In file order. */
  readonly routes: readonly RouteConfig[];
  /** The scope catalogue in file order, or undefined when the config has none (then any scope string is accepted). */
  readonly catalogue: readonly ScopeInfo[] | undefined;
  /** RFC 9728 protected-resource metadata; discovery is served only when set. */
  readonly resource: ResourceConfig | undefined;
  /** Browser CORS; undefined: none (nothing added, nothing answered). */
  readonly cors: CorsConfig | undefined;
  /** TLS on `listen` (README, TLS); undefined: plain HTTP. */
  readonly tls: TlsConfig | undefined;
  readonly logging: LoggingConfig;
  /** Processes serving the listeners, or `auto` (resolved when serve starts); 1 runs no cluster. Default 1. */
  readonly workers: WorkerCount;
  /** The read-only admin page (README, "Admin page"). */
  readonly admin: AdminConfig;
}

export interface AdminConfig {
  /** Denials kept for the admin page (a ring), read at start only. Default 200; 0 keeps none. */
  readonly recentDenials: number;
}

/** Identity fields an access line may carry; `sub` is personal data, so it is logged only when listed. */
export type LogIdentityField = 'client_id' | 'sub' | 'jti';

export interface LoggingConfig {
  /** pino level. Default info. */
  readonly level: LogLevel;
  /** One access line per request. Default true. */
  readonly access: boolean;
  /** Bytes of output that may wait for a slow reader before lines are dropped and counted. Default 4 MiB. */
  readonly bufferBytes: number;
  /** Identity fields written on access lines. Default client_id, jti. */
  readonly fields: readonly LogIdentityField[];
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
