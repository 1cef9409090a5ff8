/**
 * CORS with a real browser as the client (README, "Browser apps (CORS) and
 * WebSocket"): headless chromium loads a page from one loopback origin and calls
 * the API through the real scopegate process on another, with a bearer token. The
 * browser, not the test, decides what the page's script may read.
 */
import t from 'tap';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, launchBrowser } from '../helpers/browser.js';
import { startStack } from '../helpers/stack.js';

const ISSUER = 'https://idp.cors-browser.test/';

/** A page server: the app's origin, serving one empty page. */
async function startPageServer(): Promise<{ origin: string; server: Server }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

interface PageFetch {
  readonly ok: boolean;
  readonly status?: number;
  readonly body?: string;
  readonly wwwAuthenticate?: string | null;
  /** The error the page's fetch() rejected with (a CORS failure is a TypeError to the page). */
  readonly error?: string;
}

/** fetch() from inside the page, as the app's own script would; the browser applies CORS. */
function fetchFromPage(page: Page, url: string, token: string): Promise<PageFetch> {
  return page.evaluate(async ([u, tok]) => {
    try {
      const r = await fetch(u, { headers: { Authorization: `Bearer ${tok}` } });
      return { ok: true, status: r.status, body: await r.text(), wwwAuthenticate: r.headers.get('www-authenticate') };
    } catch (e) {
      return { ok: false, error: String(e) };
    }
  }, [url, token] as const);
}

t.test('a browser app on another origin', { skip: browserSkipReason() }, async (t) => {
  const app = await startPageServer();
  const stranger = await startPageServer();
  let browser: Browser | undefined;
  t.teardown(async () => {
    await browser?.close();
    app.server.close();
    stranger.server.close();
  });
  browser = await launchBrowser();
  const openPage = async (origin: string): Promise<Page> => {
    const page = await browser!.newPage();
    await page.goto(`${origin}/`);
    return page;
  };

  t.test('cors.allowed_origins: scopegate answers the preflight and every response', async (t) => {
    const { upstream, sidecar, token } = await startStack(t, { issuer: ISSUER, routes: ['GET /orgs: org:read', 'GET /admin: admin'], extra: `cors:\n  allowed_origins: [${app.origin}]` });
    t.not(new URL(sidecar.url).origin, app.origin, 'the API is on another origin than the page');
    const page = await openPage(app.origin);

    const before = upstream.count;
    const allowed = await fetchFromPage(page, `${sidecar.url}/orgs`, token('org:read'));
    t.equal(allowed.status, 200, 'the allowed call succeeds in the browser');
    t.match(JSON.parse(allowed.body ?? '{}'), { method: 'GET', url: '/orgs' }, "the page reads the upstream's body");
    t.equal(upstream.count, before + 1, 'the upstream saw the call, not the preflight (answered by scopegate)');

    const forbidden = await fetchFromPage(page, `${sidecar.url}/admin`, token('org:read'));
    t.equal(forbidden.status, 403);
    t.match(JSON.parse(forbidden.body ?? '{}'), { error: 'insufficient_scope' }, "the page's script reads the 403's JSON body");
    t.match(forbidden.wwwAuthenticate, /^Bearer .*error="insufficient_scope".*scope="admin"/, 'and its WWW-Authenticate (Access-Control-Expose-Headers)');
    t.equal(upstream.count, before + 1, 'the 403 never reached the upstream');

    const other = await openPage(stranger.origin);
    const refused = await fetchFromPage(other, `${sidecar.url}/orgs`, token('org:read'));
    t.equal(refused.ok, false, 'a page from an origin that is not allowed cannot make the call');
    t.match(refused.error, /TypeError/);
    t.equal(upstream.count, before + 1, 'and the upstream saw nothing of it');
  });

  t.test("forward_preflight: the API's own CORS answer is what the browser acts on", async (t) => {
    const { upstream, sidecar, token } = await startStack(t, { issuer: ISSUER, routes: ['GET /orgs: org:read'], extra: 'cors:\n  forward_preflight: true' });
    // The API allows the app's origin only, in its preflight answers and its responses.
    upstream.handle = (req, res) => {
      const allowOrigin = req.headers.origin === app.origin ? { 'access-control-allow-origin': app.origin } : {};
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { ...allowOrigin, 'access-control-allow-methods': 'GET', 'access-control-allow-headers': 'authorization', 'x-answered-by': 'api' }).end();
        return;
      }
      res.writeHead(200, { ...allowOrigin, 'content-type': 'application/json' }).end('{"from":"the api"}');
    };
    const before = upstream.count;
    const allowed = await fetchFromPage(await openPage(app.origin), `${sidecar.url}/orgs`, token('org:read'));
    t.equal(allowed.status, 200);
    t.equal(allowed.body, '{"from":"the api"}');
    t.equal(upstream.count, before + 2, 'the preflight and the call both reached the API');
    t.equal(upstream.requests.at(-2)?.method, 'OPTIONS');

    const refused = await fetchFromPage(await openPage(stranger.origin), `${sidecar.url}/orgs`, token('org:read'));
    t.equal(refused.ok, false, "the API's preflight answer does not allow this origin: the browser stops");
    t.equal(upstream.count, before + 3, 'only the preflight reached the API: the browser never sent the call');
    t.equal(upstream.requests.at(-1)?.method, 'OPTIONS');
  });
});
