import t from 'tap';
import { createAdminServer, type Readiness } from '../../../src/admin/server.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import { listen } from '../../helpers/listen.js';

t.test('admin endpoints', async (t) => {
  const metrics = createMetrics({ defaultMetrics: false });
  metrics.decision('allow', 'allowed', 0.00001);
  let readiness: Readiness = { ready: false, reason: 'signing keys not loaded' };
  const server = createAdminServer({ metrics, isReady: () => readiness });
  const { url, close } = await listen(server);
  t.teardown(close);

  const health = await fetch(`${url}/healthz`);
  t.equal(health.status, 200);
  t.same(await health.json(), { status: 'ok' });

  let ready = await fetch(`${url}/readyz`);
  t.equal(ready.status, 503);
  t.same(await ready.json(), { status: 'not_ready', reason: 'signing keys not loaded' });
  readiness = { ready: true };
  ready = await fetch(`${url}/readyz?verbose=1`);
  t.equal(ready.status, 200);
  t.same(await ready.json(), { status: 'ready' });
  readiness = false;
  ready = await fetch(`${url}/readyz`);
  t.equal(ready.status, 503);
  t.same(await ready.json(), { status: 'not_ready', reason: 'not ready' });
  readiness = true;
  t.equal((await fetch(`${url}/readyz`)).status, 200);

  const m = await fetch(`${url}/metrics`);
  t.equal(m.status, 200);
  t.equal(m.headers.get('content-type'), metrics.contentType);
  t.match(await m.text(), /scopegate_decisions_total\{outcome="allow",reason="allowed",listener="proxy"\} 1/);

  const head = await fetch(`${url}/healthz`, { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(await head.text(), '');

  const missing = await fetch(`${url}/nope`);
  t.equal(missing.status, 404);
  t.equal(missing.headers.get('content-type'), 'application/json');
  t.same(await missing.json(), { error: 'not_found', error_description: 'no such admin endpoint' });

  const post = await fetch(`${url}/metrics`, { method: 'POST', body: 'x' });
  t.equal(post.status, 405);
  t.equal(post.headers.get('allow'), 'GET, HEAD');
  t.equal(((await post.json()) as { error: string }).error, 'method_not_allowed');
});

t.test('a throwing readiness check is a 503, not a crash', async (t) => {
  const server = createAdminServer({
    metrics: createMetrics({ defaultMetrics: false }),
    isReady: () => {
      throw new Error('boom');
    },
  });
  const { url, close } = await listen(server);
  t.teardown(close);
  const r = await fetch(`${url}/readyz`);
  t.equal(r.status, 503);
  t.match(await r.json(), { status: 'not_ready', reason: /boom/ });
});
