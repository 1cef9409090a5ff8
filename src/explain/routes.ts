/**
 * Step 2 of `scopegate explain`: which routes match the canonical path and why
 * the winner wins. This is an independent, deliberately plain walk over the
 * parsed templates (the rules of README, Routes, as routes/reference.ts states
 * them); its result is then checked against the compiled matcher the server
 * uses, and any disagreement is reported as a bug rather than hidden.
 */
import type { CompiledPolicies, RoutePolicy } from '../policy/decide.js';
import { compareRank, KIND_RANK } from '../routes/reference.js';
import { parseTemplate, type ParsedTemplate, type TemplateSegment } from '../routes/template.js';
import { ANY_METHOD } from '../routes/tree.js';
import type { MatchResult } from '../routes/types.js';
import type { MethodFit, RouteCandidate, RouteMiss, RouteResult, RouteStep } from './types.js';

/** Misses listed before "… and N more": enough to see the pattern, short enough to read. */
const MAX_MISSES = 8;

interface Parsed {
  readonly index: number;
  readonly policy: RoutePolicy;
  readonly parsed: ParsedTemplate;
  readonly rank: readonly number[];
}

/** How far a template matches a path: `matched` segments, then either the values or why it stops. */
interface Progress {
  readonly matched: number;
  readonly values: string[] | undefined;
  readonly why: string;
}

function describe(seg: TemplateSegment): string {
  return seg.kind === 'static' ? `static ${JSON.stringify(seg.value)}` : seg.kind === 'param' ? `:${seg.name}` : '*';
}

function progress(parsed: ParsedTemplate, parts: readonly string[]): Progress {
  const values: string[] = [];
  const segs = parsed.segments;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i] as TemplateSegment;
    const n = i + 1;
    if (seg.kind === 'wildcard') {
      if (parts.length <= i) return { matched: i, values: undefined, why: `the path ends after segment ${i}; "*" needs one more segment (possibly empty)` };
      values.push(parts.slice(i).join('/'));
      return { matched: segs.length, values, why: '' };
    }
    const part = parts[i];
    if (part === undefined) return { matched: i, values: undefined, why: `the path ends after segment ${i}; the template continues with ${describe(seg)}` };
    if (seg.kind === 'static' && part !== seg.value) {
      return { matched: i, values: undefined, why: `segment ${n} is ${JSON.stringify(part)}, not ${JSON.stringify(seg.value)}` };
    }
    if (seg.kind === 'param') {
      if (part === '') return { matched: i, values: undefined, why: `segment ${n} is empty; :${seg.name} needs a non-empty segment` };
      values.push(part);
    }
  }
  if (parts.length !== segs.length) {
    return {
      matched: segs.length,
      values: undefined,
      why: `the path continues after segment ${segs.length} (${JSON.stringify(parts[segs.length])}); the template ends there`,
    };
  }
  return { matched: segs.length, values, why: '' };
}

function methodFit(methods: readonly string[], method: string): MethodFit {
  if (methods.includes(method) || methods.includes(ANY_METHOD)) return 'exact';
  if (method === 'HEAD' && methods.includes('GET')) return 'head_fallback';
  return 'no';
}

const FIT_ORDER: Record<MethodFit, number> = { exact: 0, head_fallback: 1, no: 2 };

/** First segment index where two templates differ (kind, or static value), or -1 when identical in shape. */
function firstDifference(a: ParsedTemplate, b: ParsedTemplate): number {
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const x = a.segments[i];
    const y = b.segments[i];
    if (x === undefined || y === undefined) return i;
    if (x.kind !== y.kind) return i;
    if (x.kind === 'static' && y.kind === 'static' && x.value !== y.value) return i;
  }
  return -1;
}

/** The Allow list as README, Responses states it: the union of the methods, HEAD wherever GET is, sorted. */
function allowList(routes: readonly Parsed[]): string[] {
  const set = new Set<string>();
  for (const r of routes) for (const m of r.policy.methods) set.add(m);
  if (set.has(ANY_METHOD)) return [];
  if (set.has('GET')) set.add('HEAD');
  return [...set].sort();
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function summarize(real: MatchResult<RoutePolicy>): string {
  switch (real.kind) {
    case 'found':
      return `found ${real.template} (route ${JSON.stringify(real.data.key)})${real.paramNames.length > 0 ? `, params ${real.paramNames.map((n, i) => `${n}=${real.paramValues[i] ?? ''}`).join(' ')}` : ''}`;
    case 'no_route':
      return 'no route (404)';
    case 'method_not_allowed':
      return `method not allowed (405) on ${real.template}, Allow: ${real.allow.join(', ')}`;
  }
}

function agrees(mine: RouteResult, real: MatchResult<RoutePolicy>): boolean {
  if (mine.kind !== real.kind) return false;
  if (mine.kind === 'found' && real.kind === 'found') {
    return mine.key === real.data.key && mine.template === real.template && sameList(mine.params.map((p) => p[1]), real.paramValues) && sameList(mine.params.map((p) => p[0]), real.paramNames);
  }
  if (mine.kind === 'method_not_allowed' && real.kind === 'method_not_allowed') {
    return mine.template === real.template && sameList(mine.allow, real.allow);
  }
  return true;
}

/** Trace the route match of (method, canonical path) over the compiled policies, checked against their matcher. */
export function traceRoute(compiled: CompiledPolicies, method: string, path: string): RouteStep {
  const routes: Parsed[] = [];
  compiled.policies.forEach((policy, index) => {
    const parsed = parseTemplate(policy.template);
    // The config loader refuses unparsable templates, so this cannot happen for a loaded config.
    if ('error' in parsed) throw new Error(`route ${policy.key}: ${parsed.error}`);
    routes.push({ index, policy, parsed, rank: parsed.segments.map((s) => KIND_RANK[s.kind]) });
  });

  const parts = path.slice(1).split('/');
  const onPath: { route: Parsed; fit: MethodFit; values: string[] }[] = [];
  const off: { route: Parsed; progress: Progress }[] = [];
  for (const route of routes) {
    const p = progress(route.parsed, parts);
    if (p.values !== undefined) onPath.push({ route, fit: methodFit(route.policy.methods, method), values: p.values });
    else off.push({ route, progress: p });
  }
  // Priority order: most specific shape first, then an exact method before HEAD→GET, then definition order.
  onPath.sort((a, b) => compareRank(a.route.rank, b.route.rank) || FIT_ORDER[a.fit] - FIT_ORDER[b.fit] || a.route.index - b.route.index);
  const winner = onPath.find((c) => c.fit !== 'no');

  const candidates: RouteCandidate[] = onPath.map((c) => {
    const r = c.route;
    let why: string;
    if (c === winner) {
      why = c.fit === 'head_fallback' ? `winner (HEAD served by its GET: HEAD→GET fallback)` : 'winner';
    } else if (c.fit === 'no') {
      why = `matches the path but does not serve ${method}`;
    } else {
      const w = (winner as (typeof onPath)[number]).route;
      const d = firstDifference(w.parsed, r.parsed);
      if (d < 0) {
        why = `same shape; ${method} listed explicitly (the winner) beats HEAD→GET fallback`;
      } else {
        const ws = w.parsed.segments[d] as TemplateSegment;
        const rs = r.parsed.segments[d];
        why = `at segment ${d + 1} (${JSON.stringify(parts[d] ?? '')}): ${describe(ws)} beats ${rs === undefined ? 'the end of the template' : describe(rs)}`;
      }
    }
    return { key: r.policy.key, template: r.parsed.template, methods: r.policy.methods, fit: c.fit, winner: c === winner, why };
  });

  let result: RouteResult;
  const misses: RouteMiss[] = [];
  let missCount = 0;
  if (winner !== undefined) {
    const w = winner.route;
    result = {
      kind: 'found',
      key: w.policy.key,
      template: w.parsed.template,
      methods: w.policy.methods,
      params: w.parsed.paramNames.map((name, i) => [name, winner.values[i] ?? ''] as const),
      headFallback: winner.fit === 'head_fallback',
    };
    // Backtracking: a branch more specific than the winner's at a segment it did match, abandoned further on.
    for (const { route, progress: p } of off) {
      const d = firstDifference(route.parsed, w.parsed);
      if (d < 0 || d >= p.matched) continue;
      const rs = route.parsed.segments[d] as TemplateSegment;
      const ws = w.parsed.segments[d];
      if (ws === undefined || KIND_RANK[rs.kind] >= KIND_RANK[ws.kind]) continue;
      missCount++;
      if (misses.length < MAX_MISSES) {
        misses.push({
          key: route.policy.key,
          template: route.parsed.template,
          why: `tried first (${describe(rs)} beats ${describe(ws)} at segment ${d + 1}), then ${p.why}: backtracked`,
        });
      }
    }
  } else if (onPath.length > 0) {
    result = { kind: 'method_not_allowed', template: (onPath[0] as (typeof onPath)[number]).route.parsed.template, allow: allowList(onPath.map((c) => c.route)) };
  } else {
    result = { kind: 'no_route' };
    // The routes that got furthest along the path, so a typo or a missing route is easy to spot.
    const best = off.reduce((m, o) => Math.max(m, o.progress.matched), 0);
    if (best > 0) {
      for (const { route, progress: p } of off) {
        if (p.matched !== best) continue;
        missCount++;
        if (misses.length < MAX_MISSES) misses.push({ key: route.policy.key, template: route.parsed.template, why: `closest (${best} segment${best > 1 ? 's' : ''} match): ${p.why}` });
      }
    }
  }

  const real = compiled.matcher.match(method, path);
  const ok = agrees(result, real);
  return {
    method,
    path,
    candidates,
    misses,
    moreMisses: missCount - misses.length,
    result,
    matcher: { agrees: ok, summary: summarize(real) },
  };
}
