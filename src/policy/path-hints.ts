/**
 * Hints in the description of a refused path, for the two mistakes people make
 * most when calling an API through scopegate (README, Responses):
 *   - a path that differs from a route only by a trailing slash (404): routes are
 *     matched exactly, `/a/` is not `/a` (policy/twins.ts for what merge mode does
 *     when both are routed);
 *   - a path that still holds a `{param}` template placeholder, copied from API
 *     documentation: raw `{` is refused by the canonicalizer (400), and
 *     percent-encoded (`%7BpetId%7D`, what browsers and most clients send) it
 *     usually matches no route (404).
 * Status, error code and metrics reason stay those of the deny; only the
 * description says more. Nothing here runs for a request that matched a route:
 * decide() calls it only after the router found nothing or the path was refused.
 * The path itself is never echoed back.
 */
import type { PathError } from '../errors.js';
import type { Matcher } from '../routes/types.js';
import type { Deny } from './decision.js';
import { DENIALS, frozenDeny, NO_ROUTE } from './denials.js';
import { twinPath } from './twins.js';

/** A `{name}` placeholder, raw or percent-encoded (the canonical path upper-cases the hex: `%7B`, `%7D`). */
const RAW_PLACEHOLDER = /\{[^{}/]*\}/;
const ENCODED_PLACEHOLDER = /%7B(?:(?!%7D)[^/])*%7D/;

const NOT_FOUND = DENIALS.ERR_ROUTE_NOT_FOUND.description;
const PUT_A_VALUE = 'it contains a {param} template placeholder: put a value in its place (e.g. /pets/42 for /pets/{petId})';

const WITHOUT_SLASH = frozenDeny('ERR_ROUTE_NOT_FOUND', undefined, { description: `${NOT_FOUND}; it would without the trailing slash` });
const WITH_SLASH = frozenDeny('ERR_ROUTE_NOT_FOUND', undefined, { description: `${NOT_FOUND}; it would with a trailing slash` });
const PLACEHOLDER = frozenDeny('ERR_ROUTE_NOT_FOUND', undefined, { description: `${NOT_FOUND}: ${PUT_A_VALUE}` });

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
    return ENCODED_PLACEHOLDER.test(path) ? PLACEHOLDER : NO_ROUTE;
  };
}

/** The description of a refused request target: the canonicalizer's message, and the placeholder hint when `{…}` is why. */
export function pathErrorDescription(error: PathError, target: string): string {
  if (error.code !== 'ERR_PATH_INVALID_CHAR') return error.message;
  const query = target.indexOf('?');
  return RAW_PLACEHOLDER.test(query === -1 ? target : target.slice(0, query)) ? `${error.message}: ${PUT_A_VALUE}` : error.message;
}
