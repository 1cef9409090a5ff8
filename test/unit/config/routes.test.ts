/** routes.ts: route keys, requirements, and the requirement's JSON Schema. */
import t from 'tap';
import { ROUTE_DEFS, readRoutes } from '../../../src/config/routes.js';
import type { Reporter, YNode } from '../../../src/config/yaml-reader.js';
import { readYaml } from './read-yaml.js';

const routes = (text: string) => readYaml(text, (node: YNode, path: string, r: Reporter) => readRoutes(node, path, r, 'f.yaml'), 'routes');

t.test('keys and requirements are read with their positions', async (t) => {
  const { value, issues } = routes('GET,POST /a/:id: a:read\n"* /b": { any_of: [x, y], mode: shadow }\n');
  t.same(issues, [], 'the "*" warning is lint.ts\'s, not the reader\'s');
  t.same(value?.map((r) => [r.methods.length, r.anyMethod, r.path, r.requirement, r.mode, r.position.line]), [
    [2, false, '/a/:id', { kind: 'all_of', scopes: ['a:read'] }, undefined, 1],
    [7, true, '/b', { kind: 'any_of', scopes: ['x', 'y'] }, 'shadow', 2],
  ]);
});

t.test('one problem, one message at its key or value', async (t) => {
  t.same(routes('get /a: x\n').issues, ['1:1 routes."get /a": unknown method get (methods are upper-case: GET)']);
  t.same(routes('GET /a: { scope: x, auth: none }\n').issues, ['1:21 routes."GET /a".auth: cannot be combined with scope: a route has exactly one of scope, auth, any_of, all_of']);
  t.same(routes('GET /a: { mode: shadow }\n').issues.length, 1);
  t.same(routes('POST /me: { auth: token, respond: token_info }\n').issues, ['1:1 routes."POST /me": respond: token_info answers GET (and HEAD) only']);
  t.match(routes('GET /a/:x: x\nGET /a/:y: y\n').issues, [/^2:1 routes."GET \/a\/:y": cannot be told apart from "GET \/a\/:x" \(line 1\)/]);
  t.equal(routes('GET /a/:x: x\nGET /a/:y: y\n').value, undefined);
});

t.test('the requirement schema has one branch per requirement key, each with the route options', async (t) => {
  const branches = (ROUTE_DEFS.requirement as { oneOf: Array<{ required?: string[]; properties?: Record<string, unknown> }> }).oneOf;
  t.same(branches.map((b) => b.required?.[0]), [undefined, 'scope', 'auth', 'any_of', 'all_of']);
  for (const b of branches.slice(1)) t.same(Object.keys(b.properties ?? {}).slice(1), ['mode', 'respond', 'websocket', 'sender_constrained', 'where']);
});
