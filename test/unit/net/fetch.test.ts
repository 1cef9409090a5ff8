/**
 * net/fetch.ts against a real server on 127.0.0.1: whatever the peer does (never
 * answers, stalls after the headers, trickles the body, sends too much, redirects),
 * fetchBounded settles within its timeout with a typed code, under forced GC.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import t, { type Test } from 'tap';
import { Agent } from 'undici';
import { fetchBounded, OutboundFetchError, type OutboundFetchErrorCode } from '../../../src/net/fetch.js';
import { gcPressure } from '../../helpers/gc.js';
import { listen } from '../../helpers/listen.js';

const TIMEOUT_MS = 200;
/** Slack over the timeout on a loaded 2-core machine with a full GC every 5 ms. */
const SLACK_MS = 1500;

const behaviours: Record<string, (res: ServerResponse) => void> = {
  '/ok': (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}'),
  '/hang': () => {},
  '/headers-then-stall': (res) => {
    res.writeHead(200, { 'content-length': 100 });
    res.write('{"keys":');
  },
  '/trickle': (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const timer = setInterval(() => res.write(' '), 20);
    res.on('close', () => clearInterval(timer));
  },
  '/declared-large': (res) => res.writeHead(200, { 'content-length': 5000 }).end(Buffer.alloc(5000, 0x20)),
  '/chunked-large': (res) => {
    res.writeHead(200);
    for (let i = 0; i < 5; i++) res.write(Buffer.alloc(1000, 0x20));
    res.end();
  },
  '/not-found': (res) => res.writeHead(404).end('nope'),
  '/redirect': (res) => res.writeHead(302, { location: '/ok' }).end(),
};

t.test('fetchBounded', async (t) => {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    requests++;
    behaviours[req.url ?? '']?.(res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const l = await listen(server);
  const agent = new Agent({ connect: { timeout: TIMEOUT_MS } });
  // Warm up (undici compiles its llhttp WebAssembly on first use) before timing anything.
  await fetchBounded(`${l.url}/ok`, { dispatcher: agent, timeoutMs: 10_000, maxBytes: 2048 });
  const stop = gcPressure(5);
  t.teardown(async () => {
    stop();
    await agent.destroy();
    for (const s of sockets) s.destroy();
    await l.close();
  });
  /** Cases that end on their own get a generous timeout: only the hanging ones should meet it. */
  const ROOMY_MS = 5_000;
  const get = (path: string, timeoutMs: number) => fetchBounded(`${l.url}${path}`, { dispatcher: agent, timeoutMs, maxBytes: 2048 });

  async function fails(t: Test, path: string, code: OutboundFetchErrorCode, message: RegExp, timeoutMs = ROOMY_MS): Promise<number> {
    const t0 = Date.now();
    const err = await get(path, timeoutMs).then(
      () => undefined,
      (e: unknown) => e,
    );
    const took = Date.now() - t0;
    t.ok(err instanceof OutboundFetchError, `${path}: OutboundFetchError`);
    t.equal((err as OutboundFetchError).code, code, path);
    t.match((err as Error).message, message, path);
    t.ok(took < timeoutMs + SLACK_MS, `${path}: settled in ${took} ms`);
    return took;
  }

  t.test('a 200 body is returned whole', async (t) => {
    const r = await get('/ok', ROOMY_MS);
    t.equal(r.body.toString(), '{"keys":[]}');
    t.equal(r.headers['content-type'], 'application/json');
  });

  t.test('connect, headers and body all end within the timeout', async (t) => {
    for (const path of ['/hang', '/headers-then-stall', '/trickle']) {
      const took = await fails(t, path, 'ERR_FETCH_TIMEOUT', /within 200 ms/, TIMEOUT_MS);
      t.ok(took >= TIMEOUT_MS - 5, `${path}: not before the timeout (${took} ms)`);
    }
  });

  t.test('size, status and redirects', async (t) => {
    await fails(t, '/declared-large', 'ERR_FETCH_TOO_LARGE', /^Content-Length 5000 exceeds 2048 bytes$/);
    await fails(t, '/chunked-large', 'ERR_FETCH_TOO_LARGE', /^body exceeds 2048 bytes$/);
    await fails(t, '/not-found', 'ERR_FETCH_STATUS', /^HTTP 404$/);
    const before = requests;
    await fails(t, '/redirect', 'ERR_FETCH_STATUS', /^HTTP 302$/);
    t.equal(requests - before, 1, 'the redirect was not followed');
  });

  t.test('a refused connection is a network error', async (t) => {
    const dead = await listen(createServer());
    await dead.close();
    const err = await fetchBounded(`${dead.url}/x`, { dispatcher: agent, timeoutMs: TIMEOUT_MS, maxBytes: 10 }).catch((e: unknown) => e);
    t.equal((err as OutboundFetchError).code, 'ERR_FETCH_NETWORK');
    t.match((err as Error).message, /ECONNREFUSED/);
  });

  t.test("the owner's signal ends a hanging fetch at once", async (t) => {
    const owner = new AbortController();
    const t0 = Date.now();
    const pending = fetchBounded(`${l.url}/hang`, { dispatcher: agent, timeoutMs: 10_000, maxBytes: 10, signal: owner.signal }).catch((e: unknown) => e);
    setTimeout(() => owner.abort(), 20);
    const err = await pending;
    t.equal((err as OutboundFetchError).code, 'ERR_FETCH_ABORTED');
    t.ok(Date.now() - t0 < 5_000, 'long before the 10 s deadline');
  });
});
