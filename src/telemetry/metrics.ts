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
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { KeyRefusal } from '../auth/jwks.js';
import type { IssuerKeyState } from '../auth/types.js';
import { UNMATCHED_ROUTE, type DecisionReason } from '../policy/decision.js';
import type { HistogramSeries } from './histogram.js';
import { decisionRecorder, defineMetrics, requestSeriesLookup, type ListenerLabel } from './metric-set.js';
import { registerScrapeMetrics, type ScrapeSources, type TokenCacheStats } from './scrape-metrics.js';
import type { TokenCause } from './token-cause.js';
import { registerBuildInfo } from './build-info.js';

/** The `route` label for requests no route matched (defined with the decision types). */
export { UNMATCHED_ROUTE };

export { methodLabel, type ListenerLabel } from './metric-set.js';
export type { TokenCacheStats } from './scrape-metrics.js';

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
  const set = defineMetrics(registry);
  const introspectionSeries = set.introspectionDuration.series();
  const sources: ScrapeSources = {};
  registerScrapeMetrics([registry], sources);
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  // Children resolved once per label tuple: prom-client's labels() hashes the label object on every call.
  const recordDecision = decisionRecorder(set, options.listeners ?? ['proxy']);
  registerBuildInfo(registry);
  const upgraded = new Gauge({ name: 'scopegate_upgraded_connections', help: 'Open WebSocket connections piped to the upstream.', registers: [registry] });
  const requestSeries = requestSeriesLookup(set.requestDuration);
  const upstreamChildren = new Map<string, HistogramSeries>();

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),

    request(method, route, status, seconds, listener = 'proxy') {
      requestSeries(method, route, status, listener).observe(seconds);
    },

    decision(outcome, reason, seconds, listener = 'proxy', cause) {
      recordDecision(outcome, reason, seconds, listener, cause);
    },

    upgradedConnections(delta) {
      upgraded.inc(delta);
    },

    deprecatedScopeUse(scope) {
      set.deprecatedUse.inc({ scope });
    },

    configReload(result) {
      set.configReloads.inc({ result });
    },

    setConfigHash(hash) {
      set.configInfo.reset();
      set.configInfo.set({ hash: hash.slice(0, 12) }, 1);
    },

    setReadySource(source) {
      sources.ready = source;
    },

    upstream(route, seconds) {
      let child = upstreamChildren.get(route);
      if (child === undefined) {
        child = set.upstreamDuration.series(route);
        upstreamChildren.set(route, child);
      }
      child.observe(seconds);
    },

    upstreamError(code) {
      set.upstreamErrors.labels(code).inc();
    },

    jwksRefresh(issuer, result) {
      set.jwksRefreshTotal.labels(issuer, result).inc();
    },

    jwksKeysRefused(issuer, reason, count) {
      set.jwksKeysRefusedTotal.labels(issuer, reason).inc(count);
    },
    introspection(result, seconds) {
      set.introspectionTotal.labels(result).inc();
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
