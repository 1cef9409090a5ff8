import t from 'tap';
import fc from 'fast-check';
import { PathError, type PathErrorCode } from '../../../src/errors.js';
import { canonicalizePath, canonicalizeTarget, PATH_ERRORS } from '../../../src/routes/normalize.js';

// [target, expected path (or error code), expected query]
const ACCEPT: readonly [string, string, string][] = [
  ['/', '/', ''],
  ['/a', '/a', ''],
  ['/a/', '/a/', ''],
  ['/a/b?x=1&y=%2F', '/a/b', '?x=1&y=%2F'],
  ['/?', '/', '?'],
  ['/a?b?c', '/a', '?b?c'],
  ['/a?q=..//x\\', '/a', '?q=..//x\\'],
  ['/A/b', '/A/b', ''],
  ['/a/./b', '/a/b', ''],
  ['/a/b/../c', '/a/c', ''],
  ['/a/.', '/a/', ''],
  ['/a/..', '/', ''],
  ['/a/b/..', '/a/', ''],
  ['/.', '/', ''],
  ['/./', '/', ''],
  ['/a/../', '/', ''],
  ['/a/%2e/b', '/a/b', ''],
  ['/a/%2E%2e/b', '/b', ''],
  ['/a/.%2e/b', '/b', ''],
  ['/%41%42c', '/ABc', ''],
  ['/%7e%7Euser', '/~~user', ''],
  ['/%2d%5f%2E%7E', '/-_.~', ''],
  ['/a%2eb', '/a.b', ''],
  ['/%3a%40%21', '/%3A%40%21', ''],
  // '/%3B' is refused since the encoded-semicolon fix: see test/security/regression-encoded-semicolon.test.ts
  ['/%3f', '/%3F', ''],
  ['/%25', '/%25', ''],
  ['/%2541', '/%2541', ''],
  ['/%e2%82%ac', '/%E2%82%AC', ''],
  ['/%C3%A9t%C3%A9', '/%C3%A9t%C3%A9', ''],
  ['/%F0%9F%98%80', '/%F0%9F%98%80', ''],
  ['/%EF%BF%BF', '/%EF%BF%BF', ''],
  ['/%F4%8F%BF%BF', '/%F4%8F%BF%BF', ''],
  ['/.well-known/jwks.json', '/.well-known/jwks.json', ''],
  ['/a..b/...', '/a..b/...', ''],
  ["/a:b@c!$&'()*+,=", "/a:b@c!$&'()*+,=", ''],
  ['/v1/projects:batchGet', '/v1/projects:batchGet', ''],
];

const REJECT: readonly [string, PathErrorCode][] = [
  ['', 'ERR_PATH_EMPTY'],
  ['*', 'ERR_PATH_NOT_ORIGIN_FORM'],
  ['http://x/y', 'ERR_PATH_NOT_ORIGIN_FORM'],
  ['HTTP://x/y', 'ERR_PATH_NOT_ORIGIN_FORM'],
  ['example.com:443', 'ERR_PATH_NOT_ORIGIN_FORM'],
  ['a/b', 'ERR_PATH_NOT_ORIGIN_FORM'],
  ['?a', 'ERR_PATH_NOT_ORIGIN_FORM'],
  ['/a#b', 'ERR_PATH_FRAGMENT'],
  ['/a?b#c', 'ERR_PATH_FRAGMENT'],
  ['/#', 'ERR_PATH_FRAGMENT'],
  ['//', 'ERR_PATH_EMPTY_SEGMENT'],
  ['//admin', 'ERR_PATH_EMPTY_SEGMENT'],
  ['/a//b', 'ERR_PATH_EMPTY_SEGMENT'],
  ['/a/b//', 'ERR_PATH_EMPTY_SEGMENT'],
  ['/a%2fb', 'ERR_PATH_ENCODED_SEPARATOR'],
  ['/a%2Fb', 'ERR_PATH_ENCODED_SEPARATOR'],
  ['/a%5cb', 'ERR_PATH_ENCODED_SEPARATOR'],
  ['/a%5Cb', 'ERR_PATH_ENCODED_SEPARATOR'],
  ['/a%252Fb', 'ERR_PATH_ENCODED_SEPARATOR'],
  ['/a%252fb', 'ERR_PATH_ENCODED_SEPARATOR'],
  ['/a%255cb', 'ERR_PATH_ENCODED_SEPARATOR'],
  ['/%252e%252e/x', 'ERR_PATH_ENCODED_SEPARATOR'],
  ['/%252E', 'ERR_PATH_ENCODED_SEPARATOR'],
  ['/%25%32%46', 'ERR_PATH_ENCODED_SEPARATOR'],
  ['/%25%35c', 'ERR_PATH_ENCODED_SEPARATOR'],
  ['/%25%32e', 'ERR_PATH_ENCODED_SEPARATOR'],
  ['/a\\b', 'ERR_PATH_BACKSLASH'],
  ['/\\\\evil', 'ERR_PATH_BACKSLASH'],
  ['/a\u0000b', 'ERR_PATH_CONTROL_CHAR'],
  ['/a\nb', 'ERR_PATH_CONTROL_CHAR'],
  ['/a\tb', 'ERR_PATH_CONTROL_CHAR'],
  ['/a\u007fb', 'ERR_PATH_CONTROL_CHAR'],
  ['/a b', 'ERR_PATH_CONTROL_CHAR'],
  ['/caf\u00e9', 'ERR_PATH_CONTROL_CHAR'],
  ['/\u2028', 'ERR_PATH_CONTROL_CHAR'],
  ['/%00', 'ERR_PATH_CONTROL_CHAR'],
  ['/%0d%0a', 'ERR_PATH_CONTROL_CHAR'],
  ['/%7F', 'ERR_PATH_CONTROL_CHAR'],
  ['/%', 'ERR_PATH_BAD_PERCENT'],
  ['/%4', 'ERR_PATH_BAD_PERCENT'],
  ['/%4/', 'ERR_PATH_BAD_PERCENT'],
  ['/%G1', 'ERR_PATH_BAD_PERCENT'],
  ['/%%41', 'ERR_PATH_BAD_PERCENT'],
  ['/%C0%AF', 'ERR_PATH_BAD_PERCENT'],
  ['/%c1%9c', 'ERR_PATH_BAD_PERCENT'],
  ['/%E0%80%AF', 'ERR_PATH_BAD_PERCENT'],
  ['/%F0%80%80%AF', 'ERR_PATH_BAD_PERCENT'],
  ['/%80', 'ERR_PATH_BAD_PERCENT'],
  ['/%BF', 'ERR_PATH_BAD_PERCENT'],
  ['/%C3', 'ERR_PATH_BAD_PERCENT'],
  ['/%C3a', 'ERR_PATH_BAD_PERCENT'],
  ['/%C3%41', 'ERR_PATH_BAD_PERCENT'],
  ['/%E2%82', 'ERR_PATH_BAD_PERCENT'],
  ['/%ED%A0%80', 'ERR_PATH_BAD_PERCENT'],
  ['/%F4%90%80%80', 'ERR_PATH_BAD_PERCENT'],
  ['/%F5%80%80%80', 'ERR_PATH_BAD_PERCENT'],
  ['/%FF', 'ERR_PATH_BAD_PERCENT'],
  ['/a;b', 'ERR_PATH_PARAMETER'],
  ['/..;/admin', 'ERR_PATH_PARAMETER'],
  ['/a;jsessionid=1', 'ERR_PATH_PARAMETER'],
  ['/..', 'ERR_PATH_TRAVERSAL'],
  ['/../a', 'ERR_PATH_TRAVERSAL'],
  ['/a/../..', 'ERR_PATH_TRAVERSAL'],
  ['/a/../../b', 'ERR_PATH_TRAVERSAL'],
  ['/%2e%2e/etc/passwd', 'ERR_PATH_TRAVERSAL'],
  ['/./..', 'ERR_PATH_TRAVERSAL'],
  ['/a"b', 'ERR_PATH_INVALID_CHAR'],
  ['/<script>', 'ERR_PATH_INVALID_CHAR'],
  ['/{a}', 'ERR_PATH_INVALID_CHAR'],
  ['/a|b', 'ERR_PATH_INVALID_CHAR'],
  ['/a^b', 'ERR_PATH_INVALID_CHAR'],
  ['/a`b', 'ERR_PATH_INVALID_CHAR'],
  ['/[::1]', 'ERR_PATH_INVALID_CHAR'],
];

// Assertion names are TAP lines: escape everything but printable ASCII (U+2028 would split the line).
const show = (s: string): string => JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

t.test('accepted targets: example table', async (t) => {
  for (const [target, path, query] of ACCEPT) {
    const r = canonicalizeTarget(target);
    t.same(r, { path, query }, show(target));
  }
});

t.test('rejected targets: example table', async (t) => {
  for (const [target, code] of REJECT) {
    const r = canonicalizeTarget(target);
    t.ok(r instanceof PathError, `${show(target)} is rejected`);
    t.equal((r as PathError).code, code, show(target));
    t.equal((r as PathError).status, 400);
  }
});

t.test('fast path returns the input itself', async (t) => {
  const target = '/api/oauth-client/organizations/123/projects';
  const r = canonicalizeTarget(target);
  t.ok(!(r instanceof PathError) && r.path === target && r.query === '');
});

t.test('errors are shared frozen values, one per code', async (t) => {
  t.equal(canonicalizeTarget('/..'), PATH_ERRORS.ERR_PATH_TRAVERSAL);
  t.equal(canonicalizeTarget('/a/../..'), PATH_ERRORS.ERR_PATH_TRAVERSAL);
  t.ok(Object.isFrozen(PATH_ERRORS.ERR_PATH_TRAVERSAL));
  for (const [code, err] of Object.entries(PATH_ERRORS)) t.equal(err.code, code);
});

t.test('limits', async (t) => {
  const limits = { maxTargetBytes: 20, maxSegments: 3 };
  t.same(canonicalizeTarget('/a/b/c', limits), { path: '/a/b/c', query: '' });
  t.equal((canonicalizeTarget('/a/b/c/d', limits) as PathError).code, 'ERR_PATH_TOO_LONG');
  // Counted on the canonical path: dot segments do not count.
  t.same(canonicalizeTarget('/a/./b/../c', limits), { path: '/a/c', query: '' });
  t.equal((canonicalizeTarget('/abcdefghij?klmnopqrstu', limits) as PathError).code, 'ERR_PATH_TOO_LONG');
  t.same(canonicalizeTarget('/abcdefghij?klmnopqr', limits), { path: '/abcdefghij', query: '?klmnopqr' });
  // Bytes, not UTF-16 units: 7 × 3-byte characters in the query.
  t.equal((canonicalizeTarget('/?€€€€€€€', { maxTargetBytes: 20, maxSegments: 3 }) as PathError).code, 'ERR_PATH_TOO_LONG');
});

t.test('canonicalizePath: templates and paths without query', async (t) => {
  t.equal(canonicalizePath('/a/:id/*'), '/a/:id/*');
  t.equal(canonicalizePath('/a/./%7e:x'), '/a/~:x');
  t.equal((canonicalizePath('/a?b') as PathError).code, 'ERR_PATH_INVALID_CHAR');
  t.equal((canonicalizePath('/a#b') as PathError).code, 'ERR_PATH_FRAGMENT');
  t.equal((canonicalizePath('a') as PathError).code, 'ERR_PATH_NOT_ORIGIN_FORM');
});

// Pieces chosen to hit every branch: dots, separators, percent forms (good, bad, double), specials.
const PIECES = [
  '/', '/', '/', 'a', 'B', 'z9', '.', '..', '...', '~', '-', '_', ':', '@', '*', '!', "'",
  '%', '%2', '%2e', '%2E', '%2f', '%2F', '%5c', '%41', '%61', '%7e', '%7E', '%25', '%252F', '%252e', '%32', '%46',
  '%3a', '%3B', '%C3%A9', '%c3', '%a9', '%E2%82%AC', '%F0%9F%98%80', '%ED%A0%80', '%C0%AF', '%00', '%zz',
  ';', '\\', '?', '#', ' ', '\u00e9', '\u0000', '"', '{', '[',
];
const pieceTarget = fc.array(fc.constantFrom(...PIECES), { maxLength: 16 }).map((p) => '/' + p.join(''));
const anyTarget = fc.oneof(pieceTarget, pieceTarget, fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }).map((s) => '/' + s));
const RUNS = { numRuns: 1000 };

const ENCODED_UNRESERVED = /%(3[0-9]|4[1-9A-F]|5[0-9A]|6[1-9A-F]|7[0-9A]|2D|2E|5F|7E)/i;

t.test('property: only values come out, never a throw', async (t) => {
  fc.assert(fc.property(anyTarget, (target) => {
    const r = canonicalizeTarget(target);
    return r instanceof PathError || (typeof r.path === 'string' && typeof r.query === 'string');
  }), RUNS);
  fc.assert(fc.property(anyTarget, (target) => {
    const r = canonicalizePath(target);
    return r instanceof PathError || typeof r === 'string';
  }), RUNS);
  t.pass();
});

t.test('property: idempotent, and accepted output round-trips', async (t) => {
  fc.assert(fc.property(anyTarget, (target) => {
    const r = canonicalizeTarget(target);
    if (r instanceof PathError) return true;
    const again = canonicalizeTarget(r.path + r.query);
    if (again instanceof PathError) return false;
    return again.path === r.path && again.query === r.query && canonicalizePath(r.path) === r.path;
  }), RUNS);
  t.pass();
});

t.test('property: output never holds ambiguous forms', async (t) => {
  fc.assert(fc.property(anyTarget, (target) => {
    const r = canonicalizeTarget(target);
    if (r instanceof PathError) return true;
    const p = r.path;
    return p.startsWith('/') &&
      !p.includes('//') && !p.includes('/./') && !p.includes('/../') &&
      !p.endsWith('/.') && !p.endsWith('/..') &&
      !/%2F|%5C/i.test(p) && !/%25(2F|5C|2E)/i.test(p) &&
      !ENCODED_UNRESERVED.test(p) &&
      !/%[0-9A-F]?[a-f]/.test(p) && // hex is upper case
      !/[;\\#?\s\u0000-\u001f\u007f-\uffff]/.test(p) &&
      target.endsWith(r.query);
  }), RUNS);
  t.pass();
});

t.test('property: agrees with a decode-based oracle on what the path means', async (t) => {
  // Every accepted path decodes (as UTF-8) to the same text as the input's path after
  // the same dot-segment removal: canonicalization never changes meaning.
  const pathOnly = pieceTarget.filter((s) => !/[?#]/.test(s));
  fc.assert(fc.property(pathOnly, (target) => {
    const r = canonicalizeTarget(target);
    if (r instanceof PathError) return true;
    const decodedSegments = target.slice(1).split('/').map((s) => decodeURIComponent(s));
    const out: string[] = [];
    decodedSegments.forEach((s, i) => {
      const last = i === decodedSegments.length - 1;
      if (s === '..') out.pop();
      if (s === '.' || s === '..') { if (last) out.push(''); } else out.push(s);
    });
    return decodeURIComponent(r.path) === '/' + out.join('/');
  }), RUNS);
  t.pass();
});
