/**
 * Router adapters: one per peer. Each builds from the shared route table and exposes
 *   find(method, path)  — the raw library call that is timed, and
 *   normalize(result)   — { template, params: { name: value } } | null, for the correctness check
 *                          (a 405 and a 404 are both "no match" here: peers do not distinguish them).
 * Route data stored in every router is the template string, so answers compare directly.
 */
import FindMyWay from 'find-my-way';
import { addRoute, createRouter, findRoute } from 'rou3';
import { compileRouter as rou3Compile } from 'rou3/compiler';
import { Memoirist } from 'memoirist';
import { compileRouter } from '../../../dist/routes/compile.js';
import { createReferenceMatcher } from '../../../dist/routes/reference.js';

/** @typedef {import('../../lib/github-routes.mjs').BenchRoute} BenchRoute */

/** { name: value } from parallel name/value lists. */
const zip = (names, values) => Object.fromEntries(names.map((n, i) => [n, values[i]]));
const scopegateNormalize = (r) => (r.kind === 'found' ? { template: r.template, params: zip(r.paramNames, r.paramValues) } : null);
const defsOf = (routes) => routes.map((r) => ({ template: r.template, methods: [r.method], data: r.template }));

export const routerAdapters = [
  {
    name: 'scopegate compiled',
    build(routes) {
      const m = compileRouter(defsOf(routes));
      return { find: (method, path) => m.match(method, path), normalize: scopegateNormalize };
    },
  },
  {
    name: 'scopegate reference',
    note: 'linear scan, the conformance oracle; not for production',
    slow: true,
    build(routes) {
      const m = createReferenceMatcher(defsOf(routes));
      return { find: (method, path) => m.match(method, path), normalize: scopegateNormalize };
    },
  },
  {
    name: 'find-my-way',
    build(routes) {
      const r = FindMyWay({ caseSensitive: true, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false });
      const handler = () => {};
      for (const route of routes) r.on(route.method, route.template, handler, route.template);
      return {
        find: (method, path) => r.find(method, path),
        normalize: (res) => (res ? { template: res.store, params: { ...res.params } } : null),
      };
    },
  },
  {
    name: 'rou3',
    build(routes) {
      const r = createRouter();
      for (const route of routes) addRoute(r, route.method, route.template, route.template);
      return {
        find: (method, path) => findRoute(r, method, path),
        normalize: (res) => (res ? { template: res.data, params: { ...res.params } } : null),
      };
    },
  },
  {
    name: 'rou3 compiled',
    note: 'one generated function for the whole table',
    build(routes) {
      const r = createRouter();
      for (const route of routes) addRoute(r, route.method, route.template, route.template);
      const match = rou3Compile(r);
      return {
        find: (method, path) => match(method, path),
        normalize: (res) => (res ? { template: res.data, params: { ...res.params } } : null),
      };
    },
  },
  {
    name: 'memoirist',
    build(routes) {
      const r = new Memoirist();
      for (const route of routes) r.add(route.method, route.template, route.template);
      return {
        find: (method, path) => r.find(method, path),
        normalize: (res) => (res ? { template: res.store, params: { ...res.params } } : null),
      };
    },
  },
];
