import { createHash } from 'node:crypto';
import t from 'tap';
import { createAdminServer } from '../../../src/admin/server.js';
import type { StatusDocument } from '../../../src/admin/status.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import { listen } from '../../helpers/listen.js';

const hashOf = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
const FAKE_STATUS = { status_version: 1 } as unknown as StatusDocument;

t.test('GET / is one self-contained page whose only script and style are the ones the CSP hashes', async (t) => {
  let calls = 0;
  const server = createAdminServer({ metrics: createMetrics({ defaultMetrics: false }), isReady: () => true, status: () => (calls++, FAKE_STATUS) });
  const { url, close } = await listen(server);
  t.teardown(close);
  const res = await fetch(`${url}/`);
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  t.equal(res.headers.get('x-content-type-options'), 'nosniff');
  const csp = res.headers.get('content-security-policy') ?? '';
  const html = await res.text();
  t.equal(calls, 0, 'the page is static: it reads /status itself');
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] as string);
  const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] as string);
  t.equal(scripts.length, 1, 'one inline script');
  t.equal(styles.length, 1, 'one inline style sheet');
  t.match(csp, `script-src ${hashOf(scripts[0] as string)};`);
  t.match(csp, `style-src ${hashOf(styles[0] as string)};`);
  for (const directive of ["default-src 'none'", "connect-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"]) t.ok(csp.includes(directive), directive);
  t.notMatch(csp, /unsafe-inline|unsafe-eval|https?:/, 'no escape hatch, no other origin');
  t.notMatch(html, /<script[^>]+src=|<link[^>]+stylesheet|https?:\/\//, 'no external asset');
  t.notMatch(html, /\sstyle=|\son[a-z]+=/, 'no inline attribute the CSP would refuse');
  t.notMatch(scripts[0] as string, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/, 'markup is never built from data');
});

t.test('GET /status is the document, built per request; HEAD and 405 as for the other endpoints', async (t) => {
  let calls = 0;
  const server = createAdminServer({ metrics: createMetrics({ defaultMetrics: false }), isReady: () => true, status: () => (calls++, FAKE_STATUS) });
  const { url, close } = await listen(server);
  t.teardown(close);
  const res = await fetch(`${url}/status?x=1`);
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'application/json');
  t.equal(res.headers.get('cache-control'), 'no-store');
  t.same(await res.json(), FAKE_STATUS);
  const head = await fetch(`${url}/status`, { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(await head.text(), '');
  t.equal(calls, 2);
  const post = await fetch(`${url}/`, { method: 'POST', body: 'x' });
  t.equal(post.status, 405, 'read-only: nothing is ever posted');
  t.equal(post.headers.get('allow'), 'GET, HEAD');
  t.equal((await fetch(`${url}/healthz`)).status, 200, 'existing endpoints unchanged');
});

t.test('a status source that throws is a 500, not a crash', async (t) => {
  const server = createAdminServer({ metrics: createMetrics({ defaultMetrics: false }), isReady: () => true, status: () => { throw new Error('boom'); } });
  const { url, close } = await listen(server);
  t.teardown(close);
  const res = await fetch(`${url}/status`);
  t.equal(res.status, 500);
  t.match(await res.json(), { error: 'server_error', error_description: /boom/ });
  t.equal((await fetch(`${url}/`)).status, 200, 'the page itself still loads');
});

t.test('without a status source, / and /status are unknown paths as before', async (t) => {
  const server = createAdminServer({ metrics: createMetrics({ defaultMetrics: false }), isReady: () => true });
  const { url, close } = await listen(server);
  t.teardown(close);
  for (const path of ['/', '/status']) {
    const res = await fetch(`${url}${path}`);
    t.equal(res.status, 404, path);
    t.same(await res.json(), { error: 'not_found', error_description: 'no such admin endpoint' });
  }
});
