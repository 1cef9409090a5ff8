/**
 * Hints in the description of a 404, for the two mistakes people make most when
 * calling an API through scopegate (README, Responses):
 *   - a path that differs from a route only by a trailing slash: routes are
 *     matched exactly, `/a/` is not `/a` (policy/twins.ts for what merge mode does
 *     when both are routed);
 *   - a path that still holds a `{param}` template placeholder copied from API
 *     documentation, percent-encoded (`%7BpetId%7D`, as browsers and most clients
 *     send it). A raw `{` never gets here: the canonicalizer refuses it (400).
 * Status, error code and metrics reason stay those of any 404; only the
 * description says more. Nothing here runs for a request that matched a route:
 * decide() calls it only after the router found nothing. The path itself is
 * never echoed back.
 */
import type { Matcher } from '../routes/types.js';
import type { Deny } from './decision.js';
import { DENIALS, frozenDeny, NO_ROUTE } from './denials.js';
import { twinPath } from './twins.js';

/** A percent-encoded `{name}` placeholder (the canonical path upper-cases the hex: `%7B`, `%7D`). */
const ENCODED_PLACEHOLDER = /%7B(?:(?!%7D)[^/])*%7D/;

const NOT_FOUND = DENIALS.ERR_ROUTE_NOT_FOUND.description;

const WITHOUT_SLASH = frozenDeny('ERR_ROUTE_NOT_FOUND', undefined, { description: `${NOT_FOUND}; it would without the trailing slash` });
const WITH_SLASH = frozenDeny('ERR_ROUTE_NOT_FOUND', undefined, { description: `${NOT_FOUND}; it would with a trailing slash` });
const PLACEHOLDER = frozenDeny('ERR_ROUTE_NOT_FOUND', undefined, { description: `${NOT_FOUND}: it contains a {param} template placeholder: put a value in its place (e.g. /pets/42 for /pets/{petId})` });

/** The 404 for a path no route matches: NO_ROUTE, or one of the hinted denials above (all built once). */
export function createNotFound(matcher: Matcher<unknown>): (method: string, path: string) => Deny {
  const routed = (method: string, path: string): boolean => matcher.match(method, path).kind !== 'no_route';
  return (method, path) => {
    const twin = twinPath(path);
    if (twin !== undefined) {
      if (routed(method, twin)) return WITHOUT_SLASH;
    } else if (path !== '/' && routed(method, `${path}/`)) {
      return WITH_SLASH;
    }
    return path.includes('%7B') && ENCODED_PLACEHOLDER.test(path) ? PLACEHOLDER : NO_ROUTE;
  };
}
