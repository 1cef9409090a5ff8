/**
 * Regression (security round 2, class 7): HTTP/1.0 framing.
 *
 * - `Expect` means nothing in HTTP/1.0 (RFC 9110 §10.1.1: a server MUST ignore a
 *   100-continue expectation in an HTTP/1.0 request): no `100 Continue` is sent,
 *   whatever is decided.
 * - A 1.0 request with `Transfer-Encoding` has faulty framing (RFC 9112 §6.1: the
 *   recipient MUST treat it so, and close the connection after processing the
 *   message): it is answered 400 invalid_request, never forwarded, and the connection
 *   closed, so nothing sent after it (a smuggled request) is ever read.
 */
import t from 'tap';
import { startWorld } from './fixture.js';

const SMUGGLED = 'GET /admin/secret HTTP/1.1\r\nHost: scopegate.test\r\n\r\n';

t.test('HTTP/1.0 framing over raw sockets against scopegate serve', async (t) => {
  const w = await startWorld();
  t.teardown(() => w.close());
  const auth = `Authorization: Bearer ${w.token('items:write')}`;

  t.test('positive control: a 1.0 POST with Content-Length is forwarded; 1.1 Expect still gets 100 Continue', async (t) => {
    const r = await w.probe(`POST /api/items HTTP/1.0\r\nHost: scopegate.test\r\n${auth}\r\nContent-Length: 5\r\n\r\nhello`);
    t.equal(r.first?.status, 200);
    t.equal(r.delta.length, 1);
    t.equal(r.delta[0]?.body.toString(), 'hello');
    const c = await w.probe(`POST /api/items HTTP/1.1\r\nHost: scopegate.test\r\n${auth}\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n`, { expect: 1, idleMs: 200 });
    t.equal(c.first?.status, 100, 'HTTP/1.1: 100 Continue on an allowed request');
  });

  t.test('1.0 with Expect: no 100 Continue, allowed or denied', async (t) => {
    for (const [name, lines, status, forwarded] of [
      ['allowed', [auth], 200, 1],
      ['denied', [], 401, 0],
    ] as const) {
      for (const expect of ['100-continue', '100-Continue', 'something-else']) {
        const r = await w.probe(`POST /api/items HTTP/1.0\r\nHost: scopegate.test\r\n${lines.map((l) => `${l}\r\n`).join('')}Expect: ${expect}\r\nContent-Length: 5\r\n\r\nhello`, { idleMs: 200 });
        t.notOk(r.responses.some((x) => x.status === 100), `${name} ${expect}: no 100 Continue`);
        t.equal(r.first?.status, status, `${name} ${expect}: the final answer`);
        t.equal(r.delta.length, forwarded, `${name}: upstream count`);
      }
    }
  });

  t.test('1.0 with Transfer-Encoding: 400, closed, nothing forwarded or smuggled', async (t) => {
    for (const te of ['chunked', 'Chunked', 'gzip, chunked', 'identity']) {
      for (const keepAlive of [[], ['Connection: keep-alive']]) {
        const head = [`POST /api/items HTTP/1.0`, 'Host: scopegate.test', auth, `Transfer-Encoding: ${te}`, ...keepAlive].join('\r\n');
        const r = await w.probe(`${head}\r\n\r\n5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, { idleMs: 300, settleMs: 200 });
        const name = `TE ${te}${keepAlive.length ? ' + keep-alive' : ''}`;
        t.equal(r.first?.status, 400, name);
        t.equal(r.responses.length, 1, `${name}: one answer`);
        t.ok(r.closed, `${name}: connection closed`);
        t.equal(r.delta.length, 0, `${name}: upstream saw nothing`);
      }
    }
  });
});
