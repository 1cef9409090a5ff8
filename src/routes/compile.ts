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
 * The generated walk never splits the path. One pass of indexOf('/') records
 * where each segment starts in an Int32Array owned by the router (`S`: segment
 * i is p[S[i], S[i+1] - 1), segment 0 being the empty text before the leading
 * `/`), reused by every call — a match is synchronous and calls no user code,
 * so it is never re-entered. `l` is the number of segments; the scan stops
 * once the path is deeper than any route (no route can end there, and only
 * `l > k` is ever asked of such a path). Then, for the node at depth d, with
 * `a` = S[d+1] and `n` = the length of segment d+1:
 *
 *     if (l === d+1) { <the node's routes> }             // the path ends here
 *     if (l > d+1) {                                    // a segment follows
 *       switch (n) { case 6: switch (p.charCodeAt(a + 0)) { case 105:
 *         if (p.startsWith("issues", a)) { <child "issues"> } … } … }
 *       if (n !== 0) { <the :param child> }
 *     }
 *     if (l > d+1) { <the * child's routes> }
 *
 * Static children are told apart by a decision tree on the segment's length
 * and then on the characters that differ between the candidates, and compared
 * in place (one startsWith, or one charCodeAt when a single character is left
 * unchecked); `:param` values (and the `*` rest) are sliced only when a route
 * returns them. "<routes>" looks the method up in the node's table and returns
 * on a hit; otherwise N(id) notes the node for the 405 and the walk falls
 * through. A node whose children's code together exceeds SPLIT_CHARS moves the
 * longest of them into functions of their own (f0, f1, …: same walk, called
 * with (m, p, l)), so that every function stays small enough for V8 to
 * optimize, and to optimize quickly.
 *
 * Code generation is safe with respect to config text: the only values
 * interpolated into the source are integers computed here (depths, lengths,
 * offsets, character codes, table indexes) and literal segments passed
 * through JSON.stringify, which always yields a complete JS string literal
 * (and canonical segments are printable ASCII anyway). Methods, data and
 * templates never enter the source; they sit in arrays closed over.
 */
import type { Matcher, MatchFound, MatchResult, MethodNotAllowed, NoRoute, RouteDefinition } from './types.js';
import { ANY_METHOD, allowedMethods, buildRouteTree, type RouteEntry, type RouteNode } from './tree.js';

/** The one 404 result: shared and frozen so a miss allocates nothing. */
export const NO_ROUTE: NoRoute = Object.freeze({ kind: 'no_route' });

const NO_VALUES: readonly string[] = Object.freeze([]);

/** A subtree whose code is longer than this (characters of source) gets its own generated function, keeping each function small enough for V8 to optimize. */
const SPLIT_CHARS = 4000;

function found<T>(e: RouteEntry<T>, paramValues: readonly string[]): MatchFound<T> {
  return { kind: 'found', template: e.template, data: e.data, paramNames: e.paramNames, paramValues };
}

interface Terminal<T> {
  readonly node: RouteNode<T>;
  /** Segment indexes of the node's `:param` values, in order. */
  readonly paramAt: readonly number[];
  readonly wildcard: boolean;
}

/** A static child to dispatch to: its segment and the code for its subtree. */
interface Candidate {
  readonly seg: string;
  readonly code: string;
}

/** `p.charCodeAt(a + k) === c && …` for the positions of `seg` not yet known to match; '' when none is left. */
function sameChars(seg: string, a: string, known: ReadonlySet<number>): string {
  const tests: string[] = [];
  for (let k = 0; k < seg.length; k++) if (!known.has(k)) tests.push(`p.charCodeAt(${a} + ${k}) === ${seg.charCodeAt(k)}`);
  return tests.join(' && ');
}

/**
 * Candidates of one length: switch on the character that splits them most,
 * recursively; a lone candidate is checked on its remaining characters.
 */
function byChars(cands: readonly Candidate[], a: string, known: ReadonlySet<number>): string {
  if (cands.length === 1) {
    const c = cands[0] as Candidate;
    // One character left: compare it; more: one startsWith (smaller code, and quicker for V8 to compile, than a chain).
    const test = c.seg.length - known.size > 1 ? `p.startsWith(${JSON.stringify(c.seg)}, ${a})` : sameChars(c.seg, a, known);
    return test === '' ? c.code : `if (${test}) { ${c.code} }`;
  }
  const len = (cands[0] as Candidate).seg.length;
  let best = -1;
  let bestGroups = new Map<number, Candidate[]>();
  for (let k = 0; k < len; k++) {
    if (known.has(k)) continue;
    const groups = new Map<number, Candidate[]>();
    for (const c of cands) {
      const code = c.seg.charCodeAt(k);
      const g = groups.get(code);
      if (g === undefined) groups.set(code, [c]);
      else g.push(c);
    }
    if (groups.size > bestGroups.size) {
      best = k;
      bestGroups = groups;
    }
  }
  // Distinct segments of one length differ at some position not yet tested.
  const next = new Set(known).add(best);
  let code = `switch (p.charCodeAt(${a} + ${best})) {`;
  for (const [c, group] of bestGroups) code += ` case ${c}: { ${byChars(group, a, next)} } break;`;
  return `${code} }`;
}

/** Dispatch on the segment starting at `a`, `n` characters long, to the static child it equals (at most one does). */
function staticDispatch(cands: readonly Candidate[], a: string, n: string): string {
  const byLength = new Map<number, Candidate[]>();
  for (const c of cands) {
    const g = byLength.get(c.seg.length);
    if (g === undefined) byLength.set(c.seg.length, [c]);
    else g.push(c);
  }
  if (byLength.size === 1) {
    const [len, group] = [...byLength][0] as [number, Candidate[]];
    return `if (${n} === ${len}) { ${byChars(group, a, new Set())} }`;
  }
  let code = `switch (${n}) {`;
  for (const [len, group] of byLength) code += ` case ${len}: { ${byChars(group, a, new Set())} } break;`;
  return `${code} }`;
}

/** Build the radix tree and compile it to a specialized matcher. Throws Error on conflicts (callers run findRouteConflicts first). */
export function compileRouter<T>(defs: readonly RouteDefinition<T>[]): Matcher<T> {
  const root = buildRouteTree(defs);

  const terminals: Terminal<T>[] = [];
  // Per terminal id: method → prebuilt MatchFound (no params) or RouteEntry (params), the any-method value, the 405.
  const tables: Map<string, MatchFound<T> | RouteEntry<T>>[] = [];
  const anyMethod: (MatchFound<T> | RouteEntry<T> | undefined)[] = [];
  const notAllowed: MethodNotAllowed[] = [];
  const staticPaths = new Map<string, number>();

  const register = (t: Terminal<T>): number => {
    const id = terminals.length;
    terminals.push(t);
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

  // The deepest node, to size S.
  let maxDepth = 0;
  const measure = (n: RouteNode<T>): void => {
    if (n.depth > maxDepth) maxDepth = n.depth;
    for (const c of n.statics.values()) measure(c);
    if (n.param !== null) measure(n.param);
    if (n.wildcard !== null) measure(n.wildcard);
  };
  measure(root);
  // Segments 0 … maxDepth are all a route can look at; S[maxDepth + 1] ends the last of them.
  // A path with more segments than that stops the scan at l = maxDepth + 2.
  const lMax = maxDepth + 2;

  const functions: string[] = [];

  /** A separate function with `body` (a subtree's code); returns its name. */
  const emitFunction = (body: string): string => {
    const name = `f${functions.length}`;
    functions.push(`function ${name}(m, p, l) { let e, r; ${body} return undefined; }`);
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
      const values = paramAt.map((i) => `p.slice(S[${i}], S[${i + 1}] - 1)`);
      if (wildcard) values.push(`p.slice(S[${node.depth}])`);
      ret = `F(e, [${values.join(', ')}])`;
    }
    return `if ((e = ${lookup}) !== undefined) return ${ret}; N(${id});`;
  };

  /** Code for the subtree under `node` (it has consumed `node.depth` segments; the path has `l - 1`). */
  const emitNode = (node: RouteNode<T>, paramAt: readonly number[], path: string | null): string => {
    const next = node.depth + 1; // index of the next segment
    let code = '';
    if (node.methods.size > 0 && node !== root) code += `if (l === ${next}) { ${emitTerminal(node, paramAt, false, path)} }`;
    if (node.statics.size > 0 || node.param !== null) {
      const a = `a${next}`;
      const n = `n${next}`;
      code += `if (l > ${next}) { const ${a} = S[${next}], ${n} = S[${next + 1}] - ${a} - 1;`;
      // Children's code first; when together they are too long, the longest move into functions of their own.
      const cands: { seg: string; code: string }[] = [];
      for (const [seg, c] of node.statics) cands.push({ seg, code: emitNode(c, paramAt, path === null ? null : `${path}/${seg}`) });
      const param = node.param === null ? null : { seg: '', code: emitNode(node.param, [...paramAt, next], null) };
      const kids = param === null ? cands : [...cands, param];
      let total = kids.reduce((sum, k) => sum + k.code.length, 0);
      for (const k of [...kids].sort((x, y) => y.code.length - x.code.length)) {
        if (total <= SPLIT_CHARS) break;
        const call = `if ((r = ${emitFunction(k.code)}(m, p, l)) !== undefined) return r;`;
        total += call.length - k.code.length;
        k.code = call;
      }
      if (cands.length > 0) code += staticDispatch(cands, a, n);
      if (param !== null) code += `if (${n} !== 0) { ${param.code} }`;
      code += '}';
    }
    if (node.wildcard !== null) code += `if (l > ${next}) { ${emitTerminal(node.wildcard, paramAt, true, null)} }`;
    return code;
  };

  // Root path is '' so its static children get '/seg'.
  const rootCode = emitNode(root, [], '');
  // H / HM: the terminal ids that matched the path without serving the method (for the 405).
  // S: segment starts. All three are shared across calls: a match is synchronous and calls no user code.
  const source = `"use strict";
const S = new Int32Array(${lMax});
let H = -1, HM = null;
function N(id) { if (H === -1) H = id; else (HM ??= [H]).push(id); }
${functions.join('\n')}
return function dynamicMatch(m, p) {
  H = -1; HM = null;
  let l = 1, i = p.indexOf('/');
  while (i !== -1) {
    S[l] = i + 1;
    if (++l === ${lMax}) break;
    i = p.indexOf('/', i + 1);
  }
  if (l !== ${lMax}) S[l] = p.length + 1;
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
  const dynamicMatch = new Function('T', 'A', 'F', 'NO', 'NA', 'MERGE', source)(
    tables, anyMethod, found, NO_ROUTE, notAllowed, merge,
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
