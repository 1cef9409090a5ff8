/**
 * 404 descriptions that say why, through the real process: a path that differs
 * from a route only by a trailing slash, and a path still holding a
 * percent-encoded `{param}` placeholder. Status, error code, metrics reason and
 * access line are those of any 404 (a raw `{` stays the canonicalizer's 400, as
 * test/security/path-confusion.test.ts asserts); the upstream sees none of them;
 * allowed requests are untouched (positive control).
 */
import t from 'tap';
import { send } from '../helpers/http.js';
import { startStack } from '../helpers/stack.js';

const ISSUER = 'https://idp.path-hints.test/';
const NOT_FOUND = 'no route matches this path';

t.test('trailing slash and {param} placeholders are named in the description', async (t) => {
  const { sidecar, upstream, token } = await startStack(t, {
    issuer: ISSUER,
    routes: ['GET /pets: pets:read', 'GET /pets/:petId: pets:read', 'GET /stores/: pets:read', 'GET /health: { auth: none }'],
  });
  const auth = { authorization: `Bearer ${token('pets:read')}` };

  const ok = await send(sidecar.url, '/pets/42', { headers: auth });
  t.equal(ok.status, 200, 'positive control: a routed path is forwarded');
  const before = upstream.count;

  const cases: Array<{ path: string; status: number; description: string }> = [
    { path: '/pets/', status: 404, description: `${NOT_FOUND}; it would without the trailing slash` },
    { path: '/health/', status: 404, description: `${NOT_FOUND}; it would without the trailing slash` },
    { path: '/stores', status: 404, description: `${NOT_FOUND}; it would with a trailing slash` },
    { path: '/pets/%7BpetId%7D/photos', status: 404, description: `${NOT_FOUND}: it contains a {param} template placeholder: put a value in its place (e.g. /pets/42 for /pets/{petId})` },
    { path: '/pets/{petId}/photos?x=1', status: 400, description: 'character not allowed in a path' },
    { path: '/nothing/here', status: 404, description: NOT_FOUND },
    { path: '/pets/a|b', status: 400, description: 'character not allowed in a path' },
  ];
  for (const c of cases) {
    const res = await send(sidecar.url, c.path, { headers: auth });
    t.equal(res.status, c.status, `${c.path}: status unchanged`);
    t.same(res.json(), { error: c.status === 404 ? 'not_found' : 'invalid_request', error_description: c.description }, `${c.path}: body`);
  }
  t.equal(upstream.count, before, 'the upstream saw none of them');

  const lines = await sidecar.waitForLogs('request', cases.length + 1);
  t.match(lines.find((l) => l['path'] === '/pets/'), { status: 404, reason: 'no_route', code: 'ERR_ROUTE_NOT_FOUND' }, 'access line: the usual 404');
  const metrics = (await send(sidecar.adminUrl, '/metrics')).body;
  t.match(metrics, /scopegate_decisions_total\{outcome="deny",reason="no_route",listener="proxy"\} 5\b/, 'five 404s, all reason no_route');
});
