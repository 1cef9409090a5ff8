/**
 * Every metric scopegate exports (README, Operations), on a Registry of its own:
 * prom-client's global registry would make two instances (tests, a reload
 * that builds a new server) collide on metric names.
 *
 * Node process metrics come from collectDefaultMetrics *without* the
 * `scopegate_` prefix: `process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`
 * and friends are what every stock Node dashboard and alert queries; prefixing
 * them would break those for no gain (the `job`/`instance` labels already say
 * which process it is).
 *
 * Cardinality is bounded by construction: `route` is a config template or
 * `unmatched`, `method` is one of the routable methods or `OTHER`, `status`
 * is whatever HTTP status we sent (a few dozen at most), reasons and error
 * codes are closed unions.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { KeyRefusal } from '../auth/jwks.js';
import type { IssuerKeyState } from '../auth/types.js';
import { HTTP_METHODS } from '../config/schema.js';
import { UNMATCHED_ROUTE, type DecisionReason, type DenyReason } from '../policy/decision.js';
import { FastHistogram, type HistogramSeries } from './histogram.js';
import { registerScrapeMetrics, type ScrapeSources, type TokenCacheStats } from './scrape-metrics.js';
import { TOKEN_CAUSES, type TokenCause } from './token-cause.js';
import { registerBuildInfo } from './build-info.js';

/** The `route` label for requests no route matched (defined with the decision types). */
export { UNMATCHED_ROUTE };

/** Request/upstream buckets (seconds): sub-millisecond proxying up to the default 30 s upstream timeout. */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Decision buckets (seconds): a cached-token decision is a few µs, a fresh
 * signature check tens to hundreds of µs (RS256 verify ≈ 50 µs, ES256 ≈ 100 µs),
 * and an awaited JWKS fetch on an unknown kid up to jwks.timeout_ms (5 s).
 */
const DECISION_BUCKETS = [5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 0.1, 1, 5];

const DENY_REASONS: readonly DenyReason[] = [
  'no_route',
  'method_not_allowed',
  'missing_token',
  'invalid_token',
  'insufficient_scope',
  'bad_request',
  'keys_unavailable',
  'invalid_dpop_proof',
  'claim_mismatch',
];

const KNOWN_METHODS: ReadonlySet<string> = new Set<string>(HTTP_METHODS);

/** Unknown or extension methods (PROPFIND, BREW…) collapse to one label value. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'OTHER';
}

export type { TokenCacheStats } from './scrape-metrics.js';

/** The `listener` label: the inline proxy, or the decision-only authz listener. */
export type ListenerLabel = 'proxy' | 'authz';

export interface MetricsOptions {
  /** Register Node process metrics (default true). Off in tests that build many instances. */
  readonly defaultMetrics?: boolean;
  /** Listeners whose decision series exist at 0 from the first scrape (default: the proxy's). */
  readonly listeners?: readonly ListenerLabel[];
}

export interface Metrics {
  readonly registry: Registry;
  /** The Content-Type of `text()`. */
  readonly contentType: string;
  /** Prometheus exposition text (runs the scrape-time collectors). */
  text(): Promise<string>;

  /** One finished request: route template or undefined (→ `unmatched`). */
  request(method: string, route: string | undefined, status: number, seconds: number, listener?: ListenerLabel): void;
  /**
   * One decide() call: its duration and its reason. `shadow_deny` is a deny that
   * shadow mode forwarded anyway; its duration is recorded under outcome="deny".
   */
  decision(outcome: 'allow' | 'deny' | 'shadow_deny', reason: DecisionReason, seconds: number, listener?: ListenerLabel, cause?: TokenCause): void;
  /** A request accepted with a deprecated scope in place of its replacement. */
  deprecatedScopeUse(scope: string): void;
  /** A config reload attempt (SIGHUP or file change) and how it ended. */
  configReload(result: 'success' | 'failure'): void;
  /** The active config: scopegate_config_info{hash} is 1 for it and absent for any other. */
  setConfigHash(hash: string): void;
  /** Read on each scrape for scopegate_ready (the same answer /readyz gives). */
  setReadySource(source: () => boolean): void;
  /** One upstream exchange (dispatch → last byte). */
  upstream(route: string, seconds: number): void;
  upstreamError(code: string): void;
  jwksRefresh(issuer: string, result: string): void;
  /** `count` JWKs of an issuer's fetched set refused at import; `reason` is a closed union. */
  jwksKeysRefused(issuer: string, reason: KeyRefusal, count: number): void;
  /** One call to the introspection endpoint (cache hits are not calls): active, inactive or error. */
  introspection(result: 'active' | 'inactive' | 'error', seconds: number): void;
  /** A WebSocket tunnel opened (+1) or closed (-1): scopegate_upgraded_connections. */
  upgradedConnections(delta: 1 | -1): void;

  /** Read on each scrape for scopegate_jwks_keys / scopegate_jwks_age_seconds. */
  setIssuerStateSource(source: () => readonly IssuerKeyState[]): void;
  /** Read on each scrape for the token cache counters and size. */
  setTokenCacheSource(source: () => TokenCacheStats): void;
  /** Read on each scrape for scopegate_dpop_replay_cache_entries; undefined while DPoP is not configured. */
  setReplayCacheSource(source: () => number | undefined): void;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];

  const requestDuration = new FastHistogram({
    name: 'scopegate_request_duration_seconds',
    help: 'Time from request received to response finished, by method, route template and status.',
    labelNames: ['method', 'route', 'status', 'listener'],
    buckets: REQUEST_BUCKETS,
    registers,
  });
  const decisionDuration = new FastHistogram({
    name: 'scopegate_decision_duration_seconds',
    help: "Time spent in decide(): the sidecar's own overhead per request.",
    labelNames: ['outcome'],
    buckets: DECISION_BUCKETS,
    registers,
  });
  const upstreamDuration = new FastHistogram({
    name: 'scopegate_upstream_duration_seconds',
    help: 'Time from dispatch to the last upstream response byte, by route template.',
    labelNames: ['route'],
    buckets: REQUEST_BUCKETS,
    registers,
  });
  const decisionsTotal = new Counter({
    name: 'scopegate_decisions_total',
    // `cause` only on invalid_token series (prom-client writes a label only where it is set; absent reads as empty).
    help: 'Authorization decisions by outcome and reason; cause says why a token was invalid.',
    labelNames: ['outcome', 'reason', 'listener', 'cause'] as const,
    registers,
  });
  const jwksRefreshTotal = new Counter({
    name: 'scopegate_jwks_refresh_total',
    help: 'JWKS fetches by issuer and result (success, failure, rejected).',
    labelNames: ['issuer', 'result'] as const,
    registers,
  });
  const jwksKeysRefusedTotal = new Counter({
    name: 'scopegate_jwks_keys_refused_total',
    help: 'JWKs refused at import by issuer and reason (rsa_too_small, rsa_exponent, ec_not_on_curve, ed25519_small_order, use_not_sig, key_ops_no_verify, ...).',
    labelNames: ['issuer', 'reason'] as const,
    registers,
  });
  const upstreamErrors = new Counter({
    name: 'scopegate_upstream_errors_total',
    help: 'Forwarding failures by code (ERR_UPSTREAM_UNREACHABLE, ERR_UPSTREAM_TIMEOUT, ERR_CLIENT_ABORTED, ...).',
    labelNames: ['code'] as const,
    registers,
  });

  // ---- introspection (README, Opaque tokens) ----
  const introspectionTotal = new Counter({
    name: 'scopegate_introspection_total',
    help: 'Calls to the token introspection endpoint by result (active, inactive, error); cache hits are not calls.',
    labelNames: ['result'] as const,
    registers,
  });
  // Calls take a few ms to introspection.timeout_ms (2 s default, at most 60 s): the request buckets cover that.
  const introspectionDuration = new FastHistogram({
    name: 'scopegate_introspection_duration_seconds',
    help: 'Duration of calls to the token introspection endpoint, failed ones included.',
    labelNames: [],
    buckets: REQUEST_BUCKETS,
    registers,
  });
  const introspectionSeries = introspectionDuration.series();

  const sources: ScrapeSources = {};

  const configReloads = new Counter({
    name: 'scopegate_config_reloads_total',
    help: 'Config reload attempts by result (success: applied; failure: invalid, the last good config keeps serving).',
    labelNames: ['result'] as const,
    registers,
  });
  configReloads.inc({ result: 'success' }, 0);
  configReloads.inc({ result: 'failure' }, 0);
  const deprecatedUse = new Counter({
    name: 'scopegate_deprecated_scope_use_total',
    help: 'Requests accepted only because of a deprecated scope (catalogue replaced_by), by that scope: when it stays flat, the scope can be retired.',
    labelNames: ['scope'] as const,
    registers,
  });
  const configInfo = new Gauge({
    name: 'scopegate_config_info',
    help: 'The active config, by sha256 of its file (first 12 hex digits): always 1.',
    labelNames: ['hash'] as const,
    registers,
  });
  registerScrapeMetrics(registers, sources);

  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  // Pre-bound children: prom-client's labels() hashes the label object on
  // every call; a Map lookup on a short string key is cheaper. Pre-created
  // decision series also make every reason visible at 0 before it happens
  // (so rate() and alerts work from the first scrape).
  const decisionChildren = {
    allow: decisionDuration.series('allow'),
    deny: decisionDuration.series('deny'),
  };
  // Keyed `${listener} ${reason}`.
  const reasonChildren = new Map<string, Counter.Internal>();
  for (const listener of options.listeners ?? ['proxy']) {
    reasonChildren.set(`${listener} allowed`, decisionsTotal.labels({ outcome: 'allow', reason: 'allowed', listener }));
    for (const r of DENY_REASONS) reasonChildren.set(`${listener} ${r}`, decisionsTotal.labels({ outcome: 'deny', reason: r, listener }));
    // labels() alone does not create a series; inc(0) / zero() do.
    decisionsTotal.inc({ outcome: 'allow', reason: 'allowed', listener }, 0);
    // invalid_token is pre-created per cause instead: each such deny has one.
    for (const r of DENY_REASONS) if (r !== 'invalid_token') decisionsTotal.inc({ outcome: 'deny', reason: r, listener }, 0);
    for (const cause of TOKEN_CAUSES) decisionsTotal.inc({ outcome: 'deny', reason: 'invalid_token', listener, cause }, 0);
  }
  const causeChildren = new Map<string, Counter.Internal>();
  const causeChild = (outcome: string, reason: DecisionReason, listener: ListenerLabel, cause: TokenCause): Counter.Internal => {
    const key = `${outcome} ${reason} ${listener} ${cause}`;
    let child = causeChildren.get(key);
    if (child === undefined) causeChildren.set(key, (child = decisionsTotal.labels({ outcome, reason, listener, cause })));
    return child;
  };
  registerBuildInfo(registry);

  const upgraded = new Gauge({ name: 'scopegate_upgraded_connections', help: 'Open WebSocket connections piped to the upstream.', registers });

  const shadowChildren = new Map<string, Counter.Internal>();
  const requestChildren = new Map<string, HistogramSeries>();
  const upstreamChildren = new Map<string, HistogramSeries>();

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),

    request(method, route, status, seconds, listener = 'proxy') {
      const m = methodLabel(method);
      const r = route ?? UNMATCHED_ROUTE;
      const key = `${listener} ${m} ${status} ${r}`;
      let child = requestChildren.get(key);
      if (child === undefined) {
        child = requestDuration.series(m, r, String(status), listener);
        requestChildren.set(key, child);
      }
      child.observe(seconds);
    },

    decision(outcome, reason, seconds, listener = 'proxy', cause) {
      if (cause !== undefined) {
        decisionChildren[outcome === 'allow' ? 'allow' : 'deny'].observe(seconds);
        causeChild(outcome, reason, listener, cause).inc();
        return;
      }
      if (outcome === 'shadow_deny') {
        decisionChildren.deny.observe(seconds);
        // Lazily created: enforce-mode deployments never show shadow series.
        let counter = shadowChildren.get(`${listener} ${reason}`);
        if (counter === undefined) {
          counter = decisionsTotal.labels({ outcome: 'shadow_deny', reason, listener });
          shadowChildren.set(`${listener} ${reason}`, counter);
        }
        counter.inc();
        return;
      }
      decisionChildren[outcome].observe(seconds);
      const key = `${listener} ${reason}`;
      let counter = reasonChildren.get(key);
      if (counter === undefined) {
        // A listener or reason not created up front (another listener; the CORS reasons, which a config
        // without cors never shows): its series appear with their first decision.
        counter = decisionsTotal.labels({ outcome, reason, listener });
        reasonChildren.set(key, counter);
      }
      counter.inc();
    },

    upgradedConnections(delta) {
      upgraded.inc(delta);
    },

    deprecatedScopeUse(scope) {
      deprecatedUse.inc({ scope });
    },

    configReload(result) {
      configReloads.inc({ result });
    },

    setConfigHash(hash) {
      configInfo.reset();
      configInfo.set({ hash: hash.slice(0, 12) }, 1);
    },

    setReadySource(source) {
      sources.ready = source;
    },

    upstream(route, seconds) {
      let child = upstreamChildren.get(route);
      if (child === undefined) {
        child = upstreamDuration.series(route);
        upstreamChildren.set(route, child);
      }
      child.observe(seconds);
    },

    upstreamError(code) {
      upstreamErrors.labels(code).inc();
    },

    jwksRefresh(issuer, result) {
      jwksRefreshTotal.labels(issuer, result).inc();
    },

    jwksKeysRefused(issuer, reason, count) {
      jwksKeysRefusedTotal.labels(issuer, reason).inc(count);
    },
    introspection(result, seconds) {
      introspectionTotal.labels(result).inc();
      introspectionSeries.observe(seconds);
    },

    setIssuerStateSource(source) {
      sources.issuers = source;
    },
    setTokenCacheSource(source) {
      sources.tokenCache = source;
    },
    setReplayCacheSource(source) {
      sources.replayCache = source;
    },
  };
}
