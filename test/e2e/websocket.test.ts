/**
 * WebSocket through the real process with a real client and server (the `ws`
 * package): the handshake is authorized like any request, then frames are
 * piped byte for byte both ways; a denied handshake never reaches the upstream.
 * Also: an SSE response reaches the client chunk by chunk (no buffering).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import t from 'tap';
import WebSocket, { WebSocketServer } from 'ws';
import { send } from '../helpers/http.js';
import { startStack } from '../helpers/stack.js';

const ISSUER = 'https://idp.ws.test/';

/** A real WebSocket echo server; counts the handshakes its upgrade handler saw. */
async function startEchoServer(): Promise<{ url: string; handshakes: () => number; plainGets: () => number; close: () => Promise<void> }> {
  const server = createServer((_req, res) => {
    plain++;
    res.end('plain');
  });
  const wss = new WebSocketServer({ noServer: true });
  let handshakes = 0;
  let plain = 0;
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    handshakes++;
    if (req.url === '/ws/refuse') {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 7\r\nconnection: close\r\n\r\nrefused');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    handshakes: () => handshakes,
    plainGets: () => plain,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function gauge(metrics: string): number {
  const m = /^scopegate_upgraded_connections (\d+)/m.exec(metrics);
  return m === null ? -1 : Number(m[1]);
}

t.test('websocket: true routes', { timeout: 60_000 }, async (t) => {
  const echo = await startEchoServer();
  t.teardown(() => echo.close());
  const { sidecar, token } = await startStack(t, {
    issuer: ISSUER,
    routes: ['GET /ws/:room: { scope: chat:read, websocket: true }', 'GET /plain: chat:read'],
    patchYaml: (yaml, upstreamUrl) => yaml.replace(`url: ${upstreamUrl}`, `url: ${echo.url}`),
  });
  const wsUrl = sidecar.url.replace('http:', 'ws:');
  const metrics = async (): Promise<string> => (await send(sidecar.adminUrl, '/metrics')).body;

  t.test('allowed: 101 and a byte-exact echo, both ways; the gauge goes up and down', async (t) => {
    const ws = new WebSocket(`${wsUrl}/ws/lobby`, { headers: { authorization: `Bearer ${token('chat:read')}` } });
    let status = 0;
    ws.once('upgrade', (response: IncomingMessage) => (status = response.statusCode ?? 0));
    await once(ws, 'open');
    t.equal(status, 101);
    t.equal(gauge(await metrics()), 1, 'one open tunnel');
    const payload = Buffer.from([0, 1, 2, 250, 255, 0x0d, 0x0a]);
    ws.send(payload);
    const [data] = (await once(ws, 'message')) as [Buffer];
    t.same([...data], [...payload], 'binary echo, byte for byte');
    ws.send('héllo');
    const [text, isBinary] = (await once(ws, 'message')) as [Buffer, boolean];
    t.equal(isBinary, false);
    t.equal(text.toString('utf8'), 'héllo');
    ws.close(1000, 'bye');
    const [code] = (await once(ws, 'close')) as [number];
    t.equal(code, 1000, 'the close handshake went through');
    for (let i = 0; i < 50 && gauge(await metrics()) !== 0; i++) await new Promise((r) => setTimeout(r, 20));
    t.equal(gauge(await metrics()), 0, 'closed: the gauge is back to 0');
    const lines = await sidecar.waitForLogs('request', 1);
    t.ok(lines.some((l) => l['status'] === 101 && l['route'] === '/ws/:room'), 'the access line records 101');
    t.match(await metrics(), /scopegate_request_duration_seconds_count\{method="GET",route="\/ws\/:room",status="101",listener="proxy"\} 1/);
  });

  t.test('denied handshakes: the usual 401/403, the upstream never sees them', async (t) => {
    const before = echo.handshakes();
    for (const [headers, status] of [
      [{}, 401],
      [{ authorization: `Bearer ${token('other')}` }, 403],
    ] as const) {
      const ws = new WebSocket(`${wsUrl}/ws/lobby`, { headers });
      ws.on('error', () => {}); // terminate() before open reports one
      const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
      t.equal(res.statusCode, status);
      t.ok(res.headers['www-authenticate'], 'with its challenge');
      ws.terminate();
    }
    t.equal(echo.handshakes(), before, "the upstream's upgrade handler was never called");
  });

  t.test("an upstream that refuses the upgrade: its answer is relayed", async (t) => {
    const ws = new WebSocket(`${wsUrl}/ws/refuse`, { headers: { authorization: `Bearer ${token('chat:read')}` } });
    ws.on('error', () => {});
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, IncomingMessage];
    t.equal(res.statusCode, 403);
    ws.terminate();
  });

  t.test('a plain GET (no Upgrade) to a websocket route is an ordinary request', async (t) => {
    const before = echo.plainGets();
    const res = await send(sidecar.url, '/ws/lobby', { headers: { authorization: `Bearer ${token('chat:read')}` } });
    t.equal(res.status, 200);
    t.equal(res.body, 'plain');
    t.equal(echo.plainGets(), before + 1);
  });

  t.test('the upstream closing tears down the client side', async (t) => {
    const ws = new WebSocket(`${wsUrl}/ws/lobby`, { headers: { authorization: `Bearer ${token('chat:read')}` } });
    await once(ws, 'open');
    await echo.close();
    await once(ws, 'close');
    t.pass('client closed when the upstream went away');
  });

  t.test('Upgrade on other routes stays a stripped hop-by-hop header: an ordinary request', async (t) => {
    const plainBefore = echo.plainGets();
    // The echo server is closed by now: an ordinary forward answers 502, a tunnel attempt would not.
    const res = await send(sidecar.url, '/plain', { headers: { authorization: `Bearer ${token('chat:read')}`, upgrade: 'websocket', connection: 'upgrade' } });
    t.equal(res.status, 502, 'forwarded as an ordinary GET');
    t.equal(echo.plainGets(), plainBefore);
  });
});

t.test('SIGTERM: an open tunnel gets the drain period, then is closed', async (t) => {
  const echo = await startEchoServer();
  t.teardown(() => echo.close());
  const { sidecar, token } = await startStack(t, {
    issuer: ISSUER,
    routes: ['GET /ws/:room: { scope: chat:read, websocket: true }'],
    extra: 'limits:\n  drain_timeout_ms: 500',
    patchYaml: (yaml, upstreamUrl) => yaml.replace(`url: ${upstreamUrl}`, `url: ${echo.url}`),
  });
  const ws = new WebSocket(`${sidecar.url.replace('http:', 'ws:')}/ws/a`, { headers: { authorization: `Bearer ${token('chat:read')}` } });
  await once(ws, 'open');
  const signalled = Date.now();
  sidecar.proc.kill('SIGTERM');
  ws.send('still here');
  const [echoed] = (await once(ws, 'message')) as [Buffer];
  t.equal(echoed.toString(), 'still here', 'the tunnel works during the drain');
  await once(ws, 'close');
  const waited = Date.now() - signalled;
  t.ok(waited >= 400, `closed after the drain period (${waited} ms)`);
  t.equal(await sidecar.exited, 0, 'the process exits');
});

t.test('SSE: the first event reaches the client before the upstream writes the second', async (t) => {
  const { upstream, sidecar, token } = await startStack(t, { issuer: ISSUER, routes: ['GET /events: chat:read'] });
  let secondWrittenAt = 0;
  upstream.handle = (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write('data: one\n\n');
    setTimeout(() => {
      secondWrittenAt = Date.now();
      res.end('data: two\n\n');
    }, 400);
  };
  const { request } = await import('node:http');
  const url = new URL(sidecar.url);
  const firstAt = await new Promise<{ at: number; chunk: string; rest: Promise<string> }>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: '/events', headers: { authorization: `Bearer ${token('chat:read')}` } }, (res) => {
      res.setEncoding('utf8');
      let rest = '';
      const ended = new Promise<string>((r) => res.on('end', () => r(rest)));
      res.once('data', (chunk: string) => {
        resolve({ at: Date.now(), chunk, rest: ended });
        res.on('data', (c: string) => (rest += c));
      });
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(firstAt.chunk, 'data: one\n\n');
  t.equal(secondWrittenAt, 0, 'the second event was not yet written when the first arrived');
  t.equal(await firstAt.rest, 'data: two\n\n');
  t.ok(secondWrittenAt > firstAt.at, `first at ${firstAt.at}, second written at ${secondWrittenAt}`);
});
