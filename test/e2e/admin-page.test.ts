/**
 * The admin page as a person sees it (README, "Admin page"): a real `scopegate
 * serve` process with two issuers, one of them down, after allowed and denied
 * requests; headless chromium opens the page on the admin listener and reads
 * the route table, the catalogue, both issuers and the recent denials. The
 * same data is read as JSON (checked against docs/status.schema.json) and
 * through `scopegate status`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { readStatus, statusCli, statusSchemaErrors } from '../helpers/admin.js';
import { browserSkipReason, launchBrowser } from '../helpers/browser.js';
import { send } from '../helpers/http.js';
import { generateKey } from '../helpers/keys.js';
import { startStack, STACK_AUDIENCE } from '../helpers/stack.js';
import { claims, signToken } from '../helpers/tokens.js';

const ISSUER = 'https://idp.healthy.test/';
const DOWN = 'https://idp.down.test/';
/** A description that would be markup if the page ever parsed config strings as HTML. */
const HOSTILE = '<img src=x onerror=alert(1)>Write orders';
const CATALOGUE = `scopes:
  orders:read:
    display_name: Orders (read)
    description: Read orders
  orders:write:
    description: ${JSON.stringify(HOSTILE)}
    default: off
  orders:legacy:
    description: Old name
    deprecated: true
    replaced_by: orders:read
`;
const ROUTES = ['GET /orders: orders:read', 'POST /orders: orders:write', 'GET /health/*: { auth: none }'];
/** Where the screenshots go: tap's output folder, which git ignores. */
const SHOTS = fileURLToPath(new URL('../../.tap/screenshots/', import.meta.url));

/** The second issuer: its JWKS port refuses connections, and it does not hold readiness. */
const withDownIssuer = (yaml: string): string =>
  yaml.replace('  scope_matching:', `    - issuer: ${DOWN}\n      jwks_uri: http://127.0.0.1:9/jwks\n      audiences: [${STACK_AUDIENCE}]\n      algorithms: [ES256]\n      readiness: optional\n  scope_matching:`);

async function stackWithTraffic(t: Test) {
  const stack = await startStack(t, { issuer: ISSUER, routes: ROUTES, extra: CATALOGUE, patchYaml: withDownIssuer });
  const { sidecar, token } = stack;
  const other = generateKey('p256');
  const tokens = {
    good: token('orders:read'),
    readOnly: token('orders:read', { client_id: 'reporting-app' }),
    expired: token('orders:read', { exp: Math.floor(Date.now() / 1000) - 3600 }),
    downIssuer: signToken(other, claims(DOWN, STACK_AUDIENCE, { scope: 'orders:read' })),
  };
  const bearer = (tok: string) => ({ headers: { authorization: `Bearer ${tok}` } });
  const answers = [
    (await send(sidecar.url, '/orders', bearer(tokens.good))).status,
    (await send(sidecar.url, '/health/live')).status,
    (await send(sidecar.url, '/orders')).status,
    (await send(sidecar.url, '/orders', bearer(tokens.expired))).status,
    (await send(sidecar.url, '/orders', { method: 'POST', ...bearer(tokens.readOnly) })).status,
    (await send(sidecar.url, '/orders', bearer(tokens.downIssuer))).status,
    (await send(sidecar.url, '/nowhere?access_token=abc')).status,
  ];
  t.same(answers, [200, 200, 401, 401, 403, 503, 404], 'the mix of allowed and denied requests');
  t.equal(stack.upstream.count, 2, 'only the allowed requests reached the upstream');
  return { ...stack, tokens };
}

t.test('/status: the schema holds, and it says what the page will show', async (t) => {
  const { sidecar } = await stackWithTraffic(t);
  const { doc } = await readStatus(sidecar.adminUrl);
  t.same(statusSchemaErrors(doc), [], 'valid against docs/status.schema.json');
  t.same(doc.routes.map((r) => [r.methods.join(','), r.path, r.requirement]), [['GET', '/orders', 'orders:read'], ['POST', '/orders', 'orders:write'], ['GET', '/health/*', 'public (no token)']]);
  t.match(doc.scopes, [{ name: 'orders:read', display_name: 'Orders (read)' }, { name: 'orders:write', description: HOSTILE, default_off: true }, { name: 'orders:legacy', deprecated: true, replaced_by: 'orders:read' }]);
  const [healthy, down] = doc.issuers;
  t.match(healthy, { issuer: ISSUER, loaded: true, keys: 1, last_error: null });
  t.equal(healthy?.kids.length, 1);
  t.ok(healthy?.next_refresh_at !== null && Date.parse(healthy!.next_refresh_at!) > Date.now(), 'a refresh is scheduled');
  t.match(down, { issuer: DOWN, loaded: false, keys: 0, kids: [], last_error: /ECONNREFUSED/ });
  t.ok(down?.last_fetch_at, 'the failed fetch is dated');
  t.match(doc.denials.counts, { allowed: 2, missing_token: 1, invalid_token: 1, insufficient_scope: 1, keys_unavailable: 1, no_route: 1 });
  t.same(doc.denials.recent.map((d) => [d.status, d.reason, d.cause]), [[404, 'no_route', null], [503, 'keys_unavailable', null], [403, 'insufficient_scope', null], [401, 'invalid_token', 'expired'], [401, 'missing_token', null]], 'newest first');
  t.match(doc.denials.recent[2], { missing_scopes: ['orders:write'], client_id: 'reporting-app', sub: null, route: '/orders' });
  t.equal(doc.denials.recent[0]?.path, '/nowhere', 'the raw path, without its query');
  t.equal(doc.config.generation, 1);
  t.same(doc.listeners.map((l) => l.name), ['proxy', 'admin']);

  // A reload that applies is a new generation, dated, with its routes.
  writeFileSync(sidecar.configFile, `${readFileSync(sidecar.configFile, 'utf8')}  GET /extra: orders:read\n`);
  sidecar.proc.kill('SIGHUP');
  await sidecar.waitForLog('config reloaded');
  const after = (await readStatus(sidecar.adminUrl)).doc;
  t.match(after.config, { generation: 2, reloads: 1 });
  t.not(after.config.sha256, doc.config.sha256);
  t.ok(Date.parse(after.config.loaded_at) > Date.parse(doc.config.loaded_at), 'loaded_at moves');
  t.equal(after.routes.length, 4);
  t.equal(after.denials.recent.length, 5, 'the ring outlives a reload');
  t.same(statusSchemaErrors(after), []);
});

t.test('the page in a real browser, wide and at phone width', { skip: browserSkipReason() }, async (t) => {
  const { sidecar, tokens } = await stackWithTraffic(t);
  const origin = new URL(sidecar.adminUrl).origin;
  const browser = await launchBrowser();
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const problems: string[] = [];
  const elsewhere: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('data:') && new URL(r.url()).origin !== origin) elsewhere.push(r.url());
  });
  const requested: string[] = [];
  page.on('request', (r) => requested.push(`${r.method()} ${new URL(r.url()).pathname}`));

  await page.goto(`${sidecar.adminUrl}/`);
  await page.waitForSelector('#denials tbody tr');
  const rows = async (id: string): Promise<string[]> => (await page.locator(`#${id} tbody tr`).allInnerTexts()).map((s) => s.replace(/\s+/g, ' ').trim());

  t.match(await page.locator('#ready').innerText(), /^ready$/, 'an optional issuer that is down does not hold readiness');
  t.match(await page.locator('#config').innerText(), /generation\s+1 \(0 reloads\)/);
  t.same(await rows('routes'), ['GET /orders orders:read enforce', 'POST /orders orders:write enforce', 'GET /health/* public (no token) enforce']);
  const scopes = await rows('scopes');
  t.equal(scopes.length, 3);
  t.match(scopes[0], /^orders:read Orders \(read\) Read orders/);
  t.ok(scopes[1]?.includes(HOSTILE), 'the hostile description is shown as text');
  t.match(scopes[1], /yes$/, 'default off');
  t.match(scopes[2], /orders:legacy .*yes → orders:read$/);
  t.equal(await page.locator('img').count(), 0, 'no element was built from a config string');

  const issuers = await rows('issuers');
  t.match(issuers.find((r) => r.startsWith(ISSUER)), /healthy 1 /);
  t.match(issuers.find((r) => r.startsWith(DOWN)), /no keys 0 .*ECONNREFUSED 127\.0\.0\.1:9/);
  t.same(await page.locator('#issuers tbody tr.bad').count(), 1, 'the failing issuer is marked');

  const denials = await rows('denials');
  t.equal(denials.length, 5);
  t.match(denials.join('\n'), /404 no_route ERR_ROUTE_NOT_FOUND GET \(no route\) \/nowhere/);
  t.match(denials.join('\n'), /403 insufficient_scope missing orders:write POST \/orders \/orders reporting-app/);
  t.match(denials.join('\n'), /401 invalid_token expired GET \/orders \/orders/);
  t.match(denials.join('\n'), /503 keys_unavailable/);
  t.match((await rows('counts')).join('\n'), /allowed 2[\s\S]*insufficient_scope 1/);
  const text = await page.locator('body').innerText();
  for (const [name, tok] of Object.entries(tokens)) t.notOk(text.includes(tok), `the ${name} token is not on the page`);
  t.notMatch(text, /Bearer|abc/, 'no Authorization value, no query token');

  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}admin-page-wide.png`, fullPage: true });

  // It refreshes itself: a denial made now appears without a reload.
  t.equal((await send(sidecar.url, '/refresh-probe')).status, 404);
  await page.locator('#denials', { hasText: '/refresh-probe' }).waitFor({ timeout: 15_000 });

  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
  t.ok(overflow <= 0, `nothing wider than a phone (${overflow} px over)`);
  await page.screenshot({ path: `${SHOTS}admin-page-phone.png`, fullPage: true });

  t.same(problems, [], 'no console errors or warnings');
  t.same(elsewhere, [], 'no request leaves the admin origin');
  t.ok(requested.every((r) => r === 'GET /' || r === 'GET /status'), `only the page and /status were requested: ${[...new Set(requested)].join(', ')}`);
});

t.test('scopegate status prints the same in the terminal', async (t) => {
  const { sidecar } = await stackWithTraffic(t);
  const { stdout, stderr, code } = await statusCli(sidecar.adminUrl);
  t.equal(code, 0, stderr);
  t.match(stdout, /^scopegate: ready/);
  t.match(stdout, /^POST\s+\/orders\s+orders:write\s+enforce$/m);
  t.match(stdout, /^orders:legacy\s.*yes → orders:read/m);
  t.match(stdout, new RegExp(`^${DOWN.replace(/[./]/g, '\\$&')}\\s+NO KEYS\\s+0\\s.*ECONNREFUSED`, 'm'));
  t.match(stdout, new RegExp(`^${ISSUER.replace(/[./]/g, '\\$&')}\\s+healthy\\s+1\\s`, 'm'));
  t.match(stdout, /\s401\s+invalid_token\s+expired\s+GET\s+\/orders/);
  t.match(stdout, /\s403\s+insufficient_scope\s+missing orders:write\s+POST/);

  const dead = await statusCli('http://127.0.0.1:9');
  t.equal(dead.code, 1, 'an admin listener that does not answer is a failure');
  t.match(dead.stderr, /ECONNREFUSED/);
});
