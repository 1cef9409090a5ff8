/**
 * The precompiled radix router. At load time the tree (tree.ts) becomes:
 *  1. a Map from fully static paths to their per-method results, prebuilt
 *     frozen objects (a static hit allocates nothing),
 *  2. one walk tree (walk.ts): plain data, whose leaves hold, by method id,
 *     what each method resolves to there (a prebuilt result, or the route
 *     when values must be cut from the path) and the node's prebuilt 405.
 *
 * Matching semantics (same as reference.ts, checked by the conformance suite):
 *  - Depth-first, static before `:param` before `*` at every segment; a branch
 *    that does not end in a route *for the request's method* falls through to
 *    the next candidate (backtracking). So `GET /a/:x` serves `GET /a/b` even
 *    when `POST /a/b` exists (find-my-way semantics). The method was turned
 *    into an id once, so the check at each node is one array read.
 *  - At a node: the exact method, else GET for HEAD, else a `*` route.
 *  - Only when no node serves the method: 405 if some node matched the path
 *    (template: the most specific such node; Allow: the union of what every
 *    matching node serves, because each of those methods would succeed on this
 *    path), else 404. The walk notes each node that matched without serving
 *    the method; when nothing served it, those are exactly the nodes of the 405.
 *
 * Before a walk, one pass of indexOf('/') records where each segment starts in
 * an Int32Array owned by the router (`S`), reused by every call — a match is
 * synchronous and calls no user code, so it is never re-entered. `l` is the
 * number of segments; the scan stops once the path is deeper than any route
 * (no route can end there, and only `l > k` is ever asked of such a path).
 * `:param` values (and the `*` rest) are sliced only when a route returns them.
 * No code is generated from the config: a route table is data.
 */
import type { Matcher, MatchFound, MatchResult, MethodNotAllowed, NoRoute, RouteDefinition } from './types.js';
import { ANY_METHOD, allowedMethods, buildRouteTree, type RouteEntry, type RouteNode } from './tree.js';
import { buildWalk, findLeaf, Leaf, maxDepth, type LeafSink } from './walk.js';

/** The one 404 result: shared and frozen so a miss allocates nothing. */
export const NO_ROUTE: NoRoute = Object.freeze({ kind: 'no_route' });

const NO_VALUES: readonly string[] = Object.freeze([]);

function found<T>(e: RouteEntry<T>, paramValues: readonly string[]): MatchFound<T> {
  return { kind: 'found', template: e.template, data: e.data, paramNames: e.paramNames, paramValues };
}

/** Every method some route lists by name, plus HEAD wherever GET is listed: each gets an id; any other method shares the last. */
function listedMethods<T>(node: RouteNode<T>, into = new Set<string>()): Set<string> {
  for (const m of node.methods.keys()) if (m !== ANY_METHOD) into.add(m);
  if (into.has('GET')) into.add('HEAD');
  for (const c of node.statics.values()) listedMethods(c, into);
  if (node.param !== null) listedMethods(node.param, into);
  if (node.wildcard !== null) listedMethods(node.wildcard, into);
  return into;
}

/** The route serving `method` at a node (null: a method no route lists, so only a `*` route serves it). */
function resolveMethod<T>(node: RouteNode<T>, method: string | null): RouteEntry<T> | undefined {
  if (method !== null) {
    const e = node.methods.get(method) ?? (method === 'HEAD' ? node.methods.get('GET') : undefined);
    if (e !== undefined) return e;
  }
  return node.methods.get(ANY_METHOD);
}

/** Static nodes that end a route, by their full path (the root's path is ''). */
function staticNodes<T>(node: RouteNode<T>, path: string, into: Map<string, RouteNode<T>>): Map<string, RouteNode<T>> {
  for (const [seg, c] of node.statics) {
    const p = `${path}/${seg}`;
    if (c.methods.size > 0) into.set(p, c);
    staticNodes(c, p, into);
  }
  return into;
}

/** Build the radix tree and compile it to a specialized matcher. Throws Error on conflicts (callers run findRouteConflicts first). */
export function compileRouter<T>(defs: readonly RouteDefinition<T>[]): Matcher<T> {
  const root = buildRouteTree(defs);
  const prebuilt = new Map<RouteEntry<T>, MatchFound<T>>();
  /** One frozen result per route without params: shared by every method that resolves to it (HEAD and GET). */
  const prebuiltOf = (e: RouteEntry<T>): MatchFound<T> => {
    let v = prebuilt.get(e);
    if (v === undefined) prebuilt.set(e, (v = Object.freeze(found(e, NO_VALUES))));
    return v;
  };
  const methods: (string | null)[] = [...listedMethods(root), null];
  const methodId = new Map(methods.map((m, i) => [m, i]));
  const other = methods.length - 1;
  const tree = buildWalk<T>(root, (node, paramAt, wildcard) => {
    const whole = paramAt.length === 0 && !wildcard;
    const byMethod = methods.map((m) => {
      const e = resolveMethod(node, m);
      return e === undefined ? undefined : whole ? prebuiltOf(e) : e;
    });
    const notAllowed: MethodNotAllowed = Object.freeze({ kind: 'method_not_allowed', template: node.template as string, allow: Object.freeze(allowedMethods(node.methods.keys())) });
    return new Leaf(byMethod, whole ? null : paramAt, wildcard ? node.depth : -1, notAllowed);
  });

  // Segments 0 … maxDepth are all a route can look at; S[maxDepth + 1] ends the last of them.
  // A path with more segments than that stops the scan at l = maxDepth + 2.
  const lMax = maxDepth(root) + 2;
  const S = new Int32Array(lMax);
  const missed: LeafSink<T> = { leaves: [], n: 0 };

  const dynamicMatch = (method: string, p: string): MatchResult<T> => {
    let l = 1;
    let i = p.indexOf('/');
    while (i !== -1) {
      S[l] = i + 1;
      if (++l === lMax) break;
      i = p.indexOf('/', i + 1);
    }
    if (l !== lMax) S[l] = p.length + 1;
    const m = methodId.get(method) ?? other;
    missed.n = 0;
    const leaf = findLeaf(tree, p, S, 0, l, m, missed);
    if (leaf !== undefined) {
      const hit = leaf.byMethod[m] as MatchFound<T> | RouteEntry<T>;
      return leaf.paramAt === null ? (hit as MatchFound<T>) : found(hit as RouteEntry<T>, paramValues(leaf, p, S));
    }
    if (missed.n === 0) return NO_ROUTE;
    if (missed.n === 1) return (missed.leaves[0] as Leaf<T>).notAllowed;
    return merge(missed.leaves.slice(0, missed.n));
  };
  return staticFirst(root, prebuiltOf, dynamicMatch);
}

/** The `:param` values (and `*` rest) of the route at `leaf`, cut from the path. */
function paramValues<T>(leaf: Leaf<T>, p: string, S: Int32Array): string[] {
  const at = leaf.paramAt as readonly number[];
  const values: string[] = [];
  for (let i = 0; i < at.length; i++) {
    const s = at[i] as number;
    values.push(p.slice(S[s], (S[s + 1] as number) - 1));
  }
  if (leaf.wildAt !== -1) values.push(p.slice(S[leaf.wildAt]));
  return values;
}

/** The 405 of a path several nodes match: the most specific one's template, the union of what they all serve. */
function merge<T>(matched: readonly Leaf<T>[]): MethodNotAllowed {
  const allow: string[] = [];
  for (const m of matched) allow.push(...m.notAllowed.allow);
  return Object.freeze({ kind: 'method_not_allowed', template: (matched[0] as Leaf<T>).notAllowed.template, allow: Object.freeze(allowedMethods(allow)) });
}

/** A fully static path is looked up whole first: a prebuilt result, no walk. */
function staticFirst<T>(root: RouteNode<T>, prebuiltOf: (e: RouteEntry<T>) => MatchFound<T>, dynamicMatch: (method: string, path: string) => MatchResult<T>): Matcher<T> {
  // Per static path: method → its prebuilt MatchFound (HEAD → GET as in resolveMethod), and the any-method one.
  const tables = new Map<string, { byMethod: Map<string, MatchFound<T>>; any: MatchFound<T> | undefined }>();
  for (const [path, node] of staticNodes(root, '', new Map())) {
    const byMethod = new Map<string, MatchFound<T>>();
    const any = node.methods.get(ANY_METHOD);
    for (const m of [...node.methods.keys(), 'HEAD']) {
      const e = m === ANY_METHOD ? undefined : resolveMethod(node, m);
      if (e !== undefined && e !== any) byMethod.set(m, prebuiltOf(e));
    }
    tables.set(path, { byMethod, any: any === undefined ? undefined : prebuiltOf(any) });
  }
  return {
    match(method: string, path: string): MatchResult<T> {
      const t = tables.get(path);
      if (t !== undefined) {
        const hit = t.byMethod.get(method) ?? t.any;
        if (hit !== undefined) return hit;
      }
      return dynamicMatch(method, path);
    },
  };
}
