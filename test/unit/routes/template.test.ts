import t from 'tap';
import { parseTemplate, templateShape, type ParsedTemplate } from '../../../src/routes/template.js';

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
