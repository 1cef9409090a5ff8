/**
 * The route tree: one node per distinct template prefix, by segment. Children
 * are tried static first, then `:param`, then `*` (README, Routes), which is
 * what compile.ts turns into code and reference.ts restates as a linear scan.
 */
import type { RouteDefinition } from './types.js';
import { parseTemplate, templateShape, type ParsedTemplate } from './template.js';

export interface RouteConflict {
  /** Index (in the input array) of the later route of the pair. */
  readonly index: number;
  /** Index of the earlier route it cannot be told apart from. */
  readonly otherIndex: number;
  readonly message: string;
}

/** `*` in RouteDefinition.methods means every method. */
export const ANY_METHOD = '*';

/** One route as stored at the node where its template ends. */
export interface RouteEntry<T> {
  readonly index: number;
  readonly template: string;
  readonly data: T;
  /** Shared by every match of this route (frozen). */
  readonly paramNames: readonly string[];
}

export interface RouteNode<T> {
  /** Segments consumed to reach this node (root: 0). */
  readonly depth: number;
  readonly statics: Map<string, RouteNode<T>>;
  param: RouteNode<T> | null;
  /** The node reached by a final `*`; it has no children. */
  wildcard: RouteNode<T> | null;
  /** Routes ending at this node, by method (`*` for any). */
  readonly methods: Map<string, RouteEntry<T>>;
  /** Template of the first route defined at this node (several may differ in param names only). */
  template: string | null;
}

export function newNode<T>(depth: number): RouteNode<T> {
  return { depth, statics: new Map(), param: null, wildcard: null, methods: new Map(), template: null };
}

function methodsOverlap(a: readonly string[], b: readonly string[]): string[] {
  if (a.includes(ANY_METHOD) || b.includes(ANY_METHOD)) return [ANY_METHOD];
  return a.filter((m) => b.includes(m));
}

/** Pairs of routes that can never be told apart (same shape, overlapping methods). Unparsable templates are skipped: parseTemplate reports them. */
export function findRouteConflicts<T>(defs: readonly RouteDefinition<T>[]): RouteConflict[] {
  const byShape = new Map<string, number[]>();
  const conflicts: RouteConflict[] = [];
  defs.forEach((def, index) => {
    const parsed = parseTemplate(def.template);
    if ('error' in parsed) return;
    const shape = templateShape(parsed);
    const earlier = byShape.get(shape);
    if (earlier === undefined) {
      byShape.set(shape, [index]);
      return;
    }
    for (const otherIndex of earlier) {
      const other = defs[otherIndex] as RouteDefinition<T>;
      const common = methodsOverlap(def.methods, other.methods);
      if (common.length > 0) {
        conflicts.push({
          index,
          otherIndex,
          message: `${common.join(',')} ${def.template} cannot be told apart from ${common.join(',')} ${other.template} (route #${otherIndex + 1})`,
        });
      }
    }
    earlier.push(index);
  });
  return conflicts;
}

/** Build the tree. Throws Error on an invalid template or a conflict (config loading reports both before this). */
export function buildRouteTree<T>(defs: readonly RouteDefinition<T>[]): RouteNode<T> {
  const conflicts = findRouteConflicts(defs);
  if (conflicts.length > 0) throw new Error(`route conflicts:\n${conflicts.map((c) => c.message).join('\n')}`);
  const root = newNode<T>(0);
  defs.forEach((def, index) => {
    const parsed = parseTemplate(def.template);
    if ('error' in parsed) throw new Error(`route #${index + 1} ${JSON.stringify(def.template)}: ${parsed.error}`);
    const node = insert(root, parsed);
    const entry: RouteEntry<T> = Object.freeze({ index, template: parsed.template, data: def.data, paramNames: parsed.paramNames });
    if (node.template === null) node.template = parsed.template;
    for (const m of def.methods) if (!node.methods.has(m)) node.methods.set(m, entry);
  });
  return root;
}

function insert<T>(root: RouteNode<T>, parsed: ParsedTemplate): RouteNode<T> {
  let node = root;
  for (const seg of parsed.segments) {
    const depth = node.depth + 1;
    if (seg.kind === 'static') {
      let next = node.statics.get(seg.value);
      if (next === undefined) node.statics.set(seg.value, (next = newNode(depth)));
      node = next;
    } else if (seg.kind === 'param') {
      node = node.param ??= newNode(depth);
    } else {
      node = node.wildcard ??= newNode(depth);
    }
  }
  return node;
}

/** The `Allow` list for a node: sorted, HEAD wherever GET is. Empty when the node serves any method. */
export function allowedMethods(methods: Iterable<string>): string[] {
  const set = new Set(methods);
  if (set.has(ANY_METHOD)) return [];
  if (set.has('GET')) set.add('HEAD');
  return [...set].sort();
}
