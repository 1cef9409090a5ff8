/**
 * scopegate deciding behind the real nginx (auth_request) and the real Caddy
 * (forward_auth), configured with the files the README shows (deploy/authz/),
 * in front of a real recording upstream. Skipped, saying so, only when a binary
 * is missing: scripts/ensure-tools.sh installs both (`.ci/run` calls it).
 */
import t from 'tap';
import { send } from '../helpers/http.js';
import { hasBinary, startProxy, type ProxyKind } from '../helpers/proxies.js';
import { startStack } from '../helpers/stack.js';

const ISSUER = 'https://idp.proxies.test/';
const ROUTES = ['GET /api/orgs: org:read', 'GET /api/orgs/:id/projects: projects:read', 'GET /public/*: { auth: none }'];

/**
 * What the client receives when scopegate answers something other than 2xx, 401
 * or 403: nginx turns every such auth answer into a 500; Caddy returns it as is.
 */
const OTHER_DENY: Readonly<Record<ProxyKind, (scopegateStatus: number) => number>> = {
  nginx: () => 500,
  caddy: (status) => status,
};

for (const kind of ['nginx', 'caddy'] as const) {
  const skip = hasBinary(kind) ? false : `${kind} is not installed (scripts/ensure-tools.sh installs it: apt-get install ${kind})`;
  t.test(`behind the real ${kind}`, { skip, timeout: 60_000 }, async (t) => {
    const stack = await startStack(t, { issuer: ISSUER, routes: ROUTES, extra: 'authz_listen: 127.0.0.1:0\n' });
    const proxy = await startProxy(kind, stack.sidecar.authzUrl!, stack.upstream.url);
    t.teardown(() => proxy.stop());
    const bearer = (scope: string): Record<string, string> => ({ authorization: `Bearer ${stack.token(scope, { sub: 'user-7' })}` });

    t.test('allowed: the upstream answers, with scopegate’s identity headers, never the client’s', async (t) => {
      const before = stack.upstream.count;
      const res = await send(proxy.url, '/api/orgs/acme/projects?page=2', { headers: { ...bearer('projects:read'), 'x-auth-subject': 'admin', 'x-auth-scopes': 'admin' } });
      t.equal(res.status, 200, `${res.body} ${proxy.output()}`);
      t.equal(stack.upstream.count, before + 1);
      const seen = stack.upstream.requests[stack.upstream.requests.length - 1]!;
      t.equal(seen.url, '/api/orgs/acme/projects?page=2', 'the path scopegate authorized');
      t.equal(seen.headers['x-auth-subject'], 'user-7');
      t.equal(seen.headers['x-auth-scopes'], 'projects:read');
      t.match(String(seen.headers['authorization']), /^Bearer ey/, 'the token goes on');

      const pub = await send(proxy.url, '/public/app.js', { headers: { 'x-auth-subject': 'admin', 'x-auth-scopes': 'admin' } });
      t.equal(pub.status, 200);
      const seenPublic = stack.upstream.requests[stack.upstream.requests.length - 1]!;
      // Absent (nginx drops an empty proxy_set_header) or empty (Caddy copies the empty value scopegate sends).
      t.notOk(seenPublic.headers['x-auth-subject'], `a client-sent identity header never survives a public route: ${JSON.stringify(seenPublic.rawHeaders)}`);
      t.notOk(seenPublic.headers['x-auth-scopes']);
    });

    t.test('no token → 401 with WWW-Authenticate; wrong scope → 403 with the insufficient_scope challenge', async (t) => {
      const before = stack.upstream.count;
      const missing = await send(proxy.url, '/api/orgs');
      t.equal(missing.status, 401);
      t.match(String(missing.headers['www-authenticate']), /^Bearer realm="scopegate"/);
      const forbidden = await send(proxy.url, '/api/orgs', { headers: bearer('projects:read') });
      t.equal(forbidden.status, 403);
      t.match(String(forbidden.headers['www-authenticate']), /error="insufficient_scope"/);
      t.match(String(forbidden.headers['www-authenticate']), /scope="org:read"/);
      t.equal(stack.upstream.count, before, 'denied requests never reach the upstream');
    });

    t.test('unrouted, non-canonical and access_token targets never reach the upstream', async (t) => {
      const before = stack.upstream.count;
      const cases: [string, number][] = [
        ['/api/admin', 404],
        ['/api/x/../orgs', 400],
        ['/api/%6Frgs', 400],
        ['//api/orgs', 400],
        ['/api/orgs?access_token=abc', 400],
      ];
      for (const [target, scopegateStatus] of cases) {
        const res = await send(proxy.url, target, { headers: bearer('org:read projects:read') });
        t.equal(res.status, OTHER_DENY[kind](scopegateStatus), `${target}: ${res.body.slice(0, 200)}`);
      }
      t.equal(stack.upstream.count, before, 'the upstream count is unchanged');
      // scopegate itself answered each with its own status (nginx hides it behind a 500).
      const metrics = (await send(stack.sidecar.adminUrl, '/metrics')).body;
      t.match(metrics, /scopegate_request_duration_seconds_count\{method="GET",route="unmatched",status="400",listener="authz"\} [3-9]/);
      t.match(metrics, /scopegate_request_duration_seconds_count\{method="GET",route="\/api\/orgs",status="400",listener="authz"\} [1-9]/);
      t.match(metrics, /scopegate_request_duration_seconds_count\{method="GET",route="unmatched",status="404",listener="authz"\} [1-9]/);
    });
  });
}
