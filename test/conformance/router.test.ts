import t from 'tap';
import type { Test } from 'tap';
import fc from 'fast-check';
import { PathError } from '../../src/errors.js';
import { canonicalizeTarget } from '../../src/routes/normalize.js';
import { compileRouter } from '../../src/routes/compile.js';
import { createReferenceMatcher } from '../../src/routes/reference.js';
import { findRouteConflicts } from '../../src/routes/tree.js';
import type { Matcher, MatchResult, RouteDefinition } from '../../src/routes/types.js';
import { GROUPS, routeDefs, type RouterCase } from './router.cases.js';

const IMPLEMENTATIONS: readonly [string, <T>(defs: readonly RouteDefinition<T>[]) => Matcher<T>][] = [
  ['reference', createReferenceMatcher],
  ['compiled', compileRouter],
];

function check(t: Test, matcher: Matcher<string>, c: RouterCase): void {
  const label = `${c.method} ${c.target}${c.note === undefined ? '' : ` (${c.note})`}`;
  const target = canonicalizeTarget(c.target);
  const e = c.expect;
  if ('badRequest' in e) {
    t.equal(target instanceof PathError ? target.code : 'accepted', e.badRequest, label);
    return;
  }
  if (target instanceof PathError) {
    t.fail(`${label}: rejected with ${target.code}`);
    return;
  }
  const r = matcher.match(c.method, target.path);
  if ('found' in e) {
    if (r.kind !== 'found') {
      t.fail(`${label}: expected ${e.found}, got ${JSON.stringify(r)}`);
      return;
    }
    const params = Object.fromEntries(r.paramNames.map((n, i) => [n, r.paramValues[i]]));
    t.same({ template: r.template, params }, { template: e.found, params: e.params ?? {} }, label);
    t.equal(r.paramNames.length, r.paramValues.length, `${label}: names and values line up`);
    if (e.via !== undefined) t.equal(r.data, e.via, `${label}: served by ${e.via}`);
    else t.ok(r.data.endsWith(` ${e.found}`) && r.data.split(' ')[0]?.split(',').some((m) => m === c.method || m === '*' || (c.method === 'HEAD' && m === 'GET')), `${label}: data of a route serving the method`);
  } else if ('notAllowed' in e) {
    t.same(r, { kind: 'method_not_allowed', template: e.template, allow: e.notAllowed }, label);
  } else {
    t.same(r, { kind: 'no_route' }, label);
  }
}

const caseCount = GROUPS.reduce((n, g) => n + g.cases.length, 0);
t.comment(`${caseCount} conformance cases in ${GROUPS.length} groups`);
t.ok(caseCount >= 60, 'at least 60 shared cases');

for (const [name, make] of IMPLEMENTATIONS) {
  t.test(name, async (t) => {
    for (const group of GROUPS) {
      t.test(group.name, async (t) => {
        const defs = routeDefs(group.routes);
        t.same(findRouteConflicts(defs), [], 'route set is valid');
        const matcher = make(defs);
        for (const c of group.cases) check(t, matcher, c);
      });
    }
  });
}

// Differential test: random route sets and random paths, compiled vs reference.
const SEGMENTS = ['a', 'b', 'c', ':p', ':q', ':r'];
const METHODS = ['GET', 'HEAD', 'POST', 'DELETE', '*'];
const templateArb = fc
  .tuple(fc.array(fc.constantFrom(...SEGMENTS), { minLength: 0, maxLength: 4 }), fc.constantFrom('', '/', '/*', '/*'))
  .map(([segs, tail]) => {
    // Param names must be unique within a template: number them.
    const named = segs.map((s, i) => (s.startsWith(':') ? `${s}${i}` : s));
    const path = '/' + named.join('/');
    if (tail === '') return named.length === 0 ? '/' : path;
    return named.length === 0 ? (tail === '/' ? '/' : '/*') : path + tail;
  });
const routeArb = fc.record({
  template: templateArb,
  methods: fc.uniqueArray(fc.constantFrom(...METHODS), { minLength: 1, maxLength: 3 }),
});
const routeSetArb = fc.array(routeArb, { minLength: 0, maxLength: 14 }).map((routes) => {
  const defs: RouteDefinition<number>[] = [];
  for (const r of routes) {
    const candidate = [...defs, { ...r, data: defs.length }];
    if (findRouteConflicts(candidate).length === 0) defs.push(candidate[candidate.length - 1] as RouteDefinition<number>);
  }
  return defs;
});
const pathArb = fc
  .tuple(fc.array(fc.constantFrom('a', 'b', 'c', 'd', ':p0', '*'), { minLength: 1, maxLength: 6 }), fc.boolean())
  .map(([segs, trailing]) => '/' + segs.join('/') + (trailing ? '/' : ''));
const requestArb = fc.tuple(fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE', 'PUT'), fc.oneof(pathArb, fc.constant('/')));

function normalizeResult(r: MatchResult<number>): unknown {
  return r.kind === 'found' ? { ...r, paramNames: [...r.paramNames], paramValues: [...r.paramValues] } : r.kind === 'method_not_allowed' ? { ...r, allow: [...r.allow] } : { kind: r.kind };
}

t.test('property: compiled matcher agrees with the reference matcher', async (t) => {
  let found = 0;
  let notAllowed = 0;
  fc.assert(
    fc.property(routeSetArb, fc.array(requestArb, { minLength: 1, maxLength: 12 }), (defs, requests) => {
      const compiled = compileRouter(defs);
      const reference = createReferenceMatcher(defs);
      for (const [method, path] of requests) {
        const a = normalizeResult(compiled.match(method, path));
        const b = normalizeResult(reference.match(method, path));
        if ((a as { kind: string }).kind === 'found') found++;
        if ((a as { kind: string }).kind === 'method_not_allowed') notAllowed++;
        if (JSON.stringify(a) !== JSON.stringify(b)) {
          // Only a disagreement becomes an assertion: the diff is what shrinking needs to show.
          t.same(a, b, `${method} ${path} on ${JSON.stringify(defs.map((d) => `${d.methods.join(',')} ${d.template}`))}`);
          return false;
        }
      }
      return true;
    }),
    { numRuns: 1000 },
  );
  t.comment(`differential: ${found} found, ${notAllowed} method_not_allowed results compared`);
  t.ok(found > 0 && notAllowed > 0, 'the generators reach found and 405 results');
});

// Wide tables: enough routes and static siblings to exercise Map dispatch and split functions in the generated code.
const wideTemplateArb = fc
  .tuple(
    fc.array(fc.oneof(fc.constantFrom(':p', ':q'), fc.integer({ min: 0, max: 14 }).map((i) => `s${i}`)), { minLength: 1, maxLength: 3 }),
    fc.constantFrom('', '', '/', '/*'),
  )
  .map(([segs, tail]) => '/' + segs.map((s, i) => (s.startsWith(':') ? `${s}${i}` : s)).join('/') + tail);
const wideSetArb = fc
  .array(fc.record({ template: wideTemplateArb, methods: fc.uniqueArray(fc.constantFrom('GET', 'POST', 'HEAD'), { minLength: 1, maxLength: 2 }) }), { minLength: 30, maxLength: 90 })
  .map((routes) => {
    const defs: RouteDefinition<number>[] = [];
    for (const r of routes) {
      const candidate = [...defs, { ...r, data: defs.length }];
      if (findRouteConflicts(candidate).length === 0) defs.push(candidate[candidate.length - 1] as RouteDefinition<number>);
    }
    return defs;
  });
const widePathArb = fc
  .tuple(fc.array(fc.integer({ min: 0, max: 15 }).map((i) => `s${i}`), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([segs, trailing]) => '/' + segs.join('/') + (trailing ? '/' : ''));

t.test('property: compiled agrees with reference on wide tables', async (t) => {
  fc.assert(
    fc.property(wideSetArb, fc.array(fc.tuple(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT'), widePathArb), { minLength: 1, maxLength: 20 }), (defs, requests) => {
      const compiled = compileRouter(defs);
      const reference = createReferenceMatcher(defs);
      for (const [method, path] of requests) {
        const a = normalizeResult(compiled.match(method, path));
        const b = normalizeResult(reference.match(method, path));
        if (JSON.stringify(a) !== JSON.stringify(b)) {
          t.same(a, b, `${method} ${path}`);
          return false;
        }
      }
      return true;
    }),
    { numRuns: 300 },
  );
});
