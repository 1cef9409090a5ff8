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
 *   4. decide(): path, route, query, token, scopes → deny | forward | token_info.
 *
 * The Action is the decision itself (Deny and Allow carry their `kind`) or a
 * discovery object built once per config: planning allocates nothing beyond
 * what decide() does. Later kinds (`preflight` for CORS, `upgrade` for
 * WebSocket) join the union here and nowhere else.
 */
import type { TokenVerifier } from '../auth/types.js';
import type { Config } from '../config/schema.js';
import { createDiscovery, type Discovery } from '../respond/discovery.js';
import { compilePolicies, createDecider, type CompiledPolicies, type RoutePolicy } from './decide.js';
import type { Allow, Deny } from './decision.js';
import { INVALID_HOST, MISSING_HOST, TOO_MANY_HEADERS } from './denials.js';
import { isValidHost } from './host.js';

/** Answer the protected-resource metadata document. */
export interface DiscoveryAction {
  readonly kind: 'discovery';
  /** The metrics and access-line `route`: the metadata path. */
  readonly route: string;
  readonly discovery: Discovery;
}

/** What happens to one request: answered by scopegate (discovery, deny, token_info) or forwarded. */
export type Action = DiscoveryAction | Deny | Allow;
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
  readonly headers: { readonly host?: string | undefined };
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
}

export interface PlannerOptions {
  /**
   * limits.max_header_count as the listener was created with: Node fixes it per
   * connection, so a reload cannot change it (default: the config's).
   */
  readonly maxHeaderCount?: number;
  /** An already compiled route table, to share with a trace over the same routes (explain). */
  readonly compiled?: CompiledPolicies;
}

/** Whether a raw request target asks for the metadata document (the query, if any, is ignored). */
export function isDiscoveryTarget(discovery: Discovery, target: string): boolean {
  return target === discovery.path || (target.startsWith(discovery.path) && target.charCodeAt(discovery.path.length) === 0x3f /* ? */);
}

export function createPlanner(config: Config, verifier: TokenVerifier, options: PlannerOptions = {}): Planner {
  const decider = createDecider(config, verifier, options.compiled ?? compilePolicies(config));
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
    return decider.decide(method, target, request.rawHeaders);
  }

  return { plan, routes: decider.routes, discovery };
}
