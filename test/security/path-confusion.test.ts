/**
 * Bypass class: path confusion — the sidecar authorizes one path while the
 * upstream routes another.
 *
 * Advisories and rules covered:
 *  - Envoy CVE-2019-9901 (`../` not normalized before route matching),
 *  - Istio CVE-2021-31920 (escaped slashes `%2F` / `%5C`),
 *  - Tomcat/Spring `..;/` path parameters (CVE-2020-1957, and the encoded-`;`
 *    regression in regression-encoded-semicolon.test.ts),
 *  - overlong UTF-8 dots and slashes (CVE-2000-0884 class; RFC 3629 §3, §10),
 *  - RFC 3986 §5.2.4 dot-segment removal and §6.2.2.2 percent-encoding
 *    normalization; RFC 9112 §3.2 request-target forms (absolute-form, `*`);
 *    RFC 3986 §3.5 (fragments never belong in a request target),
 *  - docs/architecture.md (Rules every module keeps): the forwarded path is the normalized, matched one.
 *
 * Everything goes over a raw socket to the real `scopegate serve`: node:http and
 * fetch would normalize or refuse most of these targets before sending them.
 */
import t from 'tap';
import { get, startWorld } from './fixture.js';

const PATH_ERR = {
  encoded: 'encoded or double-encoded "/", "\\", ";" or "." in path',
  backslash: 'backslash in path',
  control: 'control character, space or non-ASCII byte in path',
  percent: 'malformed percent-encoding or percent-encoded bytes that are not UTF-8',
  param: '";" path parameters (raw or percent-encoded) are not accepted',
  traversal: '".." climbs above the root',
  fragment: '"#" fragment in request target',
  origin: 'request target must be origin-form (start with "/")',
  empty: 'empty path segment ("//")',
  invalid: 'character not allowed in a path',
} as const;

/** Every spelling of `..` with `.` as itself, `%2e` or `%2E`. */
const DOTDOT = ['.', '%2e', '%2E'].flatMap((a) => ['.', '%2e', '%2E'].map((b) => a + b));
const DOT = ['.', '%2e', '%2E'];

t.test('path confusion over raw sockets against scopegate serve', async (t) => {
  const w = await startWorld();
  t.teardown(() => w.close());
  const reader = w.token('items:read');

  t.test('positive controls: canonical targets are forwarded, to exactly the canonical path', async (t) => {
    const cases: [string, string][] = [
      ['/public/a', '/public/a'],
      ['/public/a?x=1&y=/../admin', '/public/a?x=1&y=/../admin'],
      ...DOT.map((d): [string, string] => [`/public/${d}/a`, '/public/a']),
      ...DOTDOT.map((d): [string, string] => [`/public/x/${d}/a`, '/public/a']),
      ['/public/a/.', '/public/a/'],
      ['/public/a/b/..', '/public/a/'],
      ['/public/%61%62', '/public/ab'],
      ['/public/%7e%7E', '/public/~~'],
      ['/public/a%20b', '/public/a%20b'],
      ['/public/a%3a%40', '/public/a%3A%40'],
      ['/public/%C3%A9', '/public/%C3%A9'],
      ['/public/%25', '/public/%25'],
      ['/public/%25252f', '/public/%25252f'], // triple encoding: see SECURITY.md (allowed)
    ];
    for (const [target, forwarded] of cases) {
      const r = await w.probe(get(target));
      t.equal(r.first?.status, 200, target);
      t.equal(r.delta.length, 1, `${target}: forwarded once`);
      t.equal(r.delta[0]?.url, forwarded, `${target} → ${forwarded}`);
    }
    const items = await w.probe(get('/api/x/../items/7', `Authorization: Bearer ${reader}`));
    t.equal(items.first?.status, 200);
    t.equal(items.delta[0]?.url, '/api/items/7', 'scoped route: forwarded path is the authorized one');
  });

  t.test('dot segments (raw and encoded, every casing) are resolved before matching: /public/../admin is /admin', async (t) => {
    for (const d of DOTDOT) {
      for (const target of [`/public/${d}/admin/x`, `/public/a/${d}/${d}/admin/x`, `/api/items/${d}/../admin/x`]) {
        const anon = await w.probe(get(target));
        t.equal(anon.first?.status, 401, `${target} without a token → admin route's 401`);
        t.equal(anon.first?.json?.error, 'missing_token');
        const r = await w.probe(get(target, `Authorization: Bearer ${reader}`));
        t.equal(r.first?.status, 403, `${target} with items:read → 403 on the admin route`);
        t.same(r.first?.json, { error: 'insufficient_scope', error_description: 'the token needs the scope: admin', scope: 'admin' });
        t.match(r.first?.headers['www-authenticate'], /error="insufficient_scope"/);
        t.equal(anon.delta.length + r.delta.length, 0, `${target}: upstream saw nothing`);
      }
    }
  });

  const rejected: [string, number, string][] = [
    // climbing above the root
    ...DOTDOT.map((d): [string, number, string] => [`/${d}/admin/x`, 400, PATH_ERR.traversal]),
    ...DOTDOT.map((d): [string, number, string] => [`/public/${d}/${d}/admin/x`, 400, PATH_ERR.traversal]),
    ['/..', 400, PATH_ERR.traversal],
    // encoded separators (Istio CVE-2021-31920), any hex case
    ...['%2f', '%2F', '%5c', '%5C'].map((e): [string, number, string] => [`/public/..${e}admin/x`, 400, PATH_ERR.encoded]),
    ...['%2f', '%2F', '%5c', '%5C'].map((e): [string, number, string] => [`/admin${e}x`, 400, PATH_ERR.encoded]),
    // double-encoded separators and dots
    ...['%252f', '%252F', '%255c', '%255C', '%252e', '%252E', '%253b', '%253B'].map((e): [string, number, string] => [`/public/${e}${e}/admin`, 400, PATH_ERR.encoded]),
    ['/public/%25%32%66', 400, PATH_ERR.encoded],
    ['/public/%25%32%65%25%32%65/admin', 400, PATH_ERR.encoded],
    // backslashes, raw
    ['/public/..\\admin\\x', 400, PATH_ERR.backslash],
    ['/public\\..\\admin', 400, PATH_ERR.backslash],
    // `;` path parameters (Tomcat `..;/`), raw and encoded
    ['/public/..;/admin/x', 400, PATH_ERR.param],
    ['/admin;/x', 400, PATH_ERR.param],
    ['/public/a;jsessionid=1', 400, PATH_ERR.param],
    ['/public/..%3b/admin/x', 400, PATH_ERR.param],
    // empty segments
    ['//admin/x', 400, PATH_ERR.empty],
    ['/public//a', 400, PATH_ERR.empty],
    ['/public/a//', 400, PATH_ERR.empty],
    ['//scopegate.test/admin/x', 400, PATH_ERR.empty],
    // NUL and other controls, encoded
    ['/public/%00', 400, PATH_ERR.control],
    ['/public/a%00.json', 400, PATH_ERR.control],
    ['/public/..%00/admin', 400, PATH_ERR.control],
    ['/public/%0d%0aX-Injected:%201', 400, PATH_ERR.control],
    ['/public/%0A', 400, PATH_ERR.control],
    ['/public/%7f', 400, PATH_ERR.control],
    ['/public/%09', 400, PATH_ERR.control],
    // overlong UTF-8 and other invalid sequences (RFC 3629 §3)
    ['/public/%c0%ae%c0%ae/admin', 400, PATH_ERR.percent],
    ['/public/%C0%AE%C0%AE/admin', 400, PATH_ERR.percent],
    ['/public/..%c0%af/admin', 400, PATH_ERR.percent],
    ['/public/..%c1%9c/admin', 400, PATH_ERR.percent],
    ['/public/%e0%80%ae%e0%80%ae/admin', 400, PATH_ERR.percent],
    ['/public/%f0%80%80%af', 400, PATH_ERR.percent],
    ['/public/%ed%a0%80', 400, PATH_ERR.percent], // UTF-16 surrogate
    ['/public/%f4%90%80%80', 400, PATH_ERR.percent], // > U+10FFFF
    ['/public/%ff', 400, PATH_ERR.percent],
    ['/public/%c3', 400, PATH_ERR.percent],
    ['/public/%e2%82', 400, PATH_ERR.percent],
    // malformed percent-encoding, IIS %u
    ['/public/%', 400, PATH_ERR.percent],
    ['/public/%2', 400, PATH_ERR.percent],
    ['/public/%zz', 400, PATH_ERR.percent],
    ['/public/%%32%65', 400, PATH_ERR.percent],
    ['/public/%u002e%u002e/admin', 400, PATH_ERR.percent],
    // request-target forms other than origin-form (RFC 9112 §3.2)
    ['http://scopegate.test/admin/x', 400, PATH_ERR.origin],
    ['HTTP://scopegate.test/public/a', 400, PATH_ERR.origin],
    ['https://evil.example/public/a', 400, PATH_ERR.origin],
    ['*', 400, PATH_ERR.origin],
    // fragments
    ['/public/a#frag', 400, PATH_ERR.fragment],
    ['/public/a?x=1#/../../admin', 400, PATH_ERR.fragment],
    ['/public/#/../admin', 400, PATH_ERR.fragment],
    // characters outside pchar
    ['/public/a"b', 400, PATH_ERR.invalid],
    ['/public/{x}', 400, PATH_ERR.invalid],
    ['/public/a|b', 400, PATH_ERR.invalid],
    ['/public/a`b', 400, PATH_ERR.invalid],
  ];

  t.test(`refused targets answer exactly, and never reach the upstream (${rejected.length} cases)`, async (t) => {
    const before = w.upstream.count;
    for (const [target, status, description] of rejected) {
      for (const auth of [[], [`Authorization: Bearer ${reader}`]]) {
        const r = await w.probe(get(target, ...auth));
        t.equal(r.first?.status, status, `${target}${auth.length ? ' (with token)' : ''}`);
        t.same(r.first?.json, { error: 'invalid_request', error_description: description }, target);
        t.equal(r.delta.length, 0, `${target}: upstream saw nothing`);
      }
    }
    t.equal(w.upstream.count, before);
  });

  t.test('case-sensitive matching: other casings are other paths (404), never the public route', async (t) => {
    for (const target of ['/PUBLIC/a', '/Public/a', '/Admin/x', '/API/items/1']) {
      const r = await w.probe(get(target));
      t.equal(r.first?.status, 404, target);
      t.same(r.first?.json, { error: 'not_found', error_description: 'no route matches this path' });
      t.equal(r.delta.length, 0);
    }
  });

  t.test('bytes the HTTP parser itself refuses: raw NUL, raw non-ASCII, raw space and CR in the target', async (t) => {
    const targets = [Buffer.from('/public/a\x00b', 'latin1'), Buffer.from('/public/\xc3\xa9', 'latin1'), Buffer.from('/public/\xc0\xae\xc0\xae/admin', 'latin1'), Buffer.from('/public/a\rb', 'latin1'), Buffer.from('/public/a\x7fb', 'latin1')];
    for (const target of targets) {
      const bytes = Buffer.concat([Buffer.from('GET '), target, Buffer.from(' HTTP/1.1\r\nHost: scopegate.test\r\n\r\n')]);
      const r = await w.probe(bytes);
      t.equal(r.first?.status, 400, JSON.stringify(target.toString('latin1')));
      t.equal(r.first?.json?.error, 'invalid_request');
      t.equal(r.delta.length, 0);
    }
    // authority-form outside CONNECT, and a target without a leading `/`: llhttp refuses them first
    for (const target of ['scopegate.test:80', 'public/a', 'scopegate.test:80/admin']) {
      const r = await w.probe(get(target));
      t.equal(r.first?.status, 400, target);
      t.same(r.first?.json, { error: 'invalid_request', error_description: 'malformed HTTP request' }, target);
      t.equal(r.delta.length, 0);
    }
    // a raw space splits the request line: `GET /public/a /admin HTTP/1.1` is malformed
    const r = await w.probe('GET /public/a /admin/x HTTP/1.1\r\nHost: scopegate.test\r\n\r\n');
    t.equal(r.first?.status, 400);
    t.equal(r.delta.length, 0);
  });
});
