/**
 * The metric objects createMetrics() (metrics.ts) registers, and the two
 * per-request recorders built on them: request durations and decisions.
 * Kept apart so createMetrics() stays the short list of what each call does.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { HTTP_METHODS } from '../config/schema.js';
import { UNMATCHED_ROUTE, type DecisionReason, type DenyReason } from '../policy/decision.js';
import { FastHistogram, type HistogramSeries } from './histogram.js';
import { TOKEN_CAUSES, type TokenCause } from './token-cause.js';

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

/** The `listener` label: the inline proxy, or the decision-only authz listener. */
export type ListenerLabel = 'proxy' | 'authz';

/**
 * Every metric object behind the Metrics interface, registered in the order of
 * the exposition (the scrape-time ones are registered after them, elsewhere).
 */
export function defineMetrics(registry: Registry) {
  const registers = [registry];
  const set = {
    requestDuration: new FastHistogram({
      name: 'scopegate_request_duration_seconds',
      help: 'Time from request received to response finished, by method, route template and status.',
      labelNames: ['method', 'route', 'status', 'listener'],
      buckets: REQUEST_BUCKETS,
      registers,
    }),
    decisionDuration: new FastHistogram({
      name: 'scopegate_decision_duration_seconds',
      help: "Time spent in decide(): the sidecar's own overhead per request.",
      labelNames: ['outcome'],
      buckets: DECISION_BUCKETS,
      registers,
    }),
    upstreamDuration: new FastHistogram({
      name: 'scopegate_upstream_duration_seconds',
      help: 'Time from dispatch to the last upstream response byte, by route template.',
      labelNames: ['route'],
      buckets: REQUEST_BUCKETS,
      registers,
    }),
    decisionsTotal: new Counter({
      name: 'scopegate_decisions_total',
      // `cause` only on invalid_token series (prom-client writes a label only where it is set; absent reads as empty).
      help: 'Authorization decisions by outcome and reason; cause says why a token was invalid.',
      labelNames: ['outcome', 'reason', 'listener', 'cause'] as const,
      registers,
    }),
    jwksRefreshTotal: new Counter({
      name: 'scopegate_jwks_refresh_total',
      help: 'JWKS fetches by issuer and result (success, failure, rejected).',
      labelNames: ['issuer', 'result'] as const,
      registers,
    }),
    jwksKeysRefusedTotal: new Counter({
      name: 'scopegate_jwks_keys_refused_total',
      help: 'JWKs refused at import by issuer and reason (rsa_too_small, rsa_exponent, ec_not_on_curve, ed25519_small_order, use_not_sig, key_ops_no_verify, ...).',
      labelNames: ['issuer', 'reason'] as const,
      registers,
    }),
    upstreamErrors: new Counter({
      name: 'scopegate_upstream_errors_total',
      help: 'Forwarding failures by code (ERR_UPSTREAM_UNREACHABLE, ERR_UPSTREAM_TIMEOUT, ERR_CLIENT_ABORTED, ...).',
      labelNames: ['code'] as const,
      registers,
    }),
    // ---- introspection (README, Opaque tokens) ----
    introspectionTotal: new Counter({
      name: 'scopegate_introspection_total',
      help: 'Calls to the token introspection endpoint by result (active, inactive, error); cache hits are not calls.',
      labelNames: ['result'] as const,
      registers,
    }),
    // Calls take a few ms to introspection.timeout_ms (2 s default, at most 60 s): the request buckets cover that.
    introspectionDuration: new FastHistogram({
      name: 'scopegate_introspection_duration_seconds',
      help: 'Duration of calls to the token introspection endpoint, failed ones included.',
      labelNames: [],
      buckets: REQUEST_BUCKETS,
      registers,
    }),
    configReloads: new Counter({
      name: 'scopegate_config_reloads_total',
      help: 'Config reload attempts by result (success: applied; failure: invalid, the last good config keeps serving).',
      labelNames: ['result'] as const,
      registers,
    }),
    deprecatedUse: new Counter({
      name: 'scopegate_deprecated_scope_use_total',
      help: 'Requests accepted only because of a deprecated scope (catalogue replaced_by), by that scope: when it stays flat, the scope can be retired.',
      labelNames: ['scope'] as const,
      registers,
    }),
    configInfo: new Gauge({
      name: 'scopegate_config_info',
      help: 'The active config, by sha256 of its file (first 12 hex digits): always 1.',
      labelNames: ['hash'] as const,
      registers,
    }),
  };
  set.configReloads.inc({ result: 'success' }, 0);
  set.configReloads.inc({ result: 'failure' }, 0);
  return set;
}

/** Every metric object defineMetrics() registers. */
export type MetricSet = ReturnType<typeof defineMetrics>;

/**
 * The request-duration series for (method, route, status, listener), found
 * through nested Maps keyed by values the caller already holds: route
 * templates and methods are long-lived strings whose hashes V8 keeps, so a
 * hit builds no key string (a `${…}` key cost a concatenation and a fresh
 * hash on every request).
 */
export function requestSeriesLookup(histogram: FastHistogram): (method: string, route: string | undefined, status: number, listener: ListenerLabel) => HistogramSeries {
  const roots: Record<ListenerLabel, Map<string, Map<number, Map<string, HistogramSeries>>>> = { proxy: new Map(), authz: new Map() };
  return (method, route, status, listener) => {
    const r = route ?? UNMATCHED_ROUTE;
    const m = methodLabel(method);
    const byRoute = roots[listener];
    let byStatus = byRoute.get(r);
    if (byStatus === undefined) byRoute.set(r, (byStatus = new Map()));
    let byMethod = byStatus.get(status);
    if (byMethod === undefined) byStatus.set(status, (byMethod = new Map()));
    let series = byMethod.get(m);
    if (series === undefined) byMethod.set(m, (series = histogram.series(m, r, String(status), listener)));
    return series;
  };
}

export type DecisionOutcome = 'allow' | 'deny' | 'shadow_deny';

/**
 * The decision recorder: duration by outcome, count by outcome, reason,
 * listener (and cause for invalid tokens), through children resolved once per
 * label tuple (prom-client's labels() hashes the label object on every call).
 * Pre-created series make every reason visible at 0 before it happens, so
 * rate() and alerts work from the first scrape.
 */
export function decisionRecorder(set: MetricSet, listeners: readonly ListenerLabel[]) {
  const { decisionsTotal, decisionDuration } = set;
  const durations = { allow: decisionDuration.series('allow'), deny: decisionDuration.series('deny') };
  // Per listener, then reason: enforce-mode and shadow-mode children apart.
  const enforced: Record<ListenerLabel, Map<DecisionReason, Counter.Internal>> = { proxy: new Map(), authz: new Map() };
  const shadowed: Record<ListenerLabel, Map<DecisionReason, Counter.Internal>> = { proxy: new Map(), authz: new Map() };
  for (const listener of listeners) {
    enforced[listener].set('allowed', decisionsTotal.labels({ outcome: 'allow', reason: 'allowed', listener }));
    for (const r of DENY_REASONS) enforced[listener].set(r, decisionsTotal.labels({ outcome: 'deny', reason: r, listener }));
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
  return (outcome: DecisionOutcome, reason: DecisionReason, seconds: number, listener: ListenerLabel, cause: TokenCause | undefined): void => {
    durations[outcome === 'allow' ? 'allow' : 'deny'].observe(seconds);
    if (cause !== undefined) {
      causeChild(outcome, reason, listener, cause).inc();
      return;
    }
    // Shadow series are created lazily: enforce-mode deployments never show them. Other listeners and
    // reasons not created up front (the CORS reasons, which a config without cors never shows) appear
    // with their first decision.
    const children = outcome === 'shadow_deny' ? shadowed[listener] : enforced[listener];
    let counter = children.get(reason);
    if (counter === undefined) children.set(reason, (counter = decisionsTotal.labels({ outcome, reason, listener })));
    counter.inc();
  };
}
