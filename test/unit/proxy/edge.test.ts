import { request } from 'node:http';
import t, { type Test } from 'tap';
import type { UpstreamConfig } from '../../../src/config/schema.js';
import type { Allow } from '../../../src/policy/decision.js';
import { createForwarder, type ForwardOutcome } from '../../../src/proxy/forward.js';
import { createHeaderPolicy } from '../../../src/proxy/headers.js';
import { createServer } from 'node:http';
import { listen } from '../../helpers/listen.js';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js';

function cfg(url: string, over: Partial<UpstreamConfig> = {}): UpstreamConfig {
  return { url, timeoutMs: 5000, connectTimeoutMs: 1000, connections: 4, keepAliveTimeoutMs: 4000, ...over };
}
const allow = (path: string): Allow => ({ kind: 'forward', allow: true, route: path, path, query: '', token: undefined, paramNames: [], paramValues: [] });

async function startProxy(t: Test, c: UpstreamConfig, a: Allow): Promise<{ port: number; outcome: () => Promise<ForwardOutcome> }> {
  const forwarder = createForwarder(c);
  const policy = createHeaderPolicy({});
  const outcomes: ForwardOutcome[] = [];
  const waiters: Array<(o: ForwardOutcome) => void> = [];
  const server = createServer((req, res) => {
    void forwarder.forward(req, res, a, policy.buildUpstreamHeaders(req.rawHeaders, { token: undefined, clientIp: req.socket.remoteAddress, proto: 'http' })).then((o) => {
      const w = waiters.shift();
      if (w) w(o);
      else outcomes.push(o);
    });
  });
  const l = await listen(server);
  t.teardown(async () => {
    await l.close();
    await forwarder.close();
  });
  return { port: l.port, outcome: () => (outcomes.length > 0 ? Promise.resolve(outcomes.shift()!) : new Promise((r) => waiters.push(r))) };
}

let upstream: TestUpstream;
t.before(async () => {
  upstream = await startUpstream();
});
t.teardown(() => upstream.close());

function uploadAndAnswerEarly(port: number, bytes: number): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/up', agent: false, headers: { 'content-length': String(bytes) } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (e) => resolve({ error: String(e) }));
    });
    req.on('error', (e) => resolve({ error: String(e) }));
    const chunk = Buffer.alloc(64 * 1024);
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

t.test('upstream answers early (413) without reading a large upload: the answer is relayed', async (t) => {
  upstream.handle = (_req, res) => {
    res.writeHead(413, { 'content-type': 'text/plain' });
    res.end('too big');
  };
  const p = await startProxy(t, cfg(upstream.url), allow('/up'));
  const result = await uploadAndAnswerEarly(p.port, 20 * 1024 * 1024);
  const outcome = await p.outcome();
  t.same(result, { status: 413, body: 'too big' });
  t.equal(outcome.status, 413);
  t.equal(outcome.error, undefined);
});

t.test('upstream answers early and closes (RST): 413 if it arrived, else 502, never 500', async (t) => {
  // The kernel may discard the 413 when the upstream closes with unread
  // input (TCP RST); then all we saw was a broken pipe.
  upstream.handle = (_req, res) => {
    res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' });
    res.end('too big');
  };
  const p = await startProxy(t, cfg(upstream.url), allow('/up'));
  const result = await uploadAndAnswerEarly(p.port, 20 * 1024 * 1024);
  const outcome = await p.outcome();
  t.comment(JSON.stringify(result), JSON.stringify(outcome));
  t.ok(outcome.status === 413 || outcome.status === 502, `status ${outcome.status}`);
  if ('status' in result) t.equal(result.status, outcome.status);
});

t.test('HEAD is forwarded and answered without a body', async (t) => {
  upstream.handle = (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '11' });
    res.end();
  };
  const p = await startProxy(t, cfg(upstream.url), allow('/h'));
  const got = upstream.nextRequest();
  const res = await fetch(`http://127.0.0.1:${p.port}/h`, { method: 'HEAD' });
  const rec = await got;
  t.equal(rec.method, 'HEAD');
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-length'), '11');
  t.equal(await res.text(), '');
  t.equal((await p.outcome()).status, 200);
});

t.test('client abort mid-upload closes the upstream request', async (t) => {
  upstream.handle = () => undefined;
  const p = await startProxy(t, cfg(upstream.url), allow('/up2'));
  const got = upstream.nextRequest();
  const req = request({ host: '127.0.0.1', port: p.port, method: 'PUT', path: '/up2', agent: false, headers: { 'content-length': '1000000' } });
  req.on('error', () => undefined);
  req.write(Buffer.alloc(1000));
  const rec = await got;
  req.destroy();
  await rec.closed;
  t.ok(rec.closedEarly);
  const o = await p.outcome();
  t.equal(o.error, 'ERR_CLIENT_ABORTED');
  t.equal(o.status, 499);
});

t.test('a client gone before forward() starts never reaches the upstream', async (t) => {
  upstream.handle = (_req, res) => {
    res.end('x');
  };
  const forwarder = createForwarder(cfg(upstream.url));
  const outcomeP = new Promise<ForwardOutcome>((resolve) => {
    const server = createServer((req, res) => {
      // stand-in for decide() awaiting a JWKS fetch while the client leaves
      res.on('close', () => {
        void forwarder.forward(req, res, allow('/late'), []).then(resolve);
      });
    });
    void listen(server).then((l) => {
      t.teardown(l.close);
      const req = request({ host: '127.0.0.1', port: l.port, path: '/late', agent: false });
      req.on('error', () => undefined);
      req.end();
      setTimeout(() => req.destroy(), 50);
    });
  });
  t.teardown(() => forwarder.close());
  const before = upstream.count;
  const o = await outcomeP;
  t.equal(o.error, 'ERR_CLIENT_ABORTED');
  t.equal(o.status, 499);
  await new Promise((r) => setTimeout(r, 50));
  t.equal(upstream.count, before, 'upstream never saw it');
});

t.test('a request queued in the pool is dropped when its client leaves', async (t) => {
  const held: Array<() => void> = [];
  upstream.handle = (_req, res) => {
    held.push(() => res.end('done'));
  };
  const p = await startProxy(t, cfg(upstream.url, { connections: 1 }), allow('/q'));
  const before = upstream.count;
  const first = fetch(`http://127.0.0.1:${p.port}/q`).then((r) => r.text());
  await upstream.nextRequest(before);
  // second request waits for the single upstream connection
  const req = request({ host: '127.0.0.1', port: p.port, path: '/q', agent: false });
  req.on('error', () => undefined);
  req.end();
  await new Promise((r) => setTimeout(r, 100));
  req.destroy();
  const second = await p.outcome();
  t.equal(second.error, 'ERR_CLIENT_ABORTED');
  held.shift()?.();
  t.equal(await first, 'done');
  await p.outcome();
  await new Promise((r) => setTimeout(r, 100));
  t.equal(upstream.count, before + 1, 'the abandoned request was never sent upstream');
});

t.test('a slow client back-pressures the upstream response (no buffering in the proxy)', async (t) => {
  const total = 40 * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, 0x62);
  let written = 0;
  upstream.handle = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
    const pump = (): void => {
      while (written < total) {
        written += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  };
  const p = await startProxy(t, cfg(upstream.url), allow('/download'));
  let writtenWhilePaused = -1;
  let received = 0;
  await new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: p.port, path: '/download', agent: false }, (res) => {
      res.pause();
      setTimeout(() => {
        writtenWhilePaused = written;
        res.on('data', (c: Buffer) => (received += c.length));
        res.on('end', resolve);
        res.resume();
      }, 400);
    });
    req.on('error', reject);
    req.end();
  });
  t.comment(`upstream wrote ${(writtenWhilePaused / 1048576).toFixed(1)} MB while the client was not reading`);
  t.equal(received, total);
  t.ok(writtenWhilePaused >= 0 && writtenWhilePaused < 16 * 1024 * 1024, 'the upstream was paused, not drained into proxy memory');
  t.equal((await p.outcome()).status, 200);
});
