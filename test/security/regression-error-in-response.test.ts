/**
 * Regression (security round 2, class 8): errors written into a response in progress.
 *
 * Node hands over pipelined requests before the earlier ones are answered. When the
 * parser then fails on what follows, scopegate wrote `HTTP/1.1 400` on the socket at
 * once: into the middle of a streamed chunked body, or ahead of the upstream's answer
 * to a request it had already executed (so the client read a 400 for a request that
 * ran). Now, with a response in progress, nothing is written: each request already
 * handed over gets its own response, then the connection is closed (what Node's own
 * handler does once a response has started: close, never a second status line).
 */
import t from 'tap';
import { delayHandler, echoHandler, streamHandler } from '../helpers/upstream.js';
import { get, startWorld } from './fixture.js';

const MALFORMED_REQUEST = 'GET /public/next HTTP/1.1\r\nHost: scopegate.test\r\nBad Header Line\r\n\r\n';
const MALFORMED = { error: 'invalid_request', error_description: 'malformed HTTP request' };

t.test('parse errors during a response over raw sockets against scopegate serve', async (t) => {
  const w = await startWorld();
  t.teardown(() => w.close());
  t.afterEach(() => {
    w.upstream.handle = echoHandler;
  });

  t.test('positive control: a malformed request alone is answered 400; two valid pipelined requests get two answers', async (t) => {
    const bad = await w.probe(MALFORMED_REQUEST, { idleMs: 200 });
    t.equal(bad.first?.status, 400);
    t.same(bad.first?.json, MALFORMED);
    t.ok(bad.closed);
    t.equal(bad.delta.length, 0);
    const two = await w.probe(get('/public/a') + get('/public/b'), { expect: 2, idleMs: 200 });
    t.same(two.responses.map((r) => r.status), [200, 200]);
    t.equal(two.delta.length, 2);
  });

  t.test('a malformed request during a streamed 200: the body completes intact, no 400 inside it, then closed', async (t) => {
    w.upstream.handle = streamHandler(6, 64, 60);
    const r = await w.probe('', { chunks: [get('/public/stream'), MALFORMED_REQUEST], gapMs: 130, idleMs: 300, maxMs: 4000 });
    t.equal(r.responses.length, 1, 'one response');
    t.equal(r.first?.status, 200);
    t.equal(r.first?.body.length, 6 * 64, 'the whole streamed body');
    t.notMatch(r.raw, /HTTP\/1\.1 400/, 'no status line written into the body');
    t.ok(r.closed, 'connection closed afterwards');
    t.equal(r.delta.length, 1, 'upstream: the streamed request only');
  });

  t.test('an allowed request followed by garbage: the executed request gets its own answer, then closed', async (t) => {
    w.upstream.handle = delayHandler(150);
    for (const garbage of [MALFORMED_REQUEST, 'GARBAGE\r\n\r\n', '\x00\x01\x02\r\n\r\n']) {
      const r = await w.probe(get('/public/slow') + garbage, { idleMs: 300, maxMs: 4000 });
      t.equal(r.responses.length, 1, `${JSON.stringify(garbage.slice(0, 12))}: one response`);
      t.equal(r.first?.status, 200, 'the upstream’s answer, not a 400');
      t.equal(r.first?.body, 'late');
      t.notMatch(r.raw, /HTTP\/1\.1 400/);
      t.ok(r.closed);
      t.equal(r.delta.length, 1, 'upstream: the allowed request only');
    }
  });

  t.test('a denied request followed by garbage: its deny, nothing after it, closed', async (t) => {
    const r = await w.probe(get('/admin/x') + MALFORMED_REQUEST, { idleMs: 300 });
    t.equal(r.responses.length, 1);
    t.equal(r.first?.status, 401);
    t.ok(r.closed);
    t.equal(r.delta.length, 0);
  });
});
