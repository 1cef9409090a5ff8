/**
 * Bypass class: method confusion — the method authorized is not the method executed.
 *
 * Covered: method-override headers (X-HTTP-Method-Override, X-HTTP-Method,
 * X-Method-Override — OWASP WSTG-CONF-06; README, Forwarding) in every spelling a
 * CGI-style gateway folds together; unknown and extension methods (RFC 9110
 * §9.1: method names are case-sensitive; §15.5.6 405 + Allow); TRACE (Cross-Site
 * Tracing, CVE-2004-2320 class) and CONNECT (RFC 9110 §9.3.6: never tunnelled);
 * lower-case methods; HEAD → GET fallback (RFC 9110 §9.3.2).
 */
import t from 'tap';
import { get, req, startWorld } from './fixture.js';

const OVERRIDES = [
  'X-HTTP-Method-Override', 'x-http-method-override', 'X_HTTP_METHOD_OVERRIDE', 'X.Http.Method.Override',
  'X-HTTP-Method', 'x_http_method', 'X-Method-Override', 'X~Method~Override',
];

t.test('method confusion over raw sockets against scopegate serve', async (t) => {
  const w = await startWorld();
  t.teardown(() => w.close());
  const reader = w.token('items:read');
  const writer = w.token('items:write');

  t.test('positive controls: GET, HEAD (GET fallback) and POST are forwarded with their own method', async (t) => {
    const g = await w.probe(get('/api/items/1', `Authorization: Bearer ${reader}`));
    t.equal(g.first?.status, 200);
    t.equal(g.delta[0]?.method, 'GET');
    const h = await w.probe(req('HEAD', '/api/items/1', [`Authorization: Bearer ${reader}`]));
    t.equal(h.delta.length, 1, 'HEAD forwarded');
    t.equal(h.delta[0]?.method, 'HEAD');
    const p = await w.probe(req('POST', '/api/items', [`Authorization: Bearer ${writer}`, 'Content-Length: 2'], '{}'));
    t.equal(p.first?.status, 200);
    t.equal(p.delta[0]?.method, 'POST');
  });

  t.test(`override headers are stripped in every spelling (${OVERRIDES.length} spellings × 2 routes)`, async (t) => {
    for (const name of OVERRIDES) {
      for (const [target, auth] of [['/api/items/1', `Authorization: Bearer ${reader}`], ['/public/a', 'X-Nothing: 1']] as const) {
        const r = await w.probe(get(target, auth, `${name}: DELETE`));
        t.equal(r.first?.status, 200, `${name} on ${target}`);
        const seen = r.delta[0];
        t.equal(seen?.method, 'GET', 'the upstream executes the authorized method');
        const leaked = (seen?.rawHeaders ?? []).filter((_, i, a) => i % 2 === 0 && /method/i.test(a[i] as string));
        t.same(leaked, [], `${name} never reaches the upstream`);
      }
    }
  });

  t.test('methods a route does not serve: 405 with Allow, JSON, never forwarded', async (t) => {
    const cases: [string, string, string][] = [
      ['POST', '/api/items/1', 'DELETE, GET, HEAD'],
      ['PUT', '/api/items/1', 'DELETE, GET, HEAD'],
      ['PATCH', '/api/items/1', 'DELETE, GET, HEAD'],
      ['OPTIONS', '/api/items/1', 'DELETE, GET, HEAD'],
      ['TRACE', '/public/a', 'GET, HEAD, POST'],
      ['PROPFIND', '/public/a', 'GET, HEAD, POST'],
      ['MKCOL', '/public/a', 'GET, HEAD, POST'],
      ['PURGE', '/public/a', 'GET, HEAD, POST'],
      ['DELETE', '/public/a', 'GET, HEAD, POST'],
      ['TRACE', '/admin/x', 'GET, HEAD'],
    ];
    for (const [method, target, allow] of cases) {
      const r = await w.probe(req(method, target, [`Authorization: Bearer ${reader}`]));
      t.equal(r.first?.status, 405, `${method} ${target}`);
      t.same(r.first?.json, { error: 'method_not_allowed', error_description: `${method} is not allowed on this route` });
      t.equal(r.first?.headers['allow'], allow, `${method} ${target} Allow`);
      t.equal(r.delta.length, 0, 'upstream saw nothing');
    }
  });

  t.test('a served method still needs its own scope: DELETE with items:read is 403', async (t) => {
    const r = await w.probe(req('DELETE', '/api/items/1', [`Authorization: Bearer ${reader}`]));
    t.equal(r.first?.status, 403);
    t.equal(r.first?.json?.scope, 'items:delete');
    t.equal(r.delta.length, 0);
  });

  t.test('unknown and lower-case methods are refused by the strict parser (400, connection closed)', async (t) => {
    for (const method of ['get', 'Get', 'gEt', 'FOO', 'GETT', 'G\x00ET', 'BREW', 'TRACK', 'DEBUG', 'HTTP/1.1']) {
      const r = await w.probe(req(method, '/public/a', []));
      t.equal(r.first?.status, 400, JSON.stringify(method));
      t.same(r.first?.json, { error: 'invalid_request', error_description: 'malformed HTTP request' });
      t.ok(r.closed, 'connection closed');
      t.equal(r.delta.length, 0);
    }
  });

  t.test('CONNECT is answered 405 and the connection closed, never tunnelled', async (t) => {
    for (const target of ['scopegate.test:443', '127.0.0.1:' + String(w.upstream.port), '/public/a']) {
      const r = await w.probe(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\nGET /admin/x HTTP/1.1\r\nHost: x\r\n\r\n`, { idleMs: 100, settleMs: 100 });
      t.equal(r.first?.status, 405, `CONNECT ${target}`);
      t.same(r.first?.json, { error: 'method_not_allowed', error_description: 'CONNECT is not supported' });
      t.equal(r.responses.length, 1, 'the bytes after CONNECT are not served');
      t.ok(r.closed);
      t.equal(r.delta.length, 0, 'upstream saw nothing');
    }
  });

  // The README (Forwarding) strips override *headers*; frameworks with parameter-based override
  // (Symfony httpMethodParameterOverride, Laravel, Rails' Rack::MethodOverride for POST)
  // also read `_method` from the query string. See the report / SECURITY.md.
  t.test('query-string method override (`?_method=DELETE`) on a POST', async (t) => {
    const r = await w.probe(req('POST', '/public/a?_method=DELETE', ['Content-Length: 0']));
    t.equal(r.first?.status, 400);
    t.equal(r.delta.length, 0);
  });
});
