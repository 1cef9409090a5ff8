/** `check` warns of every write method (POST, PUT, PATCH, DELETE) served by a route that needs no scope. */
import t from 'tap';
import type { Test } from 'tap';
import { loadConfigText } from '../../../src/config/load.js';
import { formatConfigIssue } from '../../../src/errors.js';
import { testConfigYaml } from '../../helpers/config.js';

/** The warnings of a config with these route lines, without their `file:line:col: ` prefix. */
function warnings(t: Test, routes: readonly string[]): string[] {
  const { config, issues } = loadConfigText(testConfigYaml({ issuer: 'https://idp.example.com/', jwksUri: 'https://idp.example.com/jwks', routes }), 'c.yaml');
  t.ok(config, 'the config loads: these are warnings, not errors');
  return issues.filter((i) => i.severity === 'warning').map((i) => formatConfigIssue(i).replace(/^c\.yaml:\d+:\d+: /, ''));
}

t.test('auth: token and auth: none on write methods are warned of, once per route', async (t) => {
  const w = warnings(t, ['POST /orders: { auth: token }', 'PUT,DELETE /orders/:id: { auth: none }', 'PATCH /orders/:id: { auth: token, mode: shadow }']);
  t.same(w, [
    'warning: routes."POST /orders": POST needs no scope: with { auth: token } any valid token can change data; require a write scope unless that is intended',
    'warning: routes."PUT,DELETE /orders/:id": PUT,DELETE need no scope: with { auth: none } anyone, without a token, can change data; require a write scope unless that is intended',
    'warning: routes."PATCH /orders/:id": PATCH needs no scope: with { auth: token } any valid token can change data; require a write scope unless that is intended',
  ]);
});

t.test('reads without a scope, and writes with one, are not warned of (negative controls)', async (t) => {
  t.same(warnings(t, ['GET,HEAD,OPTIONS /orders: { auth: none }', 'GET /me: { auth: token }', 'POST /orders: orders:write', 'DELETE /orders/:id: { any_of: [orders:write, admin] }']), []);
});

t.test('a "*" route gets only the existing "*" warning, which already names DELETE', async (t) => {
  const w = warnings(t, ['"* /files/*": { auth: token }']);
  t.equal(w.length, 1);
  t.match(w[0], /"\*" allows every method \(including DELETE\)/);
});
