import t from 'tap';
import { compileRouter, NO_ROUTE } from '../../../src/routes/compile.js';
import { createReferenceMatcher } from '../../../src/routes/reference.js';
import type { RouteDefinition } from '../../../src/routes/types.js';

const def = (key: string): RouteDefinition<string> => {
  const [methods, template] = key.split(' ') as [string, string];
  return { template, methods: methods.split(','), data: key };
};

t.test('misses return one frozen singleton', async (t) => {
  const m = compileRouter([def('GET /a'), def('GET /b/:x')]);
  t.equal(m.match('GET', '/nope'), NO_ROUTE);
  t.equal(m.match('GET', '/b/'), NO_ROUTE);
  t.ok(Object.isFrozen(NO_ROUTE));
});

t.test('static hits and single-node 405s are prebuilt, shared and frozen', async (t) => {
  const m = compileRouter([def('GET,POST /a/b'), def('PUT /c/:x')]);
  const a = m.match('GET', '/a/b');
  t.equal(a, m.match('GET', '/a/b'));
  t.ok(Object.isFrozen(a));
  t.equal(m.match('HEAD', '/a/b'), a, 'HEAD shares the GET result');
  const na = m.match('DELETE', '/c/1');
  t.same(na, { kind: 'method_not_allowed', template: '/c/:x', allow: ['PUT'] });
  t.equal(m.match('GET', '/c/2'), na);
});

t.test('params: names shared per route, values in order', async (t) => {
  const m = compileRouter([def('GET /o/:org/r/:repo/*')]);
  const a = m.match('GET', '/o/acme/r/web/x/y');
  const b = m.match('GET', '/o/x/r/y/z');
  t.match(a, { kind: 'found', paramNames: ['org', 'repo', '*'], paramValues: ['acme', 'web', 'x/y'] });
  if (a.kind === 'found' && b.kind === 'found') t.equal(a.paramNames, b.paramNames);
});

t.test('rejects invalid templates and conflicts', async (t) => {
  t.throws(() => compileRouter([def('GET /a/:x'), def('GET /a/:y')]), /cannot be told apart/);
  t.throws(() => compileRouter([def('GET /a/*/b')]), /last segment/);
});

t.test('literals reach generated code only as JSON string literals', async (t) => {
  // Characters that are legal in a canonical segment and would break naive code generation.
  const nasty = ["it's", '$(x)', "'+process.exit(1)+'", "')+x+('", '`', '${x}', '"', '\u2028'];
  const accepted = nasty.filter((s) => !/["`{}\u2028]/.test(s));
  const defs = accepted.map((s, i) => def(`GET /n/${s}/:p${i}`));
  const m = compileRouter(defs);
  accepted.forEach((s, i) => {
    t.match(m.match('GET', `/n/${s}/v`), { kind: 'found', template: `/n/${s}/:p${i}` }, s);
  });
  // The rest is refused before any code is generated.
  for (const s of nasty.filter((x) => !accepted.includes(x))) t.throws(() => compileRouter([def(`GET /n/${s}`)]), encodeURIComponent(s));
});

/** A GitHub-REST-like table: many resources under shared param prefixes, plus static and wildcard routes. */
function bigTable(resources: number): RouteDefinition<string>[] {
  const keys: string[] = [];
  for (let i = 0; i < resources; i++) {
    keys.push(
      `GET,POST /repos/:owner/:repo/r${i}`,
      `GET,PATCH,DELETE /repos/:owner/:repo/r${i}/:id`,
      `GET /orgs/:org/r${i}`,
      `PUT /orgs/:org/r${i}/:id/members/:username`,
      `GET /users/:username/r${i}/*`,
      `GET /r${i}/static/path`,
    );
  }
  keys.push('GET /repos/:owner/:repo', 'GET /', 'GET /*', 'GET /repos/octo/hello/r1');
  return keys.map(def);
}

t.test('1,000+ routes compile fast and agree with the reference', async (t) => {
  const defs = bigTable(200);
  const t0 = performance.now();
  const m = compileRouter(defs);
  const ms = performance.now() - t0;
  t.comment(`compiled ${defs.length} routes in ${ms.toFixed(1)} ms`);

  const ref = createReferenceMatcher(defs);
  const requests: [string, string][] = [];
  for (let i = 0; i < 200; i += 7) {
    requests.push(
      ['GET', `/repos/o/r/r${i}`], ['POST', `/repos/o/r/r${i}`], ['PUT', `/repos/o/r/r${i}`],
      ['HEAD', `/repos/o/r/r${i}/5`], ['DELETE', `/repos/o/r/r${i}/5`], ['POST', `/repos/o/r/r${i}/5`],
      ['PUT', `/orgs/x/r${i}/1/members/u`], ['GET', `/orgs/x/r${i}/1/members/u`], ['GET', `/users/u/r${i}/a/b`],
      ['GET', `/r${i}/static/path`], ['GET', `/r${i}/static/other`], ['GET', `/repos/o/r/r${i}/5/x`],
    );
  }
  requests.push(['GET', '/'], ['GET', '/repos/octo/hello/r1'], ['POST', '/repos/octo/hello/r1'], ['GET', '/repos/o/r']);
  let mismatches = 0;
  for (const [method, path] of requests) {
    if (JSON.stringify(m.match(method, path)) !== JSON.stringify(ref.match(method, path))) {
      mismatches++;
      t.same(m.match(method, path), ref.match(method, path), `${method} ${path}`);
    }
  }
  t.equal(mismatches, 0, `${requests.length} lookups agree`);

  // Informational only (the machine is shared): lookups per second on a mixed set.
  const t1 = performance.now();
  let n = 0;
  while (performance.now() - t1 < 200) {
    for (const [method, path] of requests) m.match(method, path);
    n += requests.length;
  }
  t.comment(`~${Math.round(n / ((performance.now() - t1) / 1000)).toLocaleString('en')} lookups/s (mixed found/405/404, informational)`);
});
