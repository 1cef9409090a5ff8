/**
 * The walk of a compiled route tree (compile.ts). The tree is plain data
 * walked by the small functions below, shared by every router: a large table
 * costs memory, not code, so a lookup stays in the CPU's instruction cache
 * however many routes there are (the generated code this replaces, one
 * function per large subtree, ran ~2× slower on GitHub's 1,222 routes with
 * a mixed workload than on a handful of paths, for that reason).
 *
 * The caller has recorded where each segment of the path starts in `S`
 * (segment i is p[S[i], S[i+1] - 1), segment 0 being the empty text before the
 * leading `/`) and the number of segments in `l`; the walk never splits the
 * path. At the node at depth d, with `a` = S[d+1] and `n` = the length of
 * segment d+1, it tries, depth-first: the routes ending here (l === d+1); the
 * static child equal to the segment (picked by its first character, then
 * length, then compared in place); the `:param` child (a non-empty segment);
 * the `*` routes (l > d+1). A leaf that does not serve the method is noted
 * (for the 405) and the walk goes on: one walk answers hits, 405s and 404s.
 */
import type { MatchFound, MethodNotAllowed } from './types.js';
import type { RouteEntry, RouteNode } from './tree.js';

/** Where routes end: what each method resolves to there, the segments values are cut from, and the node's 405. */
export class Leaf<T> {
  constructor(
    /** By method id (compile.ts): the prebuilt result of a route without params, else the route; undefined when the method is not served here. */
    readonly byMethod: readonly (MatchFound<T> | RouteEntry<T> | undefined)[],
    /** Segment indexes of the `:param` values in order; null when the routes here have neither params nor `*`. */
    readonly paramAt: readonly number[] | null,
    /** The segment the `*` rest starts at, or -1. */
    readonly wildAt: number,
    readonly notAllowed: MethodNotAllowed,
  ) {}
}

/** Leaves the path reached without serving the method: `leaves[0 … n - 1]`, in priority order (reused across calls; setting an array's length is a slow runtime call). */
export interface LeafSink<T> {
  readonly leaves: Leaf<T>[];
  n: number;
}

/** A static child: its segment, and the node it leads to. */
class Kid<T> {
  readonly len: number;
  constructor(
    readonly seg: string,
    readonly node: WalkNode<T>,
  ) {
    this.len = seg.length;
  }
}

export class WalkNode<T> {
  end: Leaf<T> | null = null;
  /** Non-empty static children by the char code of their first character. */
  kids: (Kid<T>[] | undefined)[] | null = null;
  /** The static child whose segment is empty (`/a/` below `/a`). */
  empty: WalkNode<T> | null = null;
  param: WalkNode<T> | null = null;
  wild: Leaf<T> | null = null;
}

/** The leaf for a route node (`wildcard`: the node of a final `*`). */
export type MakeLeaf<T> = (node: RouteNode<T>, paramAt: readonly number[], wildcard: boolean) => Leaf<T>;

/** The walk tree under `node`, every route node becoming a leaf. */
export function buildWalk<T>(node: RouteNode<T>, leaf: MakeLeaf<T>, paramAt: readonly number[] = []): WalkNode<T> {
  const out = new WalkNode<T>();
  if (node.depth > 0 && node.methods.size > 0) out.end = leaf(node, paramAt, false);
  for (const [seg, c] of node.statics) {
    const child = buildWalk(c, leaf, paramAt);
    if (seg === '') {
      out.empty = child;
      continue;
    }
    const first = seg.charCodeAt(0);
    out.kids ??= [];
    while (out.kids.length <= first) out.kids.push(undefined);
    (out.kids[first] ??= []).push(new Kid(seg, child));
  }
  if (node.param !== null) out.param = buildWalk(node.param, leaf, [...paramAt, node.depth + 1]);
  if (node.wildcard !== null) out.wild = leaf(node.wildcard, paramAt, true);
  return out;
}

/** Whether `seg` (n characters, the first already compared) is at `a` in `p`: inlined compares, no builtin call. */
function sameAt(p: string, a: number, seg: string, n: number): boolean {
  for (let i = 1; i < n; i++) if (p.charCodeAt(a + i) !== seg.charCodeAt(i)) return false;
  return true;
}

/** The static child of `node` equal to the segment at `a`, `n` (> 0) characters long. */
function kidFor<T>(node: WalkNode<T>, p: string, a: number, n: number): WalkNode<T> | null {
  const kids = node.kids;
  if (kids === null) return null;
  const first = p.charCodeAt(a);
  const list = first < kids.length ? kids[first] : undefined;
  if (list === undefined) return null;
  for (let i = 0; i < list.length; i++) {
    const k = list[i] as Kid<T>;
    // Segments are distinct: at most one candidate matches.
    if (k.len === n && sameAt(p, a, k.seg, n)) return k.node;
  }
  return null;
}

/** A leaf reached by the path: the answer when it serves method `m`, else noted in `sink` for the 405. */
function reached<T>(leaf: Leaf<T>, m: number, sink: LeafSink<T>): Leaf<T> | undefined {
  if (leaf.byMethod[m] !== undefined) return leaf;
  sink.leaves[sink.n++] = leaf;
  return undefined;
}

/**
 * The first leaf, in priority order, that the path (segments in S, l of them)
 * reaches from `node` at depth d and that serves method id `m`; every leaf
 * reached before it that does not serve `m` is noted in `sink`.
 */
export function findLeaf<T>(node: WalkNode<T>, p: string, S: Int32Array, d: number, l: number, m: number, sink: LeafSink<T>): Leaf<T> | undefined {
  const next = d + 1;
  if (l === next) return node.end === null ? undefined : reached(node.end, m, sink);
  if (node.kids !== null || node.param !== null || node.empty !== null) {
    const a = S[next] as number;
    const n = (S[next + 1] as number) - a - 1;
    let r: Leaf<T> | undefined;
    if (n === 0) {
      if (node.empty !== null && (r = findLeaf(node.empty, p, S, next, l, m, sink)) !== undefined) return r;
    } else {
      const kid = kidFor(node, p, a, n);
      if (kid !== null && (r = findLeaf(kid, p, S, next, l, m, sink)) !== undefined) return r;
      if (node.param !== null && (r = findLeaf(node.param, p, S, next, l, m, sink)) !== undefined) return r;
    }
  }
  return node.wild === null ? undefined : reached(node.wild, m, sink);
}

/** The deepest node's depth: segments 0 … that depth are all a route can look at. */
export function maxDepth<T>(node: RouteNode<T>): number {
  let d = node.depth;
  for (const c of node.statics.values()) d = Math.max(d, maxDepth(c));
  if (node.param !== null) d = Math.max(d, maxDepth(node.param));
  if (node.wildcard !== null) d = Math.max(d, maxDepth(node.wildcard));
  return d;
}
