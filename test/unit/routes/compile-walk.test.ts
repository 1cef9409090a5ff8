import t from 'tap';
import type { Test } from 'tap';
import { compileRouter } from '../../../src/routes/compile.js';
import { createReferenceMatcher } from '../../../src/routes/reference.js';
import type { RouteDefinition } from '../../../src/routes/types.js';

const def = (key: string): RouteDefinition<string> => {
  const [methods, template] = key.split(' ') as [string, string];
  return { template, methods: methods.split(','), data: key };
};

function agree(t: Test, keys: string[], requests: [string, string][]): void {
  const defs = keys.map(def);
  const m = compileRouter(defs);
  const ref = createReferenceMatcher(defs);
  for (const [method, path] of requests) t.same(m.match(method, path), ref.match(method, path), `${method} ${path}`);
}

t.test('same-length static children told apart by their characters, compared in place', async (t) => {
  const segs = ['abcd', 'abce', 'abde', 'xbcd', 'abc', 'ab', 'a', '', 'issues', 'issuer', 'pulls'];
  const keys = segs.map((s) => `GET /r/:o/${s}`).concat('GET /r/:o/:x', 'POST /r/:o/abcd/:y');
  const requests: [string, string][] = [];
  for (const s of [...segs, 'abcf', 'abcdd', 'zzzz', 'issue', 'Issues', 'x']) {
    requests.push(['GET', `/r/o/${s}`], ['POST', `/r/o/${s}`], ['GET', `/r/o/${s}/1`], ['POST', `/r/o/${s}/1`], ['GET', `/r/o/${s}/`]);
  }
  agree(t, keys, requests);
});

t.test('paths deeper than any route, trailing slashes, empty segments, wildcards', async (t) => {
  const keys = ['GET /', 'GET /a/', 'GET /a/:x', 'GET /a/:x/*', 'PUT /b/:x/c/:y', 'GET /w/*', 'GET /d/e/f/g'];
  const requests: [string, string][] = [];
  for (const p of ['/', '//', '/a', '/a/', '/a//', '/a/1', '/a/1/', '/a/1/2/3/4/5/6/7/8/9', '/b/1/c/2', '/b/1/c/2/', '/b/1/c/2/3/4/5/6',
    '/b//c/2', '/w/', '/w', '/w/x/y/z/1/2/3/4/5/6/7/8', '/d/e/f/g', '/d/e/f/g/h', '/d/e/f/g/h/i/j/k/l', '/d/e/f', '/x/y/z/w/v/u/t/s/r']) {
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE']) requests.push([method, p]);
  }
  agree(t, keys, requests);
});

t.test('generated source literal segments survive code generation', async (t) => {
  // Literals with quotes and $ must round-trip through the startsWith comparison.
  const segs = ["it's", "a'b'", "')+x+('", '$(x)', '$(y)'];
  agree(t, segs.map((s, i) => `GET /n/${s}/:p${i}`), segs.map((s) => ['GET', `/n/${s}/v`] as [string, string]));
});
