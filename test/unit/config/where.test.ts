/** where.ts and claims.ts readers: route conditions and claim references, with positions. */
import t from 'tap';
import { readClaimRef, readScopeClaims, readTenants, readRequireClaims } from '../../../src/config/claims.js';
import { readRoutes } from '../../../src/config/routes.js';
import type { Reporter, YNode } from '../../../src/config/yaml-reader.js';
import { readYaml } from './read-yaml.js';

const routes = (text: string) => readYaml(text, (node: YNode, path: string, r: Reporter) => readRoutes(node, path, r, 'f.yaml'), 'routes');

t.test('where: string and path claims are read in file order', async (t) => {
  const { value, issues } = routes('GET /orgs/:orgId/users/:userId: { scope: a, where: { orgId: { claim: org_id }, userId: { claim: { path: [ext, uid] } } } }\n');
  t.same(issues, []);
  t.same(value?.[0]?.where, [
    { param: 'orgId', claim: 'org_id' },
    { param: 'userId', claim: { path: ['ext', 'uid'] } },
  ]);
});

t.test('a condition naming a parameter the route lacks is an error at the parameter', async (t) => {
  const { value, issues } = routes('GET /orgs/:orgId: { scope: a, where: { org: { claim: org_id } } }\n');
  t.equal(value, undefined);
  t.same(issues, ['1:40 routes."GET /orgs/:orgId".where.org: names no parameter of this route: its parameters are :orgId']);
  t.same(routes('GET /me: { auth: token, where: { id: { claim: sub } } }\n').issues, ['1:34 routes."GET /me".where.id: names no parameter of this route: the route has no parameters']);
  t.same(routes('GET /a/*: { auth: token, where: { "*": { claim: sub } } }\n').issues.length, 1, 'the wildcard is not a parameter a condition may name');
});

t.test('malformed conditions', async (t) => {
  t.same(routes('GET /a/:id: { auth: token, where: { id: { clam: sub } } }\n').issues, ['1:43 routes."GET /a/:id".where.id.clam: unknown key "clam" (did you mean claim?); a condition is { claim: NAME } or { claim: { path: [...] } }']);
  t.same(routes('GET /a/:id: { auth: token, where: {} }\n').issues, ['1:35 routes."GET /a/:id".where: must name at least one route parameter']);
  t.same(routes('GET /a/:id: { auth: none, where: { id: { claim: sub } } }\n').issues, ['1:13 routes."GET /a/:id": where: needs a token to read claims from, so the route cannot be { auth: none }']);
});

t.test('claim references: literal names (dots kept) or { path }', async (t) => {
  t.same(readYaml('https://example.com/roles', readClaimRef).value, 'https://example.com/roles');
  t.same(readYaml('{ path: [realm_access, roles] }', readClaimRef).value, { path: ['realm_access', 'roles'] });
  t.same(readYaml('{ path: [] }', readClaimRef).issues, ['1:9 x.path: must not be empty']);
  t.same(readYaml('{}', readClaimRef).issues, ['1:1 x: missing required key "path"']);
  t.same(readYaml('[scope, scope]', readScopeClaims).issues, ['1:9 x[1]: duplicate "scope"']);
});

t.test('tenants and require_claims', async (t) => {
  t.same(readYaml('[any]', readTenants).value, ['any']);
  t.same(readYaml('[any, abc]', readTenants).issues, ['1:1 x: [any] accepts every tenant and stands alone']);
  t.same(readYaml(`[${'a'.repeat(65)}]`, readTenants).issues.length, 1, 'at most 64 characters');
  t.same(readYaml('{ token_use: access }', readRequireClaims).value, { token_use: 'access' });
  t.same(readYaml('{ n: 1 }', readRequireClaims).issues, ['1:6 x.n: must be a string, got number 1']);
});
