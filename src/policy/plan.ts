/**
 * plan(): the one dispatch. Every request the proxy listener receives goes
 * through it once, and `scopegate explain` prints what it decided; nothing
 * else decides what happens to a request (docs/architecture.md, Request path).
 *
 * In order:
 *   1. GET/HEAD of the RFC 9728 metadata path → discovery (answered before
 *      anything else: the document is public and needs no Host);
 *   2. an HTTP/1.1 request without Host, or a Host that is not uri-host[:port]
 *      → deny 400 (RFC 9112 §3.2; policy/host.ts);
 *   3. more header lines than limits.max_header_count → deny 431 (RFC 6585 §5);
 *   4. with `cors:`, a CORS preflight (OPTIONS with Origin and
 *      Access-Control-Request-Method) → preflight (answered or forwarded, no
 *      token) or its deny (respond/cors.ts);
 *   5. decide(): path, route, query, token, scopes → deny | forward | token_info;
 *      a forward of an `Upgrade: websocket` GET to a `websocket: true` route
 *      becomes an upgrade (proxy/upgrade.ts).
 *
 * The Action is the decision itself (Deny and Allow carry their `kind`) or a
 * discovery object built once per config: planning allocates nothing beyond
 * what decide() does. `preflight` (CORS, respond/cors.ts) and `upgrade`
 * (WebSocket, proxy/upgrade.ts) are built only here; a new kind joins the union
 * here and nowhere else.
 */
import type { DpopVerifier } from '../auth/dpop.js';
import type { ReplayCache } from '../auth/replay-cache.js';
import type { TokenVerifier } from '../auth/types.js';
import type { Config } from '../config/schema.js';
import type { UpgradeAction } from '../proxy/upgrade.js';
import { createCors, type Cors, type PreflightAction } from '../respond/cors.js';
import { createDiscovery, type Discovery } from '../respond/discovery.js';
import { compilePolicies, createDecider, type CompiledPolicies, type RoutePolicy } from './decide.js';
import type { Allow, Deny } from './decision.js';
import { INVALID_HOST, MISSING_HOST, TOO_MANY_HEADERS } from './denials.js';
import { isValidHost } from './host.js';
import { createSenderGate } from './sender.js';

/** Answer the protected-resource metadata document. */
export interface DiscoveryAction {
  readonly kind: 'discovery';
  /** The metrics and access-line `route`: the metadata path. */
  readonly route: string;
  readonly discovery: Discovery;
}

/** What happens to one request: answered by scopegate (discovery, deny, token_info) or forwarded. */
export type Action = DiscoveryAction | Deny | Allow | PreflightAction | UpgradeAction;
export type ActionKind = Action['kind'];

/**
 * What plan() reads of a request. Node's IncomingMessage is one (no copy on the
 * hot path); explain builds one by hand.
 */
export interface RequestHead {
  readonly method?: string | undefined;
  /** The raw request target, exactly as sent. */
  readonly url?: string | undefined;
  /** Flat [name, value, …], so duplicates are visible (Node's req.headers keeps only the first). */
  readonly rawHeaders: readonly string[];
  readonly headers: {
    readonly host?: string | undefined;
    /** CORS (respond/cors.ts): a preflight carries both. */
    readonly origin?: string | undefined;
    readonly 'access-control-request-method'?: string | undefined;
    /** `websocket` on a WebSocket handshake (RFC 6455 §4.1). */
    readonly upgrade?: string | undefined;
  };
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
}

export interface Planner {
  /** Synchronous unless verifying the token needs a JWKS fetch. */
  plan(request: RequestHead): Action | Promise<Action>;
  /** The compiled route table (check, explain). */
  readonly routes: readonly RoutePolicy[];
  /** The metadata document, when the config has a `resource:` section. */
  readonly discovery: Discovery | undefined;
  /** CORS, when the config has a `cors:` section. */
  readonly cors: Cors | undefined;
  /** The DPoP proof verifier when auth.dpop is configured: its replay cache is a gauge and goes to the next generation. */
  readonly dpop: DpopVerifier | undefined;
}

export interface PlannerOptions {
  /**
   * limits.max_header_count as the listener was created with: Node fixes it per
   * connection, so a reload cannot change it (default: the config's).
   */
  readonly maxHeaderCount?: number;
  /** An already compiled route table, to share with a trace over the same routes (explain). */
  readonly compiled?: CompiledPolicies;
  /** The DPoP replay cache of the generation being replaced, so a reload does not forget the proofs already seen. */
  readonly replayCache?: ReplayCache;
}

/** Whether a raw request target asks for the metadata document (the query, if any, is ignored). */
export function isDiscoveryTarget(discovery: Discovery, target: string): boolean {
  return target === discovery.path || (target.startsWith(discovery.path) && target.charCodeAt(discovery.path.length) === 0x3f /* ? */);
}

export function createPlanner(config: Config, verifier: TokenVerifier, options: PlannerOptions = {}): Planner {
  const compiled = options.compiled ?? compilePolicies(config);
  const decider = createDecider(config, verifier, compiled, createSenderGate(config, options.replayCache));
  const cors = createCors(config, compiled);
  // Templates of `websocket: true` routes (GET only, so the template names the route).
  const websocketRoutes = new Set(config.routes.filter((r) => r.websocket === true).map((r) => r.path));
  const asUpgrade = (decided: Action): Action =>
    decided.kind === 'forward' && websocketRoutes.has(decided.route) ? { kind: 'upgrade', route: decided.route, allow: decided } : decided;
  const discovery = createDiscovery(config);
  const discoveryAction: DiscoveryAction | undefined = discovery === undefined ? undefined : Object.freeze({ kind: 'discovery', route: discovery.path, discovery });
  // Node's maxHeadersCount only truncates req.headers; header lines past it would still reach
  // the upstream from rawHeaders, unchecked (a second Host, a Content-Length). Refused instead.
  const maxRawHeaders = 2 * (options.maxHeaderCount ?? config.limits.maxHeaderCount);

  function plan(request: RequestHead): Action | Promise<Action> {
    const method = request.method ?? '';
    const target = request.url ?? '';
    if (discoveryAction !== undefined && (method === 'GET' || method === 'HEAD') && isDiscoveryTarget(discoveryAction.discovery, target)) {
      return discoveryAction;
    }
    const host = request.headers.host;
    if (host === undefined) {
      if (request.httpVersionMajor === 1 && request.httpVersionMinor === 1) return MISSING_HOST;
    } else if (!isValidHost(host)) {
      return INVALID_HOST;
    }
    if (request.rawHeaders.length > maxRawHeaders) return TOO_MANY_HEADERS;
    if (cors !== undefined && method === 'OPTIONS') {
      const origin = request.headers.origin;
      const requestMethod = request.headers['access-control-request-method'];
      if (origin !== undefined && requestMethod !== undefined) return cors.preflight({ origin, requestMethod, target });
    }
    const decided = decider.decide(method, target, request.rawHeaders);
    if (websocketRoutes.size === 0 || method !== 'GET' || request.headers.upgrade?.toLowerCase() !== 'websocket') return decided;
    return decided instanceof Promise ? decided.then(asUpgrade) : asUpgrade(decided);
  }

  return { plan, routes: decider.routes, discovery, cors, dpop: decider.dpop };
}
