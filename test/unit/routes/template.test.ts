import t from 'tap';
import { parseTemplate, templateShape, type ParsedTemplate } from '../../../src/routes/template.js';
import { findRouteConflicts } from '../../../src/routes/tree.js';

const ok = (path: string): ParsedTemplate => {
  const r = parseTemplate(path);
  if ('error' in r) throw new Error(`${path}: ${r.error}`);
  return r;
};

t.test('parses literals, params and a final wildcard', async (t) => {
  t.same(ok('/a/:id/*'), {
    template: '/a/:id/*',
    segments: [{ kind: 'static', value: 'a' }, { kind: 'param', name: 'id' }, { kind: 'wildcard' }],
    paramNames: ['id', '*'],
  });
  t.same(ok('/').segments, [{ kind: 'static', value: '' }]);
  t.same(ok('/a/').segments, [{ kind: 'static', value: 'a' }, { kind: 'static', value: '' }]);
  t.same(ok('/*').segments, [{ kind: 'wildcard' }]);
  t.same(ok('/v1/projects:batchGet').segments, [{ kind: 'static', value: 'v1' }, { kind: 'static', value: 'projects:batchGet' }]);
  t.same(ok('/:_a1/:B').paramNames, ['_a1', 'B']);
});

t.test('templates are canonicalized like requests', async (t) => {
  t.equal(ok('/a/./b/../%7euser').template, '/a/~user');
  t.equal(ok('/%c3%a9').template, '/%C3%A9');
});

t.test('rejections carry a human message', async (t) => {
  const bad: [string, RegExp][] = [
    ['/a/*/b', /last segment/],
    ['/a*', /whole segment/],
    ['/a/*x', /whole segment/],
    ['/a/:', /followed by a parameter name/],
    ['/a/:1x', /bad parameter name/],
    ['/a/:x-y', /bad parameter name/],
    ['/a/::x', /bad parameter name/],
    ['/a/:x/:x', /duplicate parameter name/],
    ['a/b', /origin-form/],
    ['/a//b', /empty path segment/],
    ['/a?x', /not allowed/],
    ['/..', /above the root/],
    ['/a;b', /path parameters/],
    ['', /empty/],
  ];
  for (const [path, re] of bad) {
    const r = parseTemplate(path);
    t.ok('error' in r, `${path} rejected`);
    if ('error' in r) t.match(r.error, re, path);
  }
});

t.test('shape ignores param names', async (t) => {
  t.equal(templateShape(ok('/a/:x/b')), templateShape(ok('/a/:y/b')));
  t.not(templateShape(ok('/a/:x')), templateShape(ok('/a/*')));
  t.not(templateShape(ok('/a/:x')), templateShape(ok('/a/:x/')));
});

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
