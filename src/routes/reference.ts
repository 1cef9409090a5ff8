/**
 * The reference matcher: the routing rules of the README (Routes) stated as plainly
 * as possible, with no tree and no cleverness, so the compiled matcher can be
 * checked against it (test/conformance/router.*). Not for production use: it
 * is linear in the number of routes.
 *
 * Rules (the compiled matcher must agree):
 *  - A route matches a path when every template segment matches: a literal
 *    equals the path segment, a `:param` takes one non-empty segment, a final
 *    `*` takes the rest (at least one more segment, possibly empty).
 *  - Among routes that match the path and serve the method, the winner is the
 *    most specific: compare segment kinds left to right, static < param <
 *    wildcard. At equal shape, an exact method beats HEAD→GET fallback.
 *  - A route serves a method when it lists it, lists `*`, or (for HEAD) lists GET.
 *  - No route serves the method but some match the path: 405, template of the
 *    most specific of those, Allow = union of their methods (+HEAD with GET).
 *  - Nothing matches the path: 404.
 */
import type { Matcher, MatchResult, RouteDefinition } from './types.js';
import { parseTemplate, type ParsedTemplate } from './template.js';
import { ANY_METHOD, allowedMethods, findRouteConflicts } from './tree.js';

interface Route<T> {
  readonly def: RouteDefinition<T>;
  readonly parsed: ParsedTemplate;
  readonly rank: readonly number[];
}

/** A template segment's specificity: lower is more specific. Explain ranks with it too. */
export const KIND_RANK = { static: 0, param: 1, wildcard: 2 } as const;

/** Orders two specificity ranks (one KIND_RANK per segment), shorter first on a tie. */
export function compareRank(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  }
  return a.length - b.length;
}

/** Param and wildcard values when `parsed` matches `path`, else null. */
function matchTemplate(parsed: ParsedTemplate, path: string): string[] | null {
  const parts = path.slice(1).split('/');
  const values: string[] = [];
  for (let i = 0; i < parsed.segments.length; i++) {
    const seg = parsed.segments[i];
    if (seg === undefined) return null;
    if (seg.kind === 'wildcard') {
      if (parts.length <= i) return null;
      values.push(parts.slice(i).join('/'));
      return values;
    }
    const part = parts[i];
    if (part === undefined) return null;
    if (seg.kind === 'static' && part !== seg.value) return null;
    if (seg.kind === 'param') {
      if (part === '') return null;
      values.push(part);
    }
  }
  return parts.length === parsed.segments.length ? values : null;
}

/** 0: the route lists the method (or `*`); 1: HEAD served by GET; -1: not served. */
function methodFit(methods: readonly string[], method: string): number {
  if (methods.includes(method) || methods.includes(ANY_METHOD)) return 0;
  if (method === 'HEAD' && methods.includes('GET')) return 1;
  return -1;
}

export function createReferenceMatcher<T>(defs: readonly RouteDefinition<T>[]): Matcher<T> {
  const conflicts = findRouteConflicts(defs);
  if (conflicts.length > 0) throw new Error(`route conflicts:\n${conflicts.map((c) => c.message).join('\n')}`);
  const routes: Route<T>[] = defs.map((def, i) => {
    const parsed = parseTemplate(def.template);
    if ('error' in parsed) throw new Error(`route #${i + 1}: ${parsed.error}`);
    return { def, parsed, rank: parsed.segments.map((s) => KIND_RANK[s.kind]) };
  });

  return {
    match(method: string, path: string): MatchResult<T> {
      let best: { route: Route<T>; fit: number; values: string[] } | null = null;
      const onPath: Route<T>[] = [];
      for (const route of routes) {
        const values = matchTemplate(route.parsed, path);
        if (values === null) continue;
        onPath.push(route);
        const fit = methodFit(route.def.methods, method);
        if (fit < 0) continue;
        const order = best === null ? -1 : compareRank(route.rank, best.route.rank) || fit - best.fit;
        if (order < 0) best = { route, fit, values };
      }
      if (best !== null) {
        return {
          kind: 'found',
          template: best.route.parsed.template,
          data: best.route.def.data,
          paramNames: best.route.parsed.paramNames,
          paramValues: best.values,
        };
      }
      if (onPath.length === 0) return { kind: 'no_route' };
      // Stable sort keeps definition order among same-shape routes (they differ only in param names).
      const mostSpecific = [...onPath].sort((a, b) => compareRank(a.rank, b.rank))[0] as Route<T>;
      return {
        kind: 'method_not_allowed',
        template: mostSpecific.parsed.template,
        allow: allowedMethods(onPath.flatMap((r) => r.def.methods)),
      };
    },
  };
}
