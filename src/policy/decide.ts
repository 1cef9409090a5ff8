/**
 * decide(method, target, rawHeaders) → Allow | Deny: the whole authorization
 * decision, pure over the compiled config and the verifier's caches.
 *
 * Order matters and is part of the contract (README, Responses; docs/architecture.md, Request path):
 *   canonicalize → duplicate Host/Authorization → match (404/405) → refuse `access_token`
 *   and `_method` query parameters → (public? allow) → bearer → verify → scope → `where` conditions.
 * The query refusal follows the match so that it is attributed to a route and shadow
 * mode can report it; an unmapped path is a 404 either way, never forwarded.
 * The path that was matched is the path returned in Allow, and the only one
 * the proxy forwards. Nothing here awaits unless the verifier needs a JWKS fetch.
 */
import { extractBearer, findQueryParam, type BearerResult } from '../auth/bearer.js';
import { IntrospectionUnavailableError } from '../auth/introspect.js';
import type { DpopVerifier } from '../auth/dpop.js';
import type { TokenVerifier, VerifiedToken, VerifyResult } from '../auth/types.js';
import type { Config, RouteResponder } from '../config/schema.js';
import { PathError, KeysUnavailableError } from '../errors.js';
import { compileRouter } from '../routes/compile.js';
import { canonicalizeTarget, type PathLimits } from '../routes/normalize.js';
import type { Matcher, RouteDefinition } from '../routes/types.js';
import { UNMATCHED_ROUTE, type Allow, type Decision, type Deny } from './decision.js';
import { deny, DUPLICATE_AUTHORIZATION, DUPLICATE_HOST, routeDenials, type RouteDenials } from './denials.js';
import { createNotFound } from './path-hints.js';
import { bothConditions, compileConditions, type RouteConditions } from './conditions.js';
import { catalogueRules, compileRequirement, type CompiledRequirement } from './scopes.js';
import { createSenderGate, type SenderGate, type SenderRequest } from './sender.js';
import { bothRequirements, createTwinResolver } from './twins.js';

export interface Decider {
  /**
   * rawHeaders is Node's req.rawHeaders (flat [name, value, …]) so duplicates are visible.
   * Synchronous unless a JWKS fetch is genuinely needed.
   */
  decide(method: string, target: string, rawHeaders: readonly string[]): Decision | Promise<Decision>;
  /** The compiled route table, for `check` output and explain. */
  readonly routes: readonly RoutePolicy[];
  /** The DPoP proof verifier when auth.dpop is configured (its replay cache: the gauge, carried across reloads). */
  readonly dpop: DpopVerifier | undefined;
}

/** What the router carries for each route: its requirement and the denials it can produce, built once. */
export interface RoutePolicy extends RouteDenials {
  readonly key: string;
  readonly template: string;
  readonly methods: readonly string[];
  readonly requirement: CompiledRequirement;
  /** Policy denials on this route are forwarded and reported instead of answered (route mode, else global mode). */
  readonly shadow: boolean;
  /** scopegate answers this route itself (token info). */
  readonly respond: RouteResponder | undefined;
  /** Tokens without `cnf` are refused: auth.require_sender_constrained or the route's sender_constrained. */
  readonly senderConstrained: boolean;
  /** The route's `where:` conditions (policy/conditions.ts); undefined when it has none. */
  readonly conditions: RouteConditions | undefined;
}

const EMPTY: readonly string[] = Object.freeze([]);

/** The credential extractBearer() found. */
type PresentedToken = Extract<BearerResult, { kind: 'token' }>;

/** The 503 description when an opaque token could not be introspected (the reason goes to the log, not the client). */
const INTROSPECTION_UNAVAILABLE = 'the token cannot be checked now: the introspection endpoint is unavailable';

/** Query parameters refused on every request: a token nobody checked, a method nobody authorized. */
const REFUSED_QUERY_PARAMS: readonly string[] = ['access_token', '_method'];

/** The 403 description: for any_of, the alternatives apart from the catalogue's always-required scopes. */
function insufficientScopeText(requirement: CompiledRequirement): string {
  if (requirement.kind !== 'any_of') {
    return `the token needs the scope${requirement.scopes.length > 1 ? 's' : ''}: ${requirement.scopes.join(' ')}`;
  }
  const required = requirement.scopes.slice(requirement.alternatives);
  const oneOf = `the token needs one of these scopes: ${requirement.scopes.slice(0, requirement.alternatives).join(' ')}`;
  return required.length === 0 ? oneOf : `${oneOf}, and all of: ${required.join(' ')}`;
}

function buildRoutePolicy(
  key: string,
  template: string,
  methods: readonly string[],
  requirement: CompiledRequirement,
  shadow: boolean,
  respond: RouteResponder | undefined,
  senderConstrained: boolean,
  conditions: RouteConditions | undefined,
): RoutePolicy {
  return Object.freeze({ key, template, methods, requirement, shadow, respond, senderConstrained, conditions, ...routeDenials(template, requirement.scopes, insufficientScopeText(requirement)) });
}

/** `name` is "host" in any case, compared without allocating a lower-cased copy. */
function isHostHeader(name: string): boolean {
  return (
    name.length === 4 &&
    (name.charCodeAt(0) | 0x20) === 0x68 && // h
    (name.charCodeAt(1) | 0x20) === 0x6f && // o
    (name.charCodeAt(2) | 0x20) === 0x73 && // s
    (name.charCodeAt(3) | 0x20) === 0x74 // t
  );
}

/** `name` is "authorization" in any case, compared without allocating. */
function isAuthorizationHeader(name: string): boolean {
  if (name.length !== 13) return false;
  const lower = 'authorization';
  for (let i = 0; i < 13; i++) if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/**
 * One pass over rawHeaders for the ambiguities refused on every route, public ones
 * included (README, Responses): a second Host (RFC 9112 §3.2) or a second Authorization.
 * Node's req.headers keeps only the first of each, so only rawHeaders shows them.
 */
function duplicatedHeader(rawHeaders: readonly string[]): Deny | undefined {
  let host = false;
  let authorization = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (isHostHeader(name)) {
      if (host) return DUPLICATE_HOST;
      host = true;
    } else if (isAuthorizationHeader(name)) {
      if (authorization) return DUPLICATE_AUTHORIZATION;
      authorization = true;
    }
  }
  return undefined;
}

/**
 * The shared 403 plus the token it refused, for the access line (identity, missing
 * scopes). Not enumerable: the deny's value (what explain compares, what the
 * response is built from) stays the route's.
 */
function withToken(shared: Deny, token: VerifiedToken): Deny {
  return Object.defineProperty({ ...shared }, 'token', { value: token, enumerable: false });
}

export interface CompiledPolicies {
  readonly policies: readonly RoutePolicy[];
  readonly matcher: Matcher<RoutePolicy>;
}

/** Config routes → per-route policies and the compiled router that carries them. No I/O, no verifier. */
export function compilePolicies(config: Config): CompiledPolicies {
  const matching = config.auth.scopeMatching;
  const rules = catalogueRules(config.catalogue);
  const policies: RoutePolicy[] = [];
  const definitions: RouteDefinition<RoutePolicy>[] = [];
  for (const route of config.routes) {
    // A route scopegate answers itself has nothing upstream to forward to: always enforced.
    const shadow = (route.mode ?? config.mode) === 'shadow' && route.respond === undefined;
    const senderConstrained = config.auth.requireSenderConstrained || route.senderConstrained === true;
    const policy = buildRoutePolicy(route.key, route.path, route.methods, compileRequirement(route.requirement, matching, rules), shadow, route.respond, senderConstrained, compileConditions(route.where));
    policies.push(policy);
    definitions.push({ template: route.path, methods: route.methods, data: policy });
  }
  return { policies: Object.freeze(policies), matcher: compileRouter(definitions) };
}

export function createDecider(config: Config, verifier: TokenVerifier, compiled: CompiledPolicies = compilePolicies(config), sender: SenderGate = createSenderGate(config)): Decider {
  const { matcher, policies } = compiled;
  const limits: PathLimits = {
    maxTargetBytes: config.limits.maxPathBytes,
    maxSegments: config.limits.maxPathSegments,
  };

  const globalShadow = config.mode === 'shadow';
  // 404s that say why (policy/path-hints.ts): a trailing slash, a {param} placeholder.
  const notFound = createNotFound(matcher);
  // Trailing-slash twins (policy/twins.ts): both requirements; enforced, and sender-constrained, when either route is.
  const twinOf =
    config.routesTrailingSlash === 'distinct'
      ? undefined
      : createTwinResolver(matcher, (matched: RoutePolicy, twin: RoutePolicy) =>
          buildRoutePolicy(matched.key, matched.template, matched.methods, bothRequirements(matched.requirement, twin.requirement), matched.shadow && twin.shadow, matched.respond, matched.senderConstrained || twin.senderConstrained, bothConditions(matched.conditions, twin.conditions)),
        );

  /** Shadow mode: forward what enforce mode would deny, carrying the deny for logs and metrics. */
  function shadowAllow(wouldDeny: Deny, route: string, path: string, query: string, token: VerifiedToken | undefined, names: readonly string[], values: readonly string[]): Allow {
    return { kind: 'forward', allow: true, route, path, query, token, paramNames: names, paramValues: values, wouldDeny };
  }

  /** `bearer` and `rawHeaders` become a SenderRequest only when the sender step runs: the common path allocates none. */
  function afterVerify(result: VerifyResult, policy: RoutePolicy, bearer: PresentedToken, method: string, path: string, rawHeaders: readonly string[], query: string, paramNames: readonly string[], paramValues: readonly string[]): Decision | Promise<Decision> {
    if (!result.ok) {
      const error = result.error;
      const refused =
        error instanceof IntrospectionUnavailableError
          ? // The introspector knows when asking again makes sense (its timeout, or 1 s when overloaded).
            deny(error.code, policy.template, { retryAfterS: error.retryAfterS, description: INTROSPECTION_UNAVAILABLE })
          : error instanceof KeysUnavailableError
            ? // The soonest the keys can be fetched again: one JWKS cooldown.
              deny(error.code, policy.template, { retryAfterS: config.auth.jwks.cooldownS })
            : deny(error.code, policy.template, { description: error.message, mismatch: error.mismatch });
      // An unverified token never becomes identity: forward it without one.
      return policy.shadow ? shadowAllow(refused, policy.template, path, query, undefined, paramNames, paramValues) : refused;
    }
    const token = result.token;
    // A plain Bearer token where no binding is required skips the sender step (the common case).
    if (token.cnf === undefined && bearer.scheme === 'Bearer' && !policy.senderConstrained) return afterBinding(token, policy, path, query, paramNames, paramValues);
    // Before the scope check: a binding that does not hold is a 401, never a 403.
    const sent: SenderRequest = { scheme: bearer.scheme, accessToken: bearer.token, method, path, rawHeaders };
    const held = sender.check(sent, token, policy.template, policy.senderConstrained);
    const next = (refused: Deny | undefined): Decision =>
      refused === undefined
        ? afterBinding(token, policy, path, query, paramNames, paramValues)
        : // A token whose binding failed is not the caller's: in shadow mode it is forwarded without identity.
          policy.shadow
          ? shadowAllow(refused, policy.template, path, query, undefined, paramNames, paramValues)
          : refused;
    return held instanceof Promise ? held.then(next) : next(held);
  }

  function afterBinding(token: VerifiedToken, policy: RoutePolicy, path: string, query: string, paramNames: readonly string[], paramValues: readonly string[]): Decision {
    const requirement = policy.requirement;
    const granted = token.scopeSet;
    if (!requirement.satisfiedBy(granted)) {
      return policy.shadow ? shadowAllow(policy.insufficientScope, policy.template, path, query, token, paramNames, paramValues) : withToken(policy.insufficientScope, token);
    }
    // After the scope check: a token lacking scope is told which; one for another object is not.
    if (policy.conditions !== undefined && !policy.conditions.holds(token, paramNames, paramValues)) {
      return policy.shadow ? shadowAllow(policy.claimMismatch, policy.template, path, query, token, paramNames, paramValues) : withToken(policy.claimMismatch, token);
    }
    // Only routes whose scopes have deprecated aliases pay for this second check, and only when it matters.
    const deprecatedScopes =
      requirement.deprecatedAliases.length > 0 && !requirement.satisfiedByCurrent(granted) ? requirement.deprecatedAliases.filter((s) => granted.has(s)) : undefined;
    const kind = policy.respond === 'token_info' ? 'token_info' : 'forward';
    return { kind, allow: true, route: policy.template, path, query, token, paramNames, paramValues, deprecatedScopes, respond: policy.respond };
  }

  function decide(method: string, target: string, rawHeaders: readonly string[]): Decision | Promise<Decision> {
    // Ambiguous requests (400 for the path or the Host) are refused in every mode: there is no one request to forward.
    const canonical = canonicalizeTarget(target, limits);
    if (canonical instanceof PathError) return deny(canonical.code, undefined, { description: canonical.message });
    const { path, query } = canonical;
    const duplicated = duplicatedHeader(rawHeaders);
    if (duplicated !== undefined) return duplicated;

    const match = matcher.match(method, path);
    if (match.kind !== 'found') {
      const refused =
        match.kind === 'no_route'
          ? notFound(method, path)
          : deny('ERR_ROUTE_METHOD_NOT_ALLOWED', match.template, { description: `${method} is not allowed on this route`, allowMethods: match.allow });
      return globalShadow ? shadowAllow(refused, UNMATCHED_ROUTE, path, query, undefined, EMPTY, EMPTY) : refused;
    }
    const policy = twinOf === undefined || path.charCodeAt(path.length - 1) !== 0x2f /* / */ ? match.data : twinOf(method, path, match.data);
    const names = match.paramNames;
    const values = match.paramValues;
    if (query.length > 1) {
      const param = findQueryParam(query, REFUSED_QUERY_PARAMS);
      if (param !== undefined) {
        const refused = param === '_method' ? policy.methodOverride : policy.queryToken;
        return policy.shadow ? shadowAllow(refused, policy.template, path, query, undefined, names, values) : refused;
      }
    }
    if (!policy.requirement.needsToken) {
      return { kind: 'forward', allow: true, route: policy.template, path, query, token: undefined, paramNames: names, paramValues: values };
    }

    const bearer = extractBearer(rawHeaders);
    switch (bearer.kind) {
      case 'missing':
        return policy.shadow ? shadowAllow(policy.missingToken, policy.template, path, query, undefined, names, values) : policy.missingToken;
      case 'invalid': {
        const refused = deny(bearer.code, policy.template, { description: bearer.description });
        return policy.shadow ? shadowAllow(refused, policy.template, path, query, undefined, names, values) : refused;
      }
    }
    const verified = verifier.verify(bearer.token);
    if (verified instanceof Promise) {
      return verified.then((result) => afterVerify(result, policy, bearer, method, path, rawHeaders, query, names, values));
    }
    return afterVerify(verified, policy, bearer, method, path, rawHeaders, query, names, values);
  }

  return { decide, routes: policies, dpop: sender.dpop };
}
