/**
 * CORS for browser apps (README, "Browser apps (CORS) and WebSocket"; the
 * Fetch standard's CORS protocol). With `cors.allowed_origins` scopegate owns
 * CORS: it answers preflights itself (no token: browsers send none) and puts
 * the same Access-Control-* headers on every response to an allowed Origin,
 * denials included, so the app can read why it was refused. The upstream's
 * own Access-Control-* headers are removed. With `forward_preflight` the
 * upstream does CORS: genuine preflights to routed paths are forwarded without
 * a token and nothing is added or removed.
 *
 * Every header value is built once per config and origin; a request with an
 * allowed Origin costs one Map lookup and a few setHeader calls.
 */
import type { ServerResponse } from 'node:http';
import type { Config, CorsConfig } from '../config/schema.js';
import { HTTP_METHODS } from '../config/vocabulary.js';
import type { CompiledPolicies, RoutePolicy } from '../policy/decide.js';
import type { Allow, Deny } from '../policy/decision.js';
import { deny, frozenDeny, NO_ROUTE } from '../policy/denials.js';
import { canonicalizeTarget, type PathLimits } from '../routes/normalize.js';
import { PathError } from '../errors.js';

/** A preflight scopegate answers (204 + `headers`) or, with forward_preflight, forwards (`forward`). */
export interface PreflightAction {
  readonly kind: 'preflight';
  /** The route template that serves the requested method: the metrics and access-line `route`. */
  readonly route: string;
  /** Flat [name, value, …] of the 204 beyond the per-origin response headers. */
  readonly headers: readonly string[];
  /** forward_preflight: the preflight as an Allow without a token, for the upstream to answer. */
  readonly forward: Allow | undefined;
}

/** What a preflight request carries (RFC-less: the Fetch standard's CORS-preflight request). */
export interface PreflightHead {
  readonly origin: string;
  readonly requestMethod: string;
  readonly target: string;
}

export interface Cors {
  /** allowed_origins: scopegate answers preflights and replaces the upstream's Access-Control-* headers. */
  readonly owns: boolean;
  /** Flat [name, value, …] for any response to `origin`, or undefined (not allowed, no Origin, or forward_preflight). */
  responseHeaders(origin: string | undefined): readonly string[] | undefined;
  /** The answer to a preflight: a PreflightAction, or the usual deny (400, 403 cors_origin_not_allowed, 404, 405). */
  preflight(head: PreflightHead): PreflightAction | Deny;
}

const EMPTY: readonly string[] = Object.freeze([]);

/** The per-origin response headers, built once. */
function originHeaders(cors: CorsConfig, acao: string): readonly string[] {
  const out = ['access-control-allow-origin', acao, 'vary', 'Origin'];
  if (cors.exposedHeaders.length > 0) out.push('access-control-expose-headers', cors.exposedHeaders.join(', '));
  if (cors.allowCredentials) out.push('access-control-allow-credentials', 'true');
  return Object.freeze(out);
}

/** Methods a path is routed for: ask the router with a method no route can have (any-method routes answer `found`). */
function routedMethods(compiled: CompiledPolicies, path: string): string {
  const probe = compiled.matcher.match('', path);
  return probe.kind === 'method_not_allowed' ? probe.allow.join(', ') : HTTP_METHODS.join(', ');
}

export function createCors(config: Config, compiled: CompiledPolicies): Cors | undefined {
  const cors = config.cors;
  if (cors === undefined) return undefined;
  const limits: PathLimits = { maxTargetBytes: config.limits.maxPathBytes, maxSegments: config.limits.maxPathSegments };
  const origins = cors.allowedOrigins;
  const wildcard = origins?.includes('*') === true ? originHeaders(cors, '*') : undefined;
  const byOrigin = new Map<string, readonly string[]>((origins ?? []).filter((o) => o !== '*').map((o) => [o, originHeaders(cors, o)]));
  const allowHeaders = cors.allowedHeaders.join(', ');
  const maxAge = String(cors.maxAgeS);
  const denied = new Map<string, Deny>();

  function responseHeaders(origin: string | undefined): readonly string[] | undefined {
    if (origin === undefined || origins === undefined) return undefined;
    return byOrigin.get(origin) ?? wildcard;
  }

  /** One frozen 403 per route template (and one for none). */
  function originNotAllowed(route: string): Deny {
    let d = denied.get(route);
    if (d === undefined) denied.set(route, (d = frozenDeny('ERR_REQUEST_CORS_ORIGIN_NOT_ALLOWED', route)));
    return d;
  }

  function preflight(head: PreflightHead): PreflightAction | Deny {
    const canonical = canonicalizeTarget(head.target, limits);
    if (canonical instanceof PathError) return deny(canonical.code, undefined, { description: canonical.message });
    const match = compiled.matcher.match(head.requestMethod, canonical.path);
    if (match.kind === 'no_route') return NO_ROUTE;
    if (match.kind === 'method_not_allowed') {
      return deny('ERR_ROUTE_METHOD_NOT_ALLOWED', match.template, { description: `${head.requestMethod} is not allowed on this route`, allowMethods: match.allow });
    }
    const policy: RoutePolicy = match.data;
    if (cors?.forwardPreflight === true) {
      const forward: Allow = { kind: 'forward', allow: true, route: policy.template, path: canonical.path, query: canonical.query, token: undefined, paramNames: match.paramNames, paramValues: match.paramValues };
      return { kind: 'preflight', route: policy.template, headers: EMPTY, forward };
    }
    if (responseHeaders(head.origin) === undefined) return originNotAllowed(policy.template);
    const headers = ['access-control-allow-methods', routedMethods(compiled, canonical.path), 'access-control-allow-headers', allowHeaders, 'access-control-max-age', maxAge];
    return { kind: 'preflight', route: policy.template, headers, forward: undefined };
  }

  return { owns: origins !== undefined, responseHeaders, preflight };
}

/** Set the per-origin headers on a response scopegate or the upstream is about to write. */
export function setCorsHeaders(res: ServerResponse, headers: readonly string[]): void {
  for (let i = 0; i < headers.length; i += 2) res.setHeader(headers[i] as string, headers[i + 1] as string);
}

/**
 * The upstream's response headers with its Access-Control-* removed (scopegate's
 * own, set on `res`, stand instead) and, when both say Vary, `Origin` added to
 * the upstream's Vary (Node lets the list's Vary replace the one set on `res`).
 */
export function replaceUpstreamCors(list: string[], res: ServerResponse): string[] {
  let out: string[] | undefined;
  for (let i = 0; i < list.length; i += 2) {
    const name = (list[i] as string).toLowerCase();
    if (name.startsWith('access-control-')) {
      out ??= list.slice(0, i);
      continue;
    }
    let value = list[i + 1] as string;
    if (name === 'vary' && res.hasHeader('vary') && !/(?:^|,)\s*(?:origin|\*)\s*(?:,|$)/i.test(value)) {
      value = `${value}, Origin`;
      out ??= list.slice(0, i);
    }
    out?.push(list[i] as string, value);
  }
  return out ?? list;
}
