/**
 * What an authz request asks about (README, "Decisions for nginx, Caddy, Envoy
 * and Traefik"): the original method and request target, read from the
 * forward-auth headers (`/authz/forward`) or from the request itself
 * (`/authz/envoy/<path>`), and the refusal of a target the proxy would forward
 * in a form other than the one authorized. Pure: no I/O, no clock.
 */
import type { Config } from '../config/schema.js';
import { PathError } from '../errors.js';
import type { Deny } from '../policy/decision.js';
import { deny, NO_ROUTE, ORIGINAL_REQUEST_MISSING, TARGET_NOT_CANONICAL } from '../policy/denials.js';
import { canonicalizeTarget, type PathLimits } from '../routes/normalize.js';

/** nginx auth_request, Caddy forward_auth, Traefik ForwardAuth. */
export const FORWARD_PATH = '/authz/forward';
/** Envoy ext_authz HTTP service with `path_prefix: /authz/envoy`: the original path follows it. */
export const ENVOY_PREFIX = '/authz/envoy';

/** The request an authz request asks about. */
export interface OriginalRequest {
  readonly method: string;
  /** The raw request target (path and query) as the proxy will forward it. */
  readonly target: string;
}

/** Tried in order: Traefik and Caddy send the X-Forwarded-* pair, the nginx idiom is X-Original-*. */
const METHOD_HEADERS = ['x-forwarded-method', 'x-original-method'] as const;
const URI_HEADERS = ['x-forwarded-uri', 'x-original-uri'] as const;

/**
 * The value of the first of `names` present in rawHeaders (names lower-case).
 * Undefined when none is present, or when the one chosen appears twice: two
 * values are two requests, and there is no telling which one the proxy forwards.
 */
function singleHeader(rawHeaders: readonly string[], names: readonly string[]): string | undefined {
  for (const wanted of names) {
    let value: string | undefined;
    let seen = 0;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      if ((rawHeaders[i] as string).toLowerCase() !== wanted) continue;
      seen += 1;
      value = rawHeaders[i + 1] as string;
    }
    if (seen === 1) return value;
    if (seen > 1) return undefined;
  }
  return undefined;
}

/** The part of `url` before its query. */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * The original request of an authz request, or the deny to answer instead:
 * a JSON 404 for any path other than the two endpoints, a 400 when the
 * forward-auth headers are missing or ambiguous.
 */
export function originalRequest(method: string, url: string, rawHeaders: readonly string[]): OriginalRequest | Deny {
  const path = pathOf(url);
  if (path === FORWARD_PATH) {
    const originalMethod = singleHeader(rawHeaders, METHOD_HEADERS);
    const target = singleHeader(rawHeaders, URI_HEADERS);
    if (originalMethod === undefined || target === undefined || originalMethod === '' || target === '') return ORIGINAL_REQUEST_MISSING;
    // Not upper-cased: the proxy forwards the method as sent, so that is the method authorized.
    return { method: originalMethod, target };
  }
  // `/authz/envoy/x` → `/x`: the slash after the prefix is the original path's own.
  if (path.startsWith(ENVOY_PREFIX) && path.charCodeAt(ENVOY_PREFIX.length) === 0x2f /* / */) {
    return { method, target: url.slice(ENVOY_PREFIX.length) };
  }
  return NO_ROUTE;
}

export function pathLimits(config: Config): PathLimits {
  return { maxTargetBytes: config.limits.maxPathBytes, maxSegments: config.limits.maxPathSegments };
}

/**
 * The inline listener forwards the canonical path; a proxy in front of the
 * authz listener forwards the raw one. So a target whose canonical path differs
 * from its raw path (dot segments, percent-encoded unreserved characters) is
 * refused here rather than authorized in its canonical form; a target the
 * canonicalizer refuses outright gets that refusal (its own code). The query is
 * never rewritten, so it is not compared.
 */
export function nonCanonicalTarget(target: string, limits: PathLimits): Deny | undefined {
  const canonical = canonicalizeTarget(target, limits);
  if (canonical instanceof PathError) return deny(canonical.code, undefined, { description: canonical.message });
  return canonical.path.length + canonical.query.length === target.length && target.startsWith(canonical.path) ? undefined : TARGET_NOT_CANONICAL;
}
