/**
 * The config's sections as field tables: one row per option with its YAML
 * key, reader and range, default (and why that default), and documentation.
 * Everything else is derived from these rows: reading and filling defaults
 * (fields.ts), DEFAULTS and INTEGER_RANGES (below), and the JSON Schema
 * (json-schema.ts). To add an option, add one row here and its field to schema.ts.
 */
import { CATALOGUE_DOC, CATALOGUE_SCHEMA } from './catalogue.js';
import { readRequireClaims, readScopeClaims, readTenants, readTyp } from './claims.js';
import { CORS, readCors } from './cors.js';
import { defaultsOf, objectSchema, rangesOf, section, withDefaults, type Ranges, type Rows } from './fields.js';
import { INTROSPECTION, readIntrospection } from './introspection.js';
import { DEFAULT_LOG_BUFFER_BYTES, MIN_LOG_BUFFER_BYTES } from '../telemetry/log-sizes.js';
import type { AdminConfig, IntrospectionConfig } from './schema.js';
import { bool, int, listOf, oneOf, reader, str } from './readers.js';
import { ROUTES_DOC, ROUTES_SCHEMA } from './routes.js';
import { readTls } from './tls.js';
import { readWorkers } from './workers.js';
import type { AuthConfig, CertHeaderFormat, Config, CorsConfig, DpopConfig, MtlsConfig, EnforcementMode, IdentityHeaders, IssuerConfig, IssuerReadiness, ListenAddress, JwksConfig, LogIdentityField, LoggingConfig, LogLevel, ResourceConfig, ScopeMatching, ServerLimits, TrailingSlashMode, UpstreamConfig } from './schema.js';
import { LOOPBACK_HOST, readAlgorithm, readDpopOrigin, readDocumentationUrl, readHeaderName, readJwksUri, readListen, readRealm, readResourceIdentifier, readUpstreamUrl } from './values.js';

export const UPSTREAM: Rows<UpstreamConfig> = {
  url: { key: 'url', read: readUpstreamUrl, required: true, doc: 'http(s) origin of the protected API: scheme, host and port only (no path other than /, no query, no credentials).' },
  // ms; up to an hour for long-polling upstreams. Default: the common 30 s gateway budget; a slower upstream answers 504.
  timeoutMs: { key: 'timeout_ms', read: int([1, 3_600_000]), default: 30_000, doc: 'Milliseconds to wait for response headers, and between body chunks, before a 504.' },
  // ms. A local/sidecar upstream connects in well under a second; 5 s tolerates a cold start.
  connectTimeoutMs: { key: 'connect_timeout_ms', read: int([1, 600_000]), default: 5_000, doc: 'Milliseconds to establish a TCP/TLS connection before a 502.' },
  // connections. Enough to saturate a local upstream without exhausting its accept backlog.
  connections: { key: 'connections', read: int([1, 65_536]), default: 128, doc: 'Maximum concurrent connections to the upstream.' },
  // ms. Below Node's default server keepAliveTimeout (5 s), so the upstream never closes
  // a socket we are about to reuse (the classic ECONNRESET race).
  keepAliveTimeoutMs: { key: 'keep_alive_timeout_ms', read: int([1, 600_000]), default: 4_000, doc: "Milliseconds an idle keep-alive connection to the upstream is kept (below the upstream's own keep-alive timeout)." },
};

export const ISSUER: Rows<IssuerConfig> = {
  issuer: { key: 'issuer', read: str({ nonEmpty: true }), required: true, doc: 'Exact `iss` value tokens must carry (usually an https URL).' },
  jwksUri: { key: 'jwks_uri', read: readJwksUri, required: true, doc: "http(s) URL of the issuer's JWKS: the only place keys are fetched from. Use https for a non-local issuer." },
  // Required unless client_ids is set (claims.ts checkIssuerShapes): the issuer's tokens for other APIs must not pass.
  audiences: { key: 'audiences', read: listOf(str({ nonEmpty: true }), { nonEmpty: true, unique: true }), default: [], doc: "A token's `aud` must contain at least one of these. Required unless client_ids is set." },
  // RS256 is what nearly every IdP signs with by default (RFC 7518 §3.1 "recommended").
  algorithms: {
    key: 'algorithms',
    read: listOf(readAlgorithm, { nonEmpty: true, unique: true }),
    default: ['RS256'],
    doc: 'Allow-list of JWS algorithms. Asymmetric only: `none` and HS* are refused (with JWKS public keys, HS* enables key-confusion forgeries).',
  },
  // required: a pod is not ready without every issuer's keys, unless the operator says an IdP's outage may be tolerated.
  readiness: {
    key: 'readiness',
    read: oneOf<IssuerReadiness>(['required', 'optional']),
    default: 'required',
    doc: "required: /readyz is 503 until this issuer's keys are loaded. optional: /readyz does not wait for them (this issuer's tokens get 503 meanwhile).",
  },
  // ---- tokens from real identity providers (README, Identity providers; config/claims.ts) ----
  // Cognito access tokens carry no aud, only client_id: the client list stands in for it.
  clientIds: { key: 'client_ids', read: listOf(str({ nonEmpty: true }), { nonEmpty: true, unique: true }), default: [], doc: "The token's `client_id` (else `azp`) must be one of these. Required unless audiences is set; with both, both must hold." },
  scopeClaims: { key: 'scope_claims', read: readScopeClaims, doc: 'Replaces auth.scope_claims for this issuer: claim names taken literally, or { path: [key, …] } into nested objects.' },
  // No default: a template without tenants is an error (claims.ts checkIssuerShapes), never "every tenant".
  tenants: { key: 'tenants', read: readTenants, doc: 'Required with a {tid} issuer template: the accepted tid values (1-64 of A-Z a-z 0-9 -), or [any] for every tenant.' },
  requireClaims: { key: 'require_claims', read: readRequireClaims, default: {}, doc: 'Top-level claims that must be present and equal these strings exactly, e.g. { token_use: access }.' },
  typ: { key: 'typ', read: readTyp, doc: 'Accepted JWS typ header values (case-insensitive, application/ optional), e.g. [at+jwt]. Unset: any typ but another kind of JWT (logout+jwt, …).' },
};

export const JWKS: Rows<JwksConfig> = {
  // s; up to a week. IdPs rotate keys on the order of days and publish new keys ahead of use; 10 min is plenty fresh.
  maxAgeS: { key: 'max_age_s', read: int([1, 604_800]), default: 600, doc: 'Seconds after a successful fetch before keys are refreshed in the background.' },
  // s; 0 would allow a refetch storm on made-up kids. 10 s caps the refetches an attacker can trigger.
  cooldownS: { key: 'cooldown_s', read: int([1, 3_600]), default: 10, doc: 'Seconds: an unknown `kid` triggers at most one refetch per cooldown.' },
  // ms. A JWKS is a small static document; 5 s covers a slow IdP without stalling requests long.
  timeoutMs: { key: 'timeout_ms', read: int([1, 120_000]), default: 5_000, doc: 'Milliseconds for a whole JWKS fetch (connect + headers + body).' },
  // bytes, up to 16 MiB. Default 1 MiB: real key sets are a few KiB; the cap bounds memory against a hostile endpoint.
  maxBytes: { key: 'max_bytes', read: int([1_024, 16_777_216]), default: 1_048_576, doc: 'Bytes: a larger JWKS response is rejected.' },
};

// ---- sender-constrained tokens (README, Sender-constrained tokens) ----
export const DPOP: Rows<DpopConfig> = {
  origins: { key: 'origins', read: listOf(readDpopOrigin, { nonEmpty: true, unique: true }), required: true, doc: 'scheme://host[:port] clients use to reach this API; a proof `htu` must be one of these + the request path.' },
  // The three algorithms IdPs and client libraries offer for DPoP keys (Keycloak, Auth0, oauth4webapi).
  algorithms: { key: 'algorithms', read: listOf(readAlgorithm, { nonEmpty: true, unique: true }), default: ['ES256', 'EdDSA', 'RS256'], doc: 'DPoP proof algorithms, asymmetric only (never none or HS*); the challenge advertises them as algs.' },
  // s; RFC 9449 §11.1 asks for a short window: a minute covers a request retried once.
  maxAgeS: { key: 'max_age_s', read: int([1, 600]), default: 60, doc: 'Seconds: a proof iat must be within this (plus clock_skew_s) of now; replayed jti are remembered as long.' },
};

export const MTLS: Rows<MtlsConfig> = {
  // Envoy's and Istio's name; set it for nginx (e.g. x-ssl-client-cert).
  certHeader: { key: 'cert_header', read: readHeaderName, default: 'x-forwarded-client-cert', doc: 'Header the TLS-terminating proxy sets to the client certificate; stripped before forwarding. Only a proxy that overwrites it may sit in front.' },
  certHeaderFormat: { key: 'cert_header_format', read: oneOf<CertHeaderFormat>(['xfcc', 'pem']), default: 'xfcc', doc: 'xfcc: Envoy/Istio (Hash= hex SHA-256 of the DER, else Cert=). pem: one URL-encoded PEM (nginx $ssl_client_escaped_cert).' },
};

export const AUTH: Rows<AuthConfig> = {
  // Required unless `introspection` is set: load.ts checks it, the auth row's schema says it.
  issuers: {
    key: 'issuers',
    read: listOf(section(ISSUER, 'leave out'), { nonEmpty: true }),
    // Each issuer needs audiences or client_ids (claims.ts checkIssuerShapes says so with a position).
    schema: { type: 'array', minItems: 1, items: { ...objectSchema(ISSUER), anyOf: [{ properties: { audiences: true }, required: ['audiences'] }, { properties: { client_ids: true }, required: ['client_ids'] }] } },
    default: [], doc: 'Trusted JWT issuers (one or more, each listed once); may be left out when introspection is set.' },
  // s; more than 10 minutes would make exp meaningless. 30 s absorbs ordinary clock drift without stretching exp much.
  clockSkewS: { key: 'clock_skew_s', read: int([0, 600]), default: 30, doc: 'Seconds of tolerance on exp / nbf / iat.' },
  // `scope` (RFC 9068 / RFC 8693) first, then Azure AD / Okta style `scp`.
  scopeClaims: {
    key: 'scope_claims',
    read: readScopeClaims,
    default: ['scope', 'scp'],
    doc: 'Claims read for granted scopes, in order: `scope` (space-delimited string, RFC 9068), any other claim by name (`scp`, `permissions`, `roles`, a URL-named claim) or { path: [key, …] } (a space-delimited string or a list of strings).',
  },
  // exact: the least surprising; hierarchical must be opted into.
  scopeMatching: {
    key: 'scope_matching',
    read: oneOf<ScopeMatching>(['exact', 'hierarchical']),
    default: 'exact',
    doc: 'exact: a required scope must be granted verbatim. hierarchical: `a` and `a:b` also satisfy `a:b:c` (whole `:` segments).',
  },
  jwks: { key: 'jwks', read: section(JWKS), default: withDefaults(JWKS, {}), doc: 'How key sets are fetched and cached.' },
  // bytes; must still fit in a request header. Real access tokens are 1–4 KiB; 8 KiB also fits Node's default header limits.
  maxTokenBytes: { key: 'max_token_bytes', read: int([256, 262_144]), default: 8_192, doc: 'Bytes: a longer bearer token is rejected before parsing.' },
  // entries; 0 disables the cache. ~10k distinct live tokens covers a busy service; each entry is a few hundred bytes.
  tokenCacheSize: { key: 'token_cache_size', read: int([0, 10_000_000]), default: 10_000, doc: 'Entries in the verified-token cache; 0 disables it.' },
  // The product name: clients see it in WWW-Authenticate; set it to your API's name if you prefer.
  realm: { key: 'realm', read: readRealm, default: 'scopegate', doc: '`realm` in WWW-Authenticate challenges: printable ASCII without " or \\.' },
  introspection: { key: 'introspection', read: readIntrospection, doc: 'Opaque (non-JWT) bearer tokens are checked at this RFC 7662 introspection endpoint.' },
  dpop: { key: 'dpop', read: section(DPOP), doc: 'DPoP-bound tokens (RFC 9449, cnf.jkt): verify the proof on every request. Unset: DPoP-bound tokens are refused.' },
  mtls: { key: 'mtls', read: section(MTLS), doc: 'Certificate-bound tokens (RFC 8705, cnf.x5t#S256) behind a TLS-terminating proxy. Unset: such tokens are refused.' },
  // Off: a plain bearer token stays valid unless the operator opts in (globally, or per route).
  requireSenderConstrained: { key: 'require_sender_constrained', read: bool, default: false, doc: 'true: tokens without cnf are refused on every route (routes may also set sender_constrained: true).' },
};

export const IDENTITY_HEADERS: Rows<IdentityHeaders> = {
  subject: { key: 'subject', read: readHeaderName, doc: "Header set to the token's `sub`, e.g. x-auth-subject." },
  scopes: { key: 'scopes', read: readHeaderName, doc: 'Header set to the granted scopes, space-joined, e.g. x-auth-scopes.' },
};

export const LIMITS: Rows<ServerLimits> = {
  // bytes. Node's default maxHeaderSize is 16 KiB; JWTs make headers larger than usual.
  maxHeaderBytes: { key: 'max_header_bytes', read: int([1_024, 1_048_576]), default: 16_384, doc: 'Bytes of request line + headers.' },
  // headers; Node treats 0 as "unlimited": not allowed. Node's default is 2000; real clients send < 30, 100 bounds abuse.
  maxHeaderCount: { key: 'max_header_count', read: int([1, 10_000]), default: 100, doc: 'Headers per request.' },
  // bytes. Common proxies (nginx large_client_header_buffers) cap request lines near 8 KiB.
  maxPathBytes: { key: 'max_path_bytes', read: int([64, 1_048_576]), default: 8_192, doc: 'Bytes of the request target (path + query).' },
  // segments. Real APIs nest < 15 deep; bounds router work per request.
  maxPathSegments: { key: 'max_path_segments', read: int([1, 10_000]), default: 64, doc: 'Path segments after normalization.' },
  // ms. Slowloris guard: a client gets 10 s to finish its headers.
  headersTimeoutMs: {
    key: 'headers_timeout_ms',
    read: int([1, 600_000]),
    default: 10_000,
    doc: 'Milliseconds to receive complete request headers (slowloris guard); at most request_timeout_ms.',
  },
  // ms; 0 = no timeout (Node's meaning). Default 5 min: Node's own default requestTimeout; allows large uploads.
  requestTimeoutMs: { key: 'request_timeout_ms', read: int([0, 86_400_000]), default: 300_000, doc: 'Milliseconds to receive a complete request, body included; 0 = none.' },
  // ms; Node treats 0 as "never time out": not allowed. Default: Node's default server keepAliveTimeout.
  keepAliveTimeoutMs: { key: 'keep_alive_timeout_ms', read: int([1, 600_000]), default: 5_000, doc: 'Milliseconds an idle client keep-alive connection is kept.' },
  // ms. Kubernetes' default terminationGracePeriodSeconds is 30 s; drain finishes before SIGKILL.
  drainTimeoutMs: { key: 'drain_timeout_ms', read: int([0, 600_000]), default: 25_000, doc: 'Milliseconds SIGTERM waits for in-flight requests before exiting.' },
  // connections. A sidecar serves one API; 4096 keeps well under the usual 65536 fd limit
  // (each client connection can pair with an upstream one) while far above a pod's load.
  maxConnections: { key: 'max_connections', read: int([1, 1_000_000]), default: 4_096, doc: 'Concurrent client connections; further ones are closed at once.' },
};

export const LOGGING: Rows<LoggingConfig> = {
  level: { key: 'level', read: oneOf<LogLevel>(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), default: 'info', doc: 'Log level. $SCOPEGATE_LOG_LEVEL (else $LOG_LEVEL), when set, overrides it.' },
  access: { key: 'access', read: bool, default: true, doc: 'One access line per request.' },
  // bytes. 4 MiB holds ~16,000 access lines, several seconds of a busy sidecar; the minimum is a few write batches.
  bufferBytes: {
    key: 'buffer_bytes',
    read: int([MIN_LOG_BUFFER_BYTES, 1_073_741_824]),
    default: DEFAULT_LOG_BUFFER_BYTES,
    doc: 'Bytes of log output that may wait for a slow reader; beyond it whole lines are dropped and counted (scopegate_log_lines_dropped_total). Read at start only. $SCOPEGATE_LOG_BUFFER_BYTES overrides it.',
  },
  // `sub` is personal data in many deployments: logged only when listed.
  fields: {
    key: 'fields',
    read: listOf(oneOf<LogIdentityField>(['client_id', 'sub', 'jti']), { unique: true }),
    default: ['client_id', 'jti'],
    doc: 'Token identity fields written on access lines: client_id (or azp), jti, sub.',
  },
};

// ---- the admin page (README, "Admin page") ----
export const ADMIN: Rows<AdminConfig> = {
  // entries. 200 denials fill a screen or two of the admin page; each is a few hundred bytes. 0 keeps none.
  recentDenials: { key: 'recent_denials', read: int([0, 10_000]), default: 200, doc: 'Denials the admin page and `scopegate status` keep (a ring; identity fields as logging.fields allows). Read at start only; 0 keeps none.' },
};

/** `resource:` as read; authorization_servers defaults to the configured issuers (load.ts fills it in). */
export type ResourceOptions = Omit<ResourceConfig, 'authorizationServers'> & { readonly authorizationServers: readonly string[] | undefined };

export const RESOURCE: Rows<ResourceOptions> = {
  identifier: { key: 'identifier', read: readResourceIdentifier, required: true, doc: "The resource identifier; never derived from the request's Host." },
  name: { key: 'name', read: str({ nonEmpty: true }), doc: 'resource_name' },
  documentation: { key: 'documentation', read: readDocumentationUrl, doc: 'resource_documentation' },
  authorizationServers: { key: 'authorization_servers', read: listOf(str({ nonEmpty: true }), { nonEmpty: true, unique: true }), doc: 'Default: every configured issuer.' },
};

/** The whole file. `scopes` and `routes` are keyed by data (scope names, route keys): catalogue.ts and routes.ts read them. */
export interface TopLevel extends Omit<Config, 'source' | 'routes' | 'catalogue' | 'resource'> {
  readonly version: number;
  readonly scopes: never;
  readonly resource: ResourceOptions | undefined;
  readonly routes: never;
}

/** Reads nothing: the key is only reserved here (and described for JSON Schema). */
const readElsewhere = reader<never>({}, () => undefined);

/** The proxy listener's address when `listen` is left out (and the config is not authz-only). */
const LISTEN_DEFAULT: ListenAddress = { host: LOOPBACK_HOST, port: 8080 };

/** In this order: it is the order of "did you mean" ties and of missing-key errors. */
export const TOP: Rows<TopLevel> = {
  version: { key: 'version', read: int([1, 1]), schema: { const: 1 }, doc: 'Config format version. Optional; only 1 exists.' },
  // Loopback only: a sidecar exposed beyond its pod/host must be an explicit choice.
  listen: {
    key: 'listen',
    read: readListen,
    default: LISTEN_DEFAULT,
    yamlDefault: `${LOOPBACK_HOST}:8080`,
    doc: 'Address clients connect to: host:port, [ipv6]:port, or a bare port (host 127.0.0.1).',
  },
  // Loopback: /metrics and /readyz are for the local kubelet/Prometheus agent, not for clients.
  adminListen: {
    key: 'admin_listen',
    read: readListen,
    default: { host: LOOPBACK_HOST, port: 9090 },
    yamlDefault: `${LOOPBACK_HOST}:9090`,
    doc: 'Address of /healthz, /readyz and /metrics: host:port, [ipv6]:port, or a bare port (host 127.0.0.1).',
  },
  upstream: { key: 'upstream', read: section(UPSTREAM), required: true, doc: 'The protected API. May be left out, with `listen`, when `authz_listen` is set: scopegate then only answers decisions.' },
  // None by default: the decision-only listener is opt-in (README, "Decisions for nginx, Caddy, Envoy and Traefik").
  authzListen: {
    key: 'authz_listen',
    read: readListen,
    doc: 'Address of the decision-only listener (/authz/forward, /authz/envoy/...) for nginx auth_request, Caddy forward_auth, Traefik ForwardAuth and Envoy ext_authz: host:port, [ipv6]:port, or a bare port. Nothing is ever forwarded from it.',
  },
  auth: {
    key: 'auth',
    read: section(AUTH),
    // JWT issuers, an introspection endpoint, or both.
    schema: { ...objectSchema(AUTH), anyOf: [{ properties: { issuers: true }, required: ['issuers'] }, { properties: { introspection: true }, required: ['introspection'] }] },
    required: true,
    doc: 'Which tokens are accepted and how scopes are read from them.',
  },
  // None by default: forwarding identity is opt-in, the upstream must expect the headers.
  identityHeaders: {
    key: 'identity_headers',
    // IdentityHeaders' properties are optional: an unset header is absent, not undefined.
    read: section(IDENTITY_HEADERS, 'leave out'),
    default: {},
    doc: 'Headers set on forwarded requests (client-sent copies are always stripped). Hop-by-hop, framing, credential and X-Forwarded-* names are refused by the loader.',
  },
  // The only value: an unmapped request is answered 404/405 here and never forwarded (fail closed).
  unmatched: {
    key: 'unmatched',
    read: oneOf(['deny'] as const),
    schema: { const: 'deny' },
    default: 'deny',
    doc: 'Only `deny`: an unmapped path gets 404, a mapped path with an unmapped method 405 + Allow; never forwarded.',
  },
  // Fail closed unless the operator opts into report-only rollout.
  mode: {
    key: 'mode',
    read: oneOf<EnforcementMode>(['enforce', 'shadow']),
    default: 'enforce',
    doc: 'enforce (default): denials are answered and never forwarded. shadow: report-only rollout — a request that would be denied by policy is forwarded anyway, logged with would_deny and counted as outcome="shadow_deny". Ambiguous requests (400) are refused in every mode. Routes may override with their own `mode`.',
  },
  limits: { key: 'limits', read: section(LIMITS), default: withDefaults(LIMITS, {}), doc: 'Request limits and timeouts of the client-facing server.' },
  scopes: { key: 'scopes', read: readElsewhere, schema: CATALOGUE_SCHEMA, doc: CATALOGUE_DOC },
  resource: {
    key: 'resource',
    read: section(RESOURCE),
    doc: 'The protected resource (RFC 9728). When set, scopegate serves /.well-known/oauth-protected-resource (path-inserted when the identifier has a path) and adds resource_metadata to its challenges.',
  },
  logging: { key: 'logging', read: section(LOGGING), default: withDefaults(LOGGING, {}), doc: 'Log level, access lines and the log buffer.' },
  routes: { key: 'routes', read: readElsewhere, required: true, schema: ROUTES_SCHEMA, doc: ROUTES_DOC },
  // None by default: without the section scopegate adds and answers no CORS at all.
  cors: { key: 'cors', read: readCors, doc: 'Browser apps on other origins: preflights answered and CORS headers on every response (allowed_origins), or preflights forwarded to an upstream that does its own CORS (forward_preflight).' },
  // None by default: in a pod, the mesh or an ingress usually terminates TLS.
  tls: { key: 'tls', read: readTls, doc: 'Serve `listen` over TLS (HTTP/1.1): certificate and key files, re-read when they change and on SIGHUP.' },
  // Fail closed by default: many upstream frameworks route `/a/b/` to the handler of `/a/b`.
  routesTrailingSlash: {
    key: 'routes_trailing_slash',
    read: oneOf<TrailingSlashMode>(['merge', 'distinct']),
    default: 'merge',
    doc: 'merge (default): a request to a path ending in `/` must also satisfy the route its slash-less twin matches for the method (Express, Spring MVC 5, Rails and ASP.NET route both to one handler). distinct: for upstreams that tell the two apart. `scopegate check` lists the twin pairs whose requirements differ.',
  },
  // One process by default: no cluster, no IPC; more is an explicit choice (README, "Workers").
  workers: {
    key: 'workers',
    read: readWorkers,
    default: 1,
    doc: 'Processes serving the listeners: a number, or auto (the cores this container may use, cgroup CPU quota included). Above 1 a primary process forks the workers on the same ports and serves the admin port with metrics summed over all of them. Read at start only.',
  },
  admin: { key: 'admin', read: section(ADMIN), default: withDefaults(ADMIN, {}), doc: 'The read-only admin page on admin_listen (`/`, `/status`).' },
};

/**
 * An authz-only config (`authz_listen` set, `listen` and `upstream` both left
 * out): scopegate runs only the decision listener, so there is no proxy
 * address and nothing to forward to. Only these two rows change.
 */
const { required: _upstreamRequired, ...optionalUpstream } = TOP.upstream;
const { default: _listenDefault, yamlDefault: _listenYamlDefault, ...unsetListen } = TOP.listen;
export const AUTHZ_ONLY_TOP: Rows<TopLevel> = { ...TOP, listen: unsetListen, upstream: optionalUpstream };

/** What an empty file would get: the top-level defaults (required sections are left undefined). */
const TOP_DEFAULTS = withDefaults(TOP, {});

// No issuers is not a default anyone configures: it is the absence of JWT issuers in an introspection-only config.
const { issuers: _noIssuers, ...authDefaults } = defaultsOf(AUTH);

/** Every default, derived from the rows above; tests and `scopegate import` read it. */
export const DEFAULTS = {
  listen: LISTEN_DEFAULT,
  adminListen: TOP_DEFAULTS.adminListen,
  upstream: defaultsOf(UPSTREAM) as Omit<UpstreamConfig, 'url'>,
  auth: {
    algorithms: ISSUER.algorithms.default ?? [],
    ...(authDefaults as Omit<AuthConfig, 'issuers' | 'introspection'>),
    introspection: defaultsOf(INTROSPECTION) as Pick<IntrospectionConfig, 'cacheTtlS' | 'negativeCacheTtlS' | 'timeoutMs' | 'maxInFlight'>,
    // What an `auth.dpop` section gets when it is written without them (the section itself is optional: unset, DPoP is off).
    dpop: defaultsOf(DPOP) as Omit<DpopConfig, 'origins'>,
  },
  identityHeaders: TOP_DEFAULTS.identityHeaders,
  unmatched: TOP_DEFAULTS.unmatched,
  mode: TOP_DEFAULTS.mode,
  routesTrailingSlash: TOP_DEFAULTS.routesTrailingSlash,
  limits: TOP_DEFAULTS.limits,
  cors: defaultsOf(CORS) as Omit<CorsConfig, 'allowedOrigins'>,
  logging: TOP_DEFAULTS.logging,
  workers: TOP_DEFAULTS.workers,
  admin: TOP_DEFAULTS.admin,
} as const;

/** Inclusive [min, max] of every integer option, keyed like DEFAULTS, derived from the rows above. */
export const INTEGER_RANGES: { readonly upstream: Ranges; readonly auth: Ranges; readonly limits: Ranges; readonly cors: Ranges; readonly logging: Ranges; readonly admin: Ranges } = {
  upstream: rangesOf(UPSTREAM),
  auth: rangesOf(AUTH),
  limits: rangesOf(LIMITS),
  cors: rangesOf(CORS),
  logging: rangesOf(LOGGING),
  admin: rangesOf(ADMIN),
};
