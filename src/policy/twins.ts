/**
 * Trailing-slash twins (README, routes_trailing_slash; docs/architecture.md, Request path).
 *
 * Express (by default), Spring MVC 5, Rails and ASP.NET route `/a/b/` to the handler of
 * `/a/b`. So with `routes_trailing_slash: merge` (the default), a request whose canonical
 * path ends in `/` (other than `/`) must satisfy both the route it matches and the route
 * its slash-less twin matches for the same method; an unrouted twin adds nothing. The
 * pair's policy is built once per pair that occurs and then shared. Paths that do not end
 * in `/` pay one character comparison.
 */
import type { Matcher } from '../routes/types.js';
import type { CompiledRequirement } from './scopes.js';

/** What a twin needs of a route policy; decide.ts's RoutePolicy is one. */
export interface TwinPolicy {
  readonly template: string;
  readonly methods: readonly string[];
  readonly requirement: CompiledRequirement;
  readonly shadow: boolean;
}

function union(a: readonly string[], b: readonly string[]): readonly string[] {
  return Object.freeze([...new Set([...a, ...b])]);
}

/** A requirement that holds when both hold (needs a token when either does). */
export function bothRequirements(a: CompiledRequirement, b: CompiledRequirement): CompiledRequirement {
  if (!b.needsToken) return a;
  if (!a.needsToken) return b;
  return Object.freeze({
    kind: 'all_of' as const,
    scopes: union(a.scopes, b.scopes),
    alternatives: 0,
    deprecatedAliases: union(a.deprecatedAliases, b.deprecatedAliases),
    needsToken: true,
    satisfiedBy: (granted: ReadonlySet<string>) => a.satisfiedBy(granted) && b.satisfiedBy(granted),
    satisfiedByCurrent: (granted: ReadonlySet<string>) => a.satisfiedByCurrent(granted) && b.satisfiedByCurrent(granted),
    text: `${a.text} and ${b.text}`,
  });
}

/** The slash-less twin of a canonical path, or undefined when it has none. */
export function twinPath(path: string): string | undefined {
  return path.length > 1 && path.charCodeAt(path.length - 1) === 0x2f /* / */ ? path.slice(0, -1) : undefined;
}

/**
 * The policy a request to `path` must satisfy, given the one it matched: that one, or
 * (merge mode, a twin routed for the method to another route) the pair's, from `combine`.
 */
export function createTwinResolver<P extends TwinPolicy>(matcher: Matcher<P>, combine: (matched: P, twin: P) => P): (method: string, path: string, matched: P) => P {
  const pairs = new Map<P, Map<P, P>>();
  return (method, path, matched) => {
    const twin = twinPath(path);
    if (twin === undefined) return matched;
    const found = matcher.match(method, twin);
    if (found.kind !== 'found' || found.data === matched) return matched;
    let byTwin = pairs.get(matched);
    if (byTwin === undefined) pairs.set(matched, (byTwin = new Map()));
    let pair = byTwin.get(found.data);
    if (pair === undefined) byTwin.set(found.data, (pair = combine(matched, found.data)));
    return pair;
  };
}

/** One twin pair whose requirements differ: what `scopegate check` lists. */
export interface TwinPair {
  readonly method: string;
  /** The path ending in `/`, with a route's parameters and wildcard as written. */
  readonly path: string;
  readonly matched: TwinPolicy;
  readonly twin: TwinPolicy;
}

/** For each route and method, the route its `template/` matches when that is another route with another requirement. */
export function twinPairs<P extends TwinPolicy>(policies: readonly P[], matcher: Matcher<P>): readonly TwinPair[] {
  const out: TwinPair[] = [];
  for (const twin of policies) {
    if (twin.template.endsWith('*') || twin.template === '/') continue;
    const path = `${twin.template}/`;
    for (const method of twin.methods) {
      const found = matcher.match(method, path);
      if (found.kind === 'found' && found.data !== twin && found.data.requirement.text !== twin.requirement.text) {
        out.push({ method, path, matched: found.data, twin });
      }
    }
  }
  return out;
}
