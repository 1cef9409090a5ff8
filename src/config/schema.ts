/**
 * The typed, validated shape of a scopegate config (YAML version 1, DESIGN.md §3).
 * YAML keys are snake_case; the in-memory Config is camelCase. `load.ts` is the
 * only producer of a Config; everything it returns is deeply frozen.
 *
 * Each option documents its unit and default here; the defaults live in DEFAULTS.
 */

/** JWS algorithms scopegate accepts with JWKS (asymmetric only: never `none`, never HS*). */
export const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** HTTP methods a route key may name. `*` in a key means all of these. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface IssuerConfig {
  /** Exact `iss` value tokens must carry. */
  readonly issuer: string;
  /** http(s) URL of the issuer's JWKS. The only URL scopegate ever fetches keys from. */
  readonly jwksUri: string;
  /** Non-empty; a token's `aud` must contain at least one of these. */
  readonly audiences: readonly string[];
  /** Allow-list of JWS algorithms. Default: [RS256]. */
  readonly algorithms: readonly Algorithm[];
}

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

export type ScopeClaim = 'scope' | 'scp';
export type ScopeMatching = 'exact' | 'hierarchical';

export interface AuthConfig {
  readonly issuers: readonly IssuerConfig[];
  /** Seconds of tolerance on exp / nbf / iat. Default 30. */
  readonly clockSkewS: number;
  /** Claims read for granted scopes, in order. Default [scope, scp]. */
  readonly scopeClaims: readonly ScopeClaim[];
  /** Default exact. */
  readonly scopeMatching: ScopeMatching;
  readonly jwks: JwksConfig;
  /** Bytes: a bearer token longer than this is rejected before parsing. Default 8192. */
  readonly maxTokenBytes: number;
  /** Entries in the verified-token cache. Default 10000. 0 disables the cache. */
  readonly tokenCacheSize: number;
  /** `realm` in WWW-Authenticate challenges. Default "scopegate". */
  readonly realm: string;
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
  readonly position: SourcePosition;
}

export interface Config {
  /** Absolute path of the file this came from, and sha256 (hex) of its bytes. */
  readonly source: { readonly file: string; readonly hash: string };
  /** Default 127.0.0.1:8080. */
  readonly listen: ListenAddress;
  /** Default 127.0.0.1:9090. */
  readonly adminListen: ListenAddress;
  readonly upstream: UpstreamConfig;
  readonly auth: AuthConfig;
  readonly identityHeaders: IdentityHeaders;
  /** Only `deny` exists: an unmapped request is never forwarded. */
  readonly unmatched: 'deny';
  /** Global enforcement mode; routes may override it. Default enforce. */
  readonly mode: EnforcementMode;
  readonly limits: ServerLimits;
  /** In file order. */
  readonly routes: readonly RouteConfig[];
  /** The scope catalogue in file order, or undefined when the config has none (then any scope string is accepted). */
  readonly catalogue: readonly ScopeInfo[] | undefined;
  /** RFC 9728 protected-resource metadata; discovery is served only when set. */
  readonly resource: ResourceConfig | undefined;
}

/**
 * Every default in one place. load.ts fills omitted options from here and the
 * JSON Schema's `default`s are checked against it by a test, so change a
 * default here (and in config/scopegate.schema.json) and nowhere else.
 */
export const DEFAULTS = {
  // Loopback only: a sidecar exposed beyond its pod/host must be an explicit choice.
  listen: { host: '127.0.0.1', port: 8080 },
  // Loopback: /metrics and /readyz are for the local kubelet/Prometheus agent, not for clients.
  adminListen: { host: '127.0.0.1', port: 9090 },
  upstream: {
    // ms. Matches the common 30 s gateway budget; a slower upstream answers 504.
    timeoutMs: 30_000,
    // ms. A local/sidecar upstream connects in well under a second; 5 s tolerates a cold start.
    connectTimeoutMs: 5_000,
    // connections. Enough to saturate a local upstream without exhausting its accept backlog.
    connections: 128,
    // ms. Below Node's default server keepAliveTimeout (5 s), so the upstream never closes
    // a socket we are about to reuse (the classic ECONNRESET race).
    keepAliveTimeoutMs: 4_000,
  },
  auth: {
    // RS256 is what nearly every IdP signs with by default (RFC 7518 §3.1 "recommended").
    algorithms: ['RS256'] as readonly Algorithm[],
    // s. Absorbs ordinary clock drift between the IdP and this host without stretching exp much.
    clockSkewS: 30,
    // `scope` (RFC 9068 / RFC 8693) first, then Azure AD / Okta style `scp`.
    scopeClaims: ['scope', 'scp'] as readonly ScopeClaim[],
    // exact: the least surprising; hierarchical must be opted into.
    scopeMatching: 'exact' as ScopeMatching,
    jwks: {
      // s. IdPs rotate keys on the order of days and publish new keys ahead of use; 10 min is plenty fresh.
      maxAgeS: 600,
      // s. Caps refetches an attacker can trigger with made-up `kid`s to one per 10 s.
      cooldownS: 10,
      // ms. A JWKS is a small static document; 5 s covers a slow IdP without stalling requests long.
      timeoutMs: 5_000,
      // bytes (1 MiB). Real key sets are a few KiB; the cap bounds memory against a hostile endpoint.
      maxBytes: 1_048_576,
    },
    // bytes. Real access tokens are 1–4 KiB; 8 KiB also fits Node's default header limits.
    maxTokenBytes: 8_192,
    // entries. ~10k distinct live tokens covers a busy service; each entry is a few hundred bytes.
    tokenCacheSize: 10_000,
    // The product name: clients see it in WWW-Authenticate; set it to your API's name if you prefer.
    realm: 'scopegate',
  },
  // None by default: forwarding identity is opt-in, the upstream must expect the headers.
  identityHeaders: {} as IdentityHeaders,
  // The only value: an unmapped request is answered 404/405 here and never forwarded (fail closed).
  unmatched: 'deny' as const,
  // Fail closed unless the operator opts into report-only rollout.
  mode: 'enforce' as const,
  limits: {
    // bytes. Node's default maxHeaderSize is 16 KiB; JWTs make headers larger than usual.
    maxHeaderBytes: 16_384,
    // headers. Node's default maxHeadersCount is 2000; real clients send < 30, 100 bounds abuse.
    maxHeaderCount: 100,
    // bytes. Common proxies (nginx large_client_header_buffers) cap request lines near 8 KiB.
    maxPathBytes: 8_192,
    // segments. Real APIs nest < 15 deep; bounds router work per request.
    maxPathSegments: 64,
    // ms. Slowloris guard: a client gets 10 s to finish its headers.
    headersTimeoutMs: 10_000,
    // ms (5 min). Node's own default requestTimeout; allows large uploads.
    requestTimeoutMs: 300_000,
    // ms. Node's default server keepAliveTimeout.
    keepAliveTimeoutMs: 5_000,
    // ms. Kubernetes' default terminationGracePeriodSeconds is 30 s; drain finishes before SIGKILL.
    drainTimeoutMs: 25_000,
    // connections. A sidecar serves one API; 4096 keeps well under the usual 65536 fd limit
    // (each client connection can pair with an upstream one) while far above a pod's load.
    maxConnections: 4_096,
  },
} as const;

/** Inclusive [min, max] for every integer option, keyed like DEFAULTS. The JSON Schema must agree (tested). */
export const INTEGER_RANGES = {
  upstream: {
    timeoutMs: [1, 3_600_000], // ms; up to an hour for long-polling upstreams
    connectTimeoutMs: [1, 600_000],
    connections: [1, 65_536],
    keepAliveTimeoutMs: [1, 600_000],
  },
  auth: {
    clockSkewS: [0, 600], // s; more than 10 minutes would make exp meaningless
    jwks: {
      maxAgeS: [1, 604_800], // s; a week
      cooldownS: [1, 3_600], // s; 0 would allow a refetch storm on made-up kids
      timeoutMs: [1, 120_000],
      maxBytes: [1_024, 16_777_216], // bytes; 16 MiB
    },
    maxTokenBytes: [256, 262_144], // bytes; must still fit in a request header
    tokenCacheSize: [0, 10_000_000], // 0 disables the cache
  },
  limits: {
    maxHeaderBytes: [1_024, 1_048_576],
    maxHeaderCount: [1, 10_000], // Node treats 0 as "unlimited": not allowed
    maxPathBytes: [64, 1_048_576],
    maxPathSegments: [1, 10_000],
    headersTimeoutMs: [1, 600_000],
    requestTimeoutMs: [0, 86_400_000], // 0 = no timeout (Node's meaning)
    keepAliveTimeoutMs: [1, 600_000], // Node treats 0 as "never time out": not allowed
    drainTimeoutMs: [0, 600_000],
    maxConnections: [1, 1_000_000],
  },
} as const;
