/**
 * Shadow (report-only) mode through the real process: what enforce would deny
 * is forwarded, logged with would_deny and counted as shadow_deny; an invalid
 * token never becomes identity; ambiguous requests are still refused.
 */
import t from 'tap';
import { generateKey } from '../helpers/keys.js';
import { claims, signToken } from '../helpers/tokens.js';
import { send } from '../helpers/http.js';
import { startStack } from '../helpers/stack.js';

const ISSUER = 'https://idp.shadow.test/';

t.test('shadow mode end to end', async (t) => {
  const { key, upstream, sidecar } = await startStack(t, {
    issuer: ISSUER,
    keyKind: 'rsa',
    extra: 'mode: shadow',
    routes: ['GET /orgs: org:read', 'GET /admin: { scope: admin, mode: enforce }'],
  });
  const last = () => upstream.requests[upstream.requests.length - 1]!;

  t.test('missing token: forwarded, reported, no identity', async (t) => {
    const before = upstream.count;
    const res = await send(sidecar.url, '/orgs', { headers: { 'x-auth-subject': 'spoofed' } });
    t.equal(res.status, 200);
    t.equal(upstream.count, before + 1, 'forwarded');
    t.notOk('x-auth-subject' in last().headers, 'the spoofed identity is still stripped');
  });

  t.test('invalid token: forwarded without identity headers', async (t) => {
    const forged = signToken(generateKey('rsa'), claims(ISSUER, 'https://api.example.com', { scope: 'org:read', sub: 'mallory' }));
    const res = await send(sidecar.url, '/orgs', { headers: { authorization: `Bearer ${forged}` } });
    t.equal(res.status, 200);
    t.notOk('x-auth-subject' in last().headers, 'an invalid token never becomes identity');
    t.notOk('x-auth-scopes' in last().headers);
  });

  t.test('insufficient scope: forwarded with the verified identity', async (t) => {
    const tok = signToken(key, claims(ISSUER, 'https://api.example.com', { scope: 'other' }));
    const res = await send(sidecar.url, '/orgs', { headers: { authorization: `Bearer ${tok}` } });
    t.equal(res.status, 200);
    t.equal(last().headers['x-auth-subject'], 'user-1');
    t.equal(last().headers['x-auth-scopes'], 'other');
  });

  t.test('unmatched paths are forwarded too, with the canonical path', async (t) => {
    const res = await send(sidecar.url, '/not/./mapped?x=1');
    t.equal(res.status, 200);
    t.equal(last().url, '/not/mapped?x=1');
  });

  t.test('enforced routes and ambiguous requests are still refused', async (t) => {
    const before = upstream.count;
    t.equal((await send(sidecar.url, '/admin')).status, 401, 'route pinned to enforce');
    t.equal((await send(sidecar.url, '/a/%2e%2e/%2e%2e/etc')).status, 400, 'path traversal');
    t.equal((await send(sidecar.url, '/orgs', { headers: ['Authorization', 'Bearer a', 'Authorization', 'Bearer b'] })).status, 400, 'two Authorization headers');
    t.equal(upstream.count, before, 'none of them reached the upstream');
  });

  t.test('logged with would_deny and counted as shadow_deny', async (t) => {
    const lines = await sidecar.waitForLogs('shadow deny', 4);
    t.same(
      lines.map((l) => l['would_deny']).sort(),
      ['insufficient_scope', 'invalid_token', 'missing_token', 'no_route'],
    );
    const metrics = (await send(sidecar.adminUrl, '/metrics')).body;
    for (const reason of ['missing_token', 'invalid_token', 'insufficient_scope', 'no_route']) {
      t.match(metrics, new RegExp(`scopegate_decisions_total\\{outcome="shadow_deny",reason="${reason}",listener="proxy"\\} 1`), reason);
    }
    const access = (await sidecar.waitForLogs('request', 6)).filter((l) => l['status'] === 200);
    t.ok(access.some((l) => l['reason'] === 'missing_token'), 'the access line carries the would-be reason');
  });
});
