/**
 * The precompiled radix router. At load time the tree (tree.ts) becomes:
 *  1. a Map from fully static paths to their node, whose per-method results are
 *     prebuilt frozen objects (a static hit allocates nothing), and
 *  2. one generated function (plus one per large subtree) that walks the path's
 *     segments as nested `if`s in priority order: static, `:param`, `*`.
 *
 * Matching semantics (same as reference.ts, checked by the conformance suite):
 *  - Depth-first, static before `:param` before `*` at every segment; a branch
 *    that does not end in a route *for the request's method* falls through to
 *    the next candidate (backtracking). So `GET /a/:x` serves `GET /a/b` even
 *    when `POST /a/b` exists (find-my-way semantics: the method table is
 *    consulted during the walk).
 *  - At a node: the exact method, else GET for HEAD, else a `*` route.
 *  - Only when no node serves the method: 405 if some node matched the path
 *    (template: the most specific such node; Allow: the union of what every
 *    matching node serves, because each of those methods would succeed on this
 *    path), else 404.
 *
 * Code generation is safe with respect to config text: the only values
 * interpolated into the source are integers computed here and literal
 * segments passed through JSON.stringify, which always yields a complete JS
 * string literal (and canonical segments are printable ASCII anyway). Methods,
 * data and templates never enter the source; they sit in arrays closed over.
 */
import type { Matcher, MatchFound, MatchResult, MethodNotAllowed, NoRoute, RouteDefinition } from './types.js';
import { ANY_METHOD, allowedMethods, buildRouteTree, type RouteEntry, type RouteNode } from './tree.js';

/** The one 404 result: shared and frozen so a miss allocates nothing. */
export const NO_ROUTE: NoRoute = Object.freeze({ kind: 'no_route' });

const NO_VALUES: readonly string[] = Object.freeze([]);

/** A subtree with at least this many routes gets its own generated function, keeping each function small enough for V8 to optimize. */
const SPLIT_ROUTES = 32;
/** Above this many static children, dispatch through a Map instead of a chain of string comparisons. */
const MAP_DISPATCH_CHILDREN = 8;

function found<T>(e: RouteEntry<T>, paramValues: readonly string[]): MatchFound<T> {
  return { kind: 'found', template: e.template, data: e.data, paramNames: e.paramNames, paramValues };
}

/** Index just after the n-th `/` of p: where the path after n segments' worth of prefix starts. */
function restAfter(p: string, n: number): string {
  let i = 0;
  for (let k = 0; k < n; k++) i = p.indexOf('/', i) + 1;
  return p.slice(i);
}

interface Terminal<T> {
  readonly node: RouteNode<T>;
  /** Indexes into `p.split('/')` of the node's `:param` values, in order. */
  readonly paramAt: readonly number[];
  readonly wildcard: boolean;
}

/** Build the radix tree and compile it to a specialized matcher. Throws Error on conflicts (callers run findRouteConflicts first). */
export function compileRouter<T>(defs: readonly RouteDefinition<T>[]): Matcher<T> {
  const root = buildRouteTree(defs);

  const terminals: Terminal<T>[] = [];
  const idOf = new Map<RouteNode<T>, number>();
  // Per terminal id: method → prebuilt MatchFound (no params) or RouteEntry (params), the any-method value, the 405.
  const tables: Map<string, MatchFound<T> | RouteEntry<T>>[] = [];
  const anyMethod: (MatchFound<T> | RouteEntry<T> | undefined)[] = [];
  const notAllowed: MethodNotAllowed[] = [];
  const staticPaths = new Map<string, number>();

  const register = (t: Terminal<T>): number => {
    const id = terminals.length;
    terminals.push(t);
    idOf.set(t.node, id);
    const prebuilt = t.paramAt.length === 0 && !t.wildcard;
    const value = (e: RouteEntry<T>): MatchFound<T> | RouteEntry<T> => (prebuilt ? Object.freeze(found(e, NO_VALUES)) : e);
    const table = new Map<string, MatchFound<T> | RouteEntry<T>>();
    for (const [m, e] of t.node.methods) if (m !== ANY_METHOD) table.set(m, value(e));
    const get = t.node.methods.get('GET');
    if (get !== undefined && !table.has('HEAD')) table.set('HEAD', table.get('GET') as MatchFound<T> | RouteEntry<T>);
    const any = t.node.methods.get(ANY_METHOD);
    tables.push(table);
    anyMethod.push(any === undefined ? undefined : value(any));
    notAllowed.push(Object.freeze({ kind: 'method_not_allowed', template: t.node.template as string, allow: Object.freeze(allowedMethods(t.node.methods.keys())) }));
    return id;
  };

  // Number of terminals per subtree, to decide where to split functions.
  const weight = new Map<RouteNode<T>, number>();
  const weigh = (n: RouteNode<T>): number => {
    let w = n.methods.size > 0 ? 1 : 0;
    for (const c of n.statics.values()) w += weigh(c);
    if (n.param !== null) w += weigh(n.param);
    if (n.wildcard !== null) w += weigh(n.wildcard);
    weight.set(n, w);
    return w;
  };
  weigh(root);

  const functions: string[] = [];
  const maps: string[] = [];

  /** A separate function for `node`'s subtree; returns its name. */
  const emitFunction = (node: RouteNode<T>, paramAt: readonly number[], path: string | null): string => {
    const slot = functions.length;
    const name = `f${slot}`;
    functions.push(''); // reserve the slot: nested subtrees emitted below take the next ones
    const body = emitNode(node, paramAt, path);
    functions[slot] = `function ${name}(m, s, l, p) { let e, r; ${body} return undefined; }`;
    return name;
  };

  const emitTerminal = (node: RouteNode<T>, paramAt: readonly number[], wildcard: boolean, path: string | null): string => {
    const id = register({ node, paramAt, wildcard });
    if (path !== null && !wildcard && paramAt.length === 0) staticPaths.set(path, id);
    const lookup = anyMethod[id] === undefined ? `T[${id}].get(m)` : `(T[${id}].get(m) ?? A[${id}])`;
    let ret: string;
    if (paramAt.length === 0 && !wildcard) {
      ret = 'e';
    } else {
      const values = paramAt.map((i) => `s[${i}]`);
      if (wildcard) values.push(`REST(p, ${node.depth})`);
      ret = `F(e, [${values.join(', ')}])`;
    }
    return `if ((e = ${lookup}) !== undefined) return ${ret}; if (H === -1) H = ${id}; else (HM ??= [H]).push(${id});`;
  };

  /** Code for the subtree under `node` (it has consumed `node.depth` segments; the path has `l - 1`). */
  const emitNode = (node: RouteNode<T>, paramAt: readonly number[], path: string | null): string => {
    const d = node.depth;
    const next = d + 1; // index in s of the next segment
    let code = '';
    if (node.methods.size > 0 && node !== root) code += `if (l === ${next}) { ${emitTerminal(node, paramAt, false, path)} }`;
    if (node.statics.size > 0 || node.param !== null) {
      code += `if (l > ${next}) {`;
      const child = (c: RouteNode<T>, cParamAt: readonly number[], cPath: string | null): string => {
        if ((weight.get(c) as number) >= SPLIT_ROUTES) return `if ((r = ${emitFunction(c, cParamAt, cPath)}(m, s, l, p)) !== undefined) return r;`;
        return emitNode(c, cParamAt, cPath);
      };
      const childPath = (seg: string): string | null => (path === null ? null : `${path}/${seg}`);
      if (node.statics.size > MAP_DISPATCH_CHILDREN) {
        const slot = maps.length;
        const mapName = `M${slot}`;
        maps.push('');
        const entries: string[] = [];
        for (const [seg, c] of node.statics) entries.push(`[${JSON.stringify(seg)}, ${emitFunction(c, paramAt, childPath(seg))}]`);
        maps[slot] = `const ${mapName} = new Map([${entries.join(', ')}]);`;
        code += `{ const g = ${mapName}.get(s[${next}]); if (g !== undefined && (r = g(m, s, l, p)) !== undefined) return r; }`;
      } else {
        for (const [seg, c] of node.statics) code += `if (s[${next}] === ${JSON.stringify(seg)}) { ${child(c, paramAt, childPath(seg))} }`;
      }
      if (node.param !== null) code += `if (s[${next}] !== "") { ${child(node.param, [...paramAt, next], null)} }`;
      code += '}';
    }
    if (node.wildcard !== null) code += `if (l > ${next}) { ${emitTerminal(node.wildcard, paramAt, true, null)} }`;
    return code;
  };

  // Root path is '' so its static children get '/seg'.
  const rootCode = emitNode(root, [], '');
  // H / HM: the terminal ids that matched the path without serving the method (for the 405).
  // Shared across calls rather than passed down: a match is synchronous and calls no user code.
  const source = `"use strict";
let H = -1, HM = null;
${functions.join('\n')}
${maps.join('\n')}
return function dynamicMatch(m, p) {
  H = -1; HM = null;
  const s = p.split('/'), l = s.length;
  let e, r;
  ${rootCode}
  return H === -1 ? NO : HM === null ? NA[H] : MERGE(HM);
};`;

  const merge = (ids: readonly number[]): MethodNotAllowed => {
    const methods: string[] = [];
    for (const id of ids) methods.push(...(notAllowed[id] as MethodNotAllowed).allow);
    return Object.freeze({ kind: 'method_not_allowed', template: (notAllowed[ids[0] as number] as MethodNotAllowed).template, allow: Object.freeze(allowedMethods(methods)) });
  };

  // new Function returns an untyped Function; the source above returns exactly this signature.
  const dynamicMatch = new Function('T', 'A', 'F', 'REST', 'NO', 'NA', 'MERGE', source)(
    tables, anyMethod, found, restAfter, NO_ROUTE, notAllowed, merge,
  ) as (method: string, path: string) => MatchResult<T>;

  return {
    match(method: string, path: string): MatchResult<T> {
      const id = staticPaths.get(path);
      if (id !== undefined) {
        // Static nodes hold prebuilt MatchFound values (see register).
        const hit = (tables[id] as Map<string, MatchFound<T> | RouteEntry<T>>).get(method) ?? anyMethod[id];
        if (hit !== undefined) return hit as MatchFound<T>;
      }
      return dynamicMatch(method, path);
    },
  };
}
