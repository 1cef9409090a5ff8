/**
 * The shared route table: GitHub's REST API from @octokit/openapi, converted to
 * scopegate's template syntax (`{param}` → `:param`), with routes scopegate cannot
 * tell apart dropped (same method, same shape once param names are ignored), plus the
 * shared request workload (static hits, param-heavy hits, misses).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { findRouteConflicts } from '../../dist/routes/tree.js';

const require = createRequire(import.meta.url);
const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];

/**
 * @typedef {{ method: string, template: string, scope: string }} BenchRoute
 * @typedef {{ routes: BenchRoute[], stats: Record<string, number>, specVersion: string }} RouteTable
 */

/** Scope a route requires in the bench configs: `<first segment>:read` for GET, else `:write`. */
export function scopeFor(method, template) {
  const first = template.split('/')[1] || 'root';
  return `${first}:${method === 'GET' ? 'read' : 'write'}`;
}

/** @returns {RouteTable} */
export function loadGithubRoutes() {
  const file = require.resolve('@octokit/openapi/generated/api.github.com.json');
  const spec = JSON.parse(readFileSync(file, 'utf8'));
  const stats = { specPaths: 0, specRoutes: 0, renamedParams: 0, mergedSegments: 0, droppedConflicts: 0, routes: 0 };
  /** @type {BenchRoute[]} */
  const all = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    stats.specPaths++;
    const segments = path.split('/').map((seg) => {
      const whole = /^\{([^}]+)\}$/.exec(seg);
      if (whole) {
        const name = whole[1].replace(/[^A-Za-z0-9_]/g, '_');
        if (name !== whole[1]) stats.renamedParams++;
        return `:${name}`;
      }
      if (seg.includes('{')) {
        // e.g. `{base}...{head}`: one segment holding two params; routers here take whole-segment params only.
        stats.mergedSegments++;
        return `:${[...seg.matchAll(/\{([^}]+)\}/g)].map((m) => m[1].replace(/[^A-Za-z0-9_]/g, '_')).join('_')}`;
      }
      return seg;
    });
    const template = segments.join('/');
    for (const m of Object.keys(item)) {
      if (!METHODS.includes(m)) continue;
      stats.specRoutes++;
      const method = m.toUpperCase();
      all.push({ method, template, scope: scopeFor(method, template) });
    }
  }
  // Drop every route scopegate cannot tell apart from an earlier one (findRouteConflicts is the product's own rule).
  const defs = all.map((r) => ({ template: r.template, methods: [r.method], data: r }));
  const conflicts = findRouteConflicts(defs);
  const drop = new Set(conflicts.map((c) => c.index));
  stats.droppedConflicts = drop.size;
  const routes = all.filter((_, i) => !drop.has(i));
  stats.routes = routes.length;
  return { routes, stats, conflicts: conflicts.map((c) => c.message), specVersion: String(spec.info?.version ?? '') };
}

/** Small deterministic PRNG (mulberry32) so every run and every adapter sees the same workload. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * @typedef {{ method: string, path: string, kind: 'static'|'param'|'miss', expect: { template: string, params: Record<string, string> } | null }} BenchRequest
 */

/**
 * ~`count` requests: 30% static routes, 55% param routes (values that never equal a
 * literal), 15% misses (unknown tails, unknown roots, known path with an unserved method).
 * `expect` is the generating route; run.mjs also checks it against scopegate's reference matcher.
 * `isMiss(method, path)` keeps only misses that really miss (an unknown tail can land on a `:param` route).
 * @param {BenchRoute[]} routes
 * @returns {BenchRequest[]}
 */
export function buildWorkload(routes, count = 1000, seed = 42, isMiss = () => true) {
  const rnd = prng(seed);
  const pick = (arr) => arr[Math.floor(rnd() * arr.length)];
  const statics = routes.filter((r) => !r.template.includes(':'));
  const params = routes.filter((r) => r.template.includes(':'));
  const byPath = new Map();
  for (const r of routes) byPath.set(r.template, [...(byPath.get(r.template) ?? []), r.method]);
  /** @type {BenchRequest[]} */
  const out = [];
  let n = 0;
  const value = () => `v${(n++).toString(36)}x${Math.floor(rnd() * 1e6).toString(36)}`;
  const fill = (template) => {
    /** @type {Record<string, string>} */
    const values = {};
    const path = template
      .split('/')
      .map((seg) => {
        if (!seg.startsWith(':')) return seg;
        const v = value();
        values[seg.slice(1)] = v;
        return v;
      })
      .join('/');
    return { path, values };
  };
  const nStatic = Math.round(count * 0.3);
  const nParam = Math.round(count * 0.55);
  for (let i = 0; i < nStatic; i++) {
    const r = pick(statics);
    out.push({ method: r.method, path: r.template, kind: 'static', expect: { template: r.template, params: {} } });
  }
  for (let i = 0; i < nParam; i++) {
    const r = pick(params);
    const { path, values } = fill(r.template);
    out.push({ method: r.method, path, kind: 'param', expect: { template: r.template, params: values } });
  }
  const unused = ['CONNECT', 'TRACE'];
  let k = 0;
  while (out.length < count) {
    let method;
    let path;
    if (k % 3 === 0) {
      // A known prefix with an unknown tail (rejected when some `:param` route happens to take it).
      const r = pick(routes);
      method = r.method;
      path = `${fill(r.template).path}/zz-nope-${value()}`;
    } else if (k % 3 === 1) {
      method = 'GET';
      path = `/nope-${value()}/${value()}`;
    } else {
      // A path that exists, with a method no route serves: 405 for scopegate, a miss for peers.
      method = pick(unused);
      path = fill(pick(routes).template).path;
    }
    k++;
    if (isMiss(method, path)) out.push({ method, path, kind: 'miss', expect: null });
  }
  // Interleave kinds so branch predictors and inline caches see the real mix.
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
