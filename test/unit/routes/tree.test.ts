import t from 'tap';
import { allowedMethods, buildRouteTree, findRouteConflicts } from '../../../src/routes/tree.js';

t.test('findRouteConflicts', async (t) => {
  const r = (template: string, ...methods: string[]) => ({ template, methods, data: null });
  t.same(findRouteConflicts([r('/a/:x', 'GET'), r('/a/:y', 'POST')]), []);
  t.same(findRouteConflicts([r('/a/:x', 'GET'), r('/a/b', 'GET'), r('/a/*', 'GET'), r('/a/:x/', 'GET')]), []);
  t.same(findRouteConflicts([r('/a', 'GET'), r('/a', 'HEAD')]), [], 'HEAD and GET are distinct methods');
  const c = findRouteConflicts([r('/a/:x', 'GET'), r('/b', 'GET'), r('/a/:y', 'POST', 'GET')]);
  t.equal(c.length, 1);
  t.match(c[0], { index: 2, otherIndex: 0, message: /GET \/a\/:y cannot be told apart from GET \/a\/:x/ });
  t.equal(findRouteConflicts([r('/x/*', '*'), r('/x/*', 'DELETE')]).length, 1, '* overlaps every method');
  t.equal(findRouteConflicts([r('/a/./b', 'GET'), r('/a/b', 'GET')]).length, 1, 'compared after canonicalization');
  t.equal(findRouteConflicts([r('/a', 'GET'), r('/a', 'POST'), r('/a', 'GET')]).length, 1);
  t.same(findRouteConflicts([r('/a//b', 'GET'), r('/a//b', 'GET')]), [], 'unparsable templates are left to parseTemplate');
});

t.test('buildRouteTree: one node per template prefix, params and wildcards apart', async (t) => {
  const root = buildRouteTree([
    { template: '/a/:x', methods: ['GET'], data: 1 },
    { template: '/a/:y', methods: ['POST'], data: 2 },
    { template: '/a/b', methods: ['GET'], data: 3 },
    { template: '/a/*', methods: ['*'], data: 4 },
  ]);
  const a = root.statics.get('a');
  t.ok(a);
  t.equal(a?.depth, 1);
  t.same([...(a?.statics.keys() ?? [])], ['b']);
  t.equal(a?.param?.template, '/a/:x', 'first template defined at the node');
  t.same([...(a?.param?.methods.keys() ?? [])], ['GET', 'POST']);
  t.equal(a?.param?.methods.get('POST')?.template, '/a/:y');
  t.same(a?.param?.methods.get('POST')?.paramNames, ['y']);
  t.equal(a?.wildcard?.methods.get('*')?.data, 4);
  t.throws(() => buildRouteTree([{ template: '/a/:x', methods: ['GET'], data: 0 }, { template: '/a/:z', methods: ['GET'], data: 0 }]));
});

t.test('allowedMethods', async (t) => {
  t.same(allowedMethods(['POST', 'GET']), ['GET', 'HEAD', 'POST']);
  t.same(allowedMethods(['HEAD', 'GET']), ['GET', 'HEAD']);
  t.same(allowedMethods(['DELETE']), ['DELETE']);
  t.same(allowedMethods(['*', 'GET']), []);
});
