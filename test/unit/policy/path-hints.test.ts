/** policy/path-hints.ts: which 404 says what, and that a plain miss stays the shared NO_ROUTE; check's hint for /x/{id}. */
import t from 'tap';
import { loadConfigText } from '../../../src/config/load.js';
import { formatConfigIssue } from '../../../src/errors.js';
import { NO_ROUTE } from '../../../src/policy/denials.js';
import { createNotFound } from '../../../src/policy/path-hints.js';
import { compileRouter } from '../../../src/routes/compile.js';

const matcher = compileRouter([
  { template: '/a', methods: ['GET'], data: 1 },
  { template: '/dir/', methods: ['GET'], data: 2 },
  { template: '/files/*', methods: ['GET'], data: 3 },
  { template: '/', methods: ['GET'], data: 4 },
]);
const notFound = createNotFound(matcher);

t.test('trailing slash, either way; any method the twin is routed for', async (t) => {
  t.match(notFound('GET', '/a/'), { status: 404, code: 'ERR_ROUTE_NOT_FOUND', reason: 'no_route', error: 'not_found', description: 'no route matches this path; it would without the trailing slash' });
  t.match(notFound('POST', '/a/'), { description: /without the trailing slash/ }, 'the twin answers 405 for POST: still routed');
  t.match(notFound('GET', '/dir'), { description: 'no route matches this path; it would with a trailing slash' });
  t.ok(Object.isFrozen(notFound('GET', '/a/')), 'built once, shared');
});

t.test('a percent-encoded {param} placeholder', async (t) => {
  t.match(notFound('GET', '/pets/%7BpetId%7D'), { status: 404, reason: 'no_route', description: /\{param\} template placeholder/ });
  t.match(notFound('GET', '/x/%7Bid%7D.json'), { description: /placeholder/ }, 'not a whole segment: still a placeholder');
});

t.test('anything else is the shared NO_ROUTE, unchanged', async (t) => {
  for (const p of ['/b', '/b/', '/a/b', '/x/%7B', '/%7D%7B']) t.equal(notFound('GET', p), NO_ROUTE, p);
  t.equal(createNotFound(compileRouter([{ template: '/a', methods: ['GET'], data: 1 }]))('GET', '/'), NO_ROUTE, '"/" is not looked up as "//"');
});

t.test('check: a route written /x/{id} suggests /x/:id', async (t) => {
  const base = `upstream: { url: "http://127.0.0.1:3000" }
auth: { issuers: [ { issuer: "https://i/", jwks_uri: "https://i/j", audiences: [a] } ] }
routes:
`;
  const { config, issues } = loadConfigText(`${base}  GET /orgs/{orgId}/projects/{project-id}: { auth: token }\n  GET /f/{name}.json: { auth: token }\n`, 'c.yaml');
  t.equal(config, undefined);
  t.same(issues.map(formatConfigIssue), [
    'c.yaml:4:3: routes."GET /orgs/{orgId}/projects/{project-id}": invalid path "/orgs/{orgId}/projects/{project-id}": character not allowed in a path (ERR_PATH_INVALID_CHAR); scopegate writes path parameters as :name: did you mean "/orgs/:orgId/projects/:project_id"?',
    'c.yaml:5:3: routes."GET /f/{name}.json": invalid path "/f/{name}.json": character not allowed in a path (ERR_PATH_INVALID_CHAR); scopegate writes a path parameter as a whole segment :name, not {name}',
  ]);
});
