/**
 * One router conformance table, run against every Matcher implementation
 * (reference.ts and compile.ts), after the request target goes through
 * canonicalizeTarget exactly as the request path does in production.
 */
import type { PathErrorCode } from '../../src/errors.js';
import type { RouteDefinition } from '../../src/routes/types.js';

export type Expect =
  | { readonly found: string; readonly params?: Readonly<Record<string, string>>; readonly via?: string }
  | { readonly notAllowed: readonly string[]; readonly template: string }
  | { readonly noRoute: true }
  | { readonly badRequest: PathErrorCode };

export interface RouterCase {
  readonly method: string;
  readonly target: string;
  readonly expect: Expect;
  readonly note?: string;
}

export interface RouterGroup {
  readonly name: string;
  /** Keys are `METHODS TEMPLATE`; a route's data is its key, so `via` can say which route answered. */
  readonly routes: readonly string[];
  readonly cases: readonly RouterCase[];
}

export function routeDefs(routes: readonly string[]): RouteDefinition<string>[] {
  return routes.map((key) => {
    const [methods, template] = key.split(' ') as [string, string];
    return { template, methods: methods.split(','), data: key };
  });
}

const NO: Expect = { noRoute: true };

export const GROUPS: readonly RouterGroup[] = [
  {
    name: 'static',
    routes: ['GET /', 'GET /a', 'GET /a/', 'GET,POST /a/b', 'GET /users/me', 'GET /v1/projects:batchGet'],
    cases: [
      { method: 'GET', target: '/', expect: { found: '/' } },
      { method: 'GET', target: '/a', expect: { found: '/a' } },
      { method: 'GET', target: '/a/', expect: { found: '/a/' }, note: 'trailing slash is a different route' },
      { method: 'GET', target: '/a/b', expect: { found: '/a/b' } },
      { method: 'POST', target: '/a/b', expect: { found: '/a/b' } },
      { method: 'GET', target: '/a/b/', expect: NO, note: 'trailing slash is significant' },
      { method: 'GET', target: '/a/b/c', expect: NO },
      { method: 'GET', target: '/b', expect: NO },
      { method: 'GET', target: '/A', expect: NO, note: 'case-sensitive' },
      { method: 'GET', target: '/USERS/ME', expect: NO, note: 'case-sensitive' },
      { method: 'GET', target: '/users/me', expect: { found: '/users/me' } },
      { method: 'GET', target: '/users', expect: NO },
      { method: 'GET', target: '/users/m', expect: NO, note: 'no prefix matching' },
      { method: 'GET', target: '/users/mee', expect: NO, note: 'no prefix matching' },
      { method: 'GET', target: '/v1/projects:batchGet', expect: { found: '/v1/projects:batchGet' } },
      { method: 'GET', target: '/a/b?x=1', expect: { found: '/a/b' }, note: 'query is not part of the match' },
    ],
  },
  {
    name: 'params',
    routes: ['GET /users/:id', 'GET /users/:id/posts/:postId', 'GET /orgs/:org/members/', 'GET /x/:a/:b/:c'],
    cases: [
      { method: 'GET', target: '/users/42', expect: { found: '/users/:id', params: { id: '42' } } },
      { method: 'GET', target: '/users/', expect: NO, note: 'a param needs a non-empty segment' },
      { method: 'GET', target: '/users', expect: NO },
      { method: 'GET', target: '/users/42/', expect: NO },
      { method: 'GET', target: '/users/42/posts/7', expect: { found: '/users/:id/posts/:postId', params: { id: '42', postId: '7' } } },
      { method: 'GET', target: '/users/42/posts/', expect: NO },
      { method: 'GET', target: '/users/42/posts', expect: NO },
      { method: 'GET', target: '/users/a.b', expect: { found: '/users/:id', params: { id: 'a.b' } } },
      { method: 'GET', target: '/users/:id', expect: { found: '/users/:id', params: { id: ':id' } } },
      { method: 'GET', target: '/users/*', expect: { found: '/users/:id', params: { id: '*' } } },
      { method: 'GET', target: '/orgs/acme/members/', expect: { found: '/orgs/:org/members/', params: { org: 'acme' } } },
      { method: 'GET', target: '/orgs/acme/members', expect: NO },
      { method: 'GET', target: '/x/1/2/3', expect: { found: '/x/:a/:b/:c', params: { a: '1', b: '2', c: '3' } } },
      { method: 'GET', target: '/x/1/2', expect: NO },
    ],
  },
  {
    name: 'wildcard',
    routes: ['GET /static/*', 'GET /files/:bucket/*'],
    cases: [
      { method: 'GET', target: '/static/', expect: { found: '/static/*', params: { '*': '' } } },
      { method: 'GET', target: '/static', expect: NO, note: '* needs the slash' },
      { method: 'GET', target: '/static/a', expect: { found: '/static/*', params: { '*': 'a' } } },
      { method: 'GET', target: '/static/a/b/c.css', expect: { found: '/static/*', params: { '*': 'a/b/c.css' } } },
      { method: 'GET', target: '/static/a/', expect: { found: '/static/*', params: { '*': 'a/' } } },
      { method: 'GET', target: '/staticx/a', expect: NO },
      { method: 'GET', target: '/files/b1/k/e/y', expect: { found: '/files/:bucket/*', params: { bucket: 'b1', '*': 'k/e/y' } } },
      { method: 'GET', target: '/files/b1/', expect: { found: '/files/:bucket/*', params: { bucket: 'b1', '*': '' } } },
      { method: 'GET', target: '/files/b1', expect: NO },
    ],
  },
  {
    name: 'priority and backtracking',
    routes: ['GET /a/b/c', 'GET /a/:x/d', 'GET /a/:x', 'GET /a/*', 'GET /a/static'],
    cases: [
      { method: 'GET', target: '/a/static', expect: { found: '/a/static' }, note: 'static beats :param' },
      { method: 'GET', target: '/a/other', expect: { found: '/a/:x', params: { x: 'other' } }, note: ':param beats *' },
      { method: 'GET', target: '/a/b/c', expect: { found: '/a/b/c' } },
      { method: 'GET', target: '/a/b/d', expect: { found: '/a/:x/d', params: { x: 'b' } }, note: 'static branch dead-ends, backtrack to :param' },
      { method: 'GET', target: '/a/b/e', expect: { found: '/a/*', params: { '*': 'b/e' } }, note: 'backtrack to *' },
      { method: 'GET', target: '/a/b', expect: { found: '/a/:x', params: { x: 'b' } } },
      { method: 'GET', target: '/a/', expect: { found: '/a/*', params: { '*': '' } }, note: 'empty segment: not :param, but *' },
      { method: 'GET', target: '/a', expect: NO },
      { method: 'GET', target: '/a/static/d', expect: { found: '/a/:x/d', params: { x: 'static' } } },
    ],
  },
  {
    name: 'deep backtracking',
    routes: ['GET /x/y/z/1', 'GET /x/:a/z/2', 'GET /x/:a/:b/3', 'GET /x/*', 'GET /x/y/:c/4'],
    cases: [
      { method: 'GET', target: '/x/y/z/1', expect: { found: '/x/y/z/1' } },
      { method: 'GET', target: '/x/y/z/2', expect: { found: '/x/:a/z/2', params: { a: 'y' } } },
      { method: 'GET', target: '/x/y/z/3', expect: { found: '/x/:a/:b/3', params: { a: 'y', b: 'z' } } },
      { method: 'GET', target: '/x/y/z/4', expect: { found: '/x/y/:c/4', params: { c: 'z' } } },
      { method: 'GET', target: '/x/y/z/5', expect: { found: '/x/*', params: { '*': 'y/z/5' } } },
      { method: 'GET', target: '/x/q/z/1', expect: { found: '/x/*', params: { '*': 'q/z/1' } } },
    ],
  },
  {
    name: 'methods, HEAD fallback and 405',
    routes: ['GET,POST /reports/:id', 'DELETE /projects/:id', 'HEAD /h', 'GET /h', '* /any/*', 'PUT /only-put', 'GET /g'],
    cases: [
      { method: 'GET', target: '/reports/1', expect: { found: '/reports/:id', params: { id: '1' } } },
      { method: 'HEAD', target: '/reports/1', expect: { found: '/reports/:id', params: { id: '1' } }, note: 'HEAD falls back to GET' },
      { method: 'DELETE', target: '/reports/1', expect: { notAllowed: ['GET', 'HEAD', 'POST'], template: '/reports/:id' } },
      { method: 'GET', target: '/projects/1', expect: { notAllowed: ['DELETE'], template: '/projects/:id' } },
      { method: 'HEAD', target: '/projects/1', expect: { notAllowed: ['DELETE'], template: '/projects/:id' } },
      { method: 'HEAD', target: '/h', expect: { found: '/h', via: 'HEAD /h' }, note: 'an explicit HEAD route wins over the GET fallback' },
      { method: 'GET', target: '/h', expect: { found: '/h', via: 'GET /h' } },
      { method: 'OPTIONS', target: '/any/x', expect: { found: '/any/*', params: { '*': 'x' } }, note: '* serves every method' },
      { method: 'BREW', target: '/any/', expect: { found: '/any/*', params: { '*': '' } } },
      { method: 'HEAD', target: '/only-put', expect: { notAllowed: ['PUT'], template: '/only-put' } },
      { method: 'get', target: '/g', expect: { notAllowed: ['GET', 'HEAD'], template: '/g' }, note: 'methods are case-sensitive' },
      { method: 'POST', target: '/g', expect: { notAllowed: ['GET', 'HEAD'], template: '/g' } },
      { method: 'GET', target: '/nothing', expect: NO },
    ],
  },
  {
    name: 'method table consulted during the walk (find-my-way semantics)',
    routes: ['POST /a/b', 'GET /a/:x', 'PUT /a/*', 'GET /c/:y/d', 'POST /c/*'],
    cases: [
      { method: 'GET', target: '/a/b', expect: { found: '/a/:x', params: { x: 'b' } }, note: 'static node lacks GET; the :param node has it' },
      { method: 'HEAD', target: '/a/b', expect: { found: '/a/:x', params: { x: 'b' } } },
      { method: 'POST', target: '/a/b', expect: { found: '/a/b' } },
      { method: 'PUT', target: '/a/b', expect: { found: '/a/*', params: { '*': 'b' } } },
      { method: 'DELETE', target: '/a/b', expect: { notAllowed: ['GET', 'HEAD', 'POST', 'PUT'], template: '/a/b' }, note: 'Allow is the union over every route matching the path' },
      { method: 'DELETE', target: '/a/z', expect: { notAllowed: ['GET', 'HEAD', 'PUT'], template: '/a/:x' } },
      { method: 'DELETE', target: '/a/z/w', expect: { notAllowed: ['PUT'], template: '/a/*' } },
      { method: 'POST', target: '/c/1/d', expect: { found: '/c/*', params: { '*': '1/d' } } },
      { method: 'PUT', target: '/c/1/d', expect: { notAllowed: ['GET', 'HEAD', 'POST'], template: '/c/:y/d' } },
    ],
  },
  {
    name: 'same shape, disjoint methods',
    routes: ['GET /a/:x', 'POST /a/:y', 'DELETE /a/:z/'],
    cases: [
      { method: 'GET', target: '/a/1', expect: { found: '/a/:x', params: { x: '1' } } },
      { method: 'POST', target: '/a/1', expect: { found: '/a/:y', params: { y: '1' } } },
      { method: 'HEAD', target: '/a/1', expect: { found: '/a/:x', params: { x: '1' } } },
      { method: 'PUT', target: '/a/1', expect: { notAllowed: ['GET', 'HEAD', 'POST'], template: '/a/:x' }, note: 'template of the first route defined for the shape' },
      { method: 'DELETE', target: '/a/1/', expect: { found: '/a/:z/', params: { z: '1' } } },
    ],
  },
  {
    name: 'request targets are canonicalized first',
    routes: ['GET /files/:name', 'GET /~user', 'GET /a/b', 'GET /a/%C3%A9'],
    cases: [
      { method: 'GET', target: '/%7Euser', expect: { found: '/~user' } },
      { method: 'GET', target: '/%7euser', expect: { found: '/~user' } },
      { method: 'GET', target: '/a/%62', expect: { found: '/a/b' } },
      { method: 'GET', target: '/%61/b', expect: { found: '/a/b' } },
      { method: 'GET', target: '/a/./b', expect: { found: '/a/b' } },
      { method: 'GET', target: '/a/c/../b', expect: { found: '/a/b' } },
      { method: 'GET', target: '/a/c/%2e%2E/b', expect: { found: '/a/b' } },
      { method: 'GET', target: '/a/%c3%a9', expect: { found: '/a/%C3%A9' } },
      { method: 'GET', target: '/files/%c3%a9', expect: { found: '/files/:name', params: { name: '%C3%A9' } } },
      { method: 'GET', target: '/files/x%3ay', expect: { found: '/files/:name', params: { name: 'x%3Ay' } } },
      { method: 'GET', target: '/files/a%2Fb', expect: { badRequest: 'ERR_PATH_ENCODED_SEPARATOR' } },
      { method: 'GET', target: '/files/a%5cb', expect: { badRequest: 'ERR_PATH_ENCODED_SEPARATOR' } },
      { method: 'GET', target: '/files/a%252fb', expect: { badRequest: 'ERR_PATH_ENCODED_SEPARATOR' } },
      { method: 'GET', target: '/files/%2e%2e', expect: NO, note: 'decodes to /files/.. which is /' },
      { method: 'GET', target: '//a/b', expect: { badRequest: 'ERR_PATH_EMPTY_SEGMENT' } },
      { method: 'GET', target: '/a//b', expect: { badRequest: 'ERR_PATH_EMPTY_SEGMENT' } },
      { method: 'GET', target: '/a/b#frag', expect: { badRequest: 'ERR_PATH_FRAGMENT' } },
      { method: 'OPTIONS', target: '*', expect: { badRequest: 'ERR_PATH_NOT_ORIGIN_FORM' } },
      { method: 'GET', target: 'http://evil.example/a/b', expect: { badRequest: 'ERR_PATH_NOT_ORIGIN_FORM' } },
      { method: 'GET', target: '/a/b;x=1', expect: { badRequest: 'ERR_PATH_PARAMETER' } },
      { method: 'GET', target: '/files/..;/a/b', expect: { badRequest: 'ERR_PATH_PARAMETER' } },
      { method: 'GET', target: '/../a/b', expect: { badRequest: 'ERR_PATH_TRAVERSAL' } },
      { method: 'GET', target: '/a\\b', expect: { badRequest: 'ERR_PATH_BACKSLASH' } },
      { method: 'GET', target: '/files/%00', expect: { badRequest: 'ERR_PATH_CONTROL_CHAR' } },
      { method: 'GET', target: '/files/%C0%AE', expect: { badRequest: 'ERR_PATH_BAD_PERCENT' } },
      { method: 'GET', target: '/A/b', expect: NO, note: 'case-sensitive after decoding' },
      { method: 'GET', target: '/%41/b', expect: NO, note: '%41 is A, not a' },
    ],
  },
  {
    name: 'root wildcard',
    routes: ['GET /*', 'GET /health', 'POST /health/'],
    cases: [
      { method: 'GET', target: '/', expect: { found: '/*', params: { '*': '' } } },
      { method: 'GET', target: '/health', expect: { found: '/health' } },
      { method: 'GET', target: '/health/', expect: { found: '/*', params: { '*': 'health/' } } },
      { method: 'GET', target: '/x/y', expect: { found: '/*', params: { '*': 'x/y' } } },
      { method: 'POST', target: '/x', expect: { notAllowed: ['GET', 'HEAD'], template: '/*' } },
      { method: 'POST', target: '/health/', expect: { found: '/health/' } },
    ],
  },
  {
    name: 'empty table',
    routes: [],
    cases: [
      { method: 'GET', target: '/', expect: NO },
      { method: 'GET', target: '/a', expect: NO },
    ],
  },
];
