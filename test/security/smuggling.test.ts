/**
 * Bypass class: request smuggling — the sidecar and the upstream disagree on
 * where a request ends, so a second, never-authorized request rides inside the
 * first (PortSwigger "HTTP Desync Attacks", 2019; CVE-2019-18277 HAProxy;
 * CVE-2022-32213/32214/32215 and CVE-2023-30589 in llhttp; RFC 9112 §6.1 and
 * §6.3: TE+CL is an error for a proxy, chunked must be final; §5.2 obs-fold;
 * §2.2 bare LF).
 *
 * Every case sends an allowed POST whose body would, under another framing
 * reading, hide `GET /admin/x` (needs the admin scope the token lacks). Each
 * must be refused (400, connection closed) with nothing at the upstream —
 * neither the carrier nor a smuggled request — and no second response.
 */
import t from 'tap';
import { req, startWorld } from './fixture.js';

const SMUGGLED = 'GET /admin/x HTTP/1.1\r\nHost: scopegate.test\r\n\r\n';
const MALFORMED = { error: 'invalid_request', error_description: 'malformed HTTP request' };

t.test('request smuggling over raw sockets against scopegate serve', async (t) => {
  const w = await startWorld();
  t.teardown(() => w.close());
  const auth = `Authorization: Bearer ${w.token('items:write')}`;
  const chunkedSmuggle = `0\r\n\r\n${SMUGGLED}`;
  const SLOW = { idleMs: 100, settleMs: 100 } as const;

  t.test('positive controls: chunked (any case) and Content-Length bodies arrive intact, one request each', async (t) => {
    for (const te of ['chunked', 'Chunked', 'CHUNKED']) {
      const r = await w.probe(req('POST', '/api/items', [auth, `Transfer-Encoding: ${te}`], '5\r\nhello\r\n0\r\n\r\n'), SLOW);
      t.equal(r.first?.status, 200, te);
      t.equal(r.delta.length, 1);
      t.equal(r.delta[0]?.body.toString(), 'hello');
    }
    const cl = await w.probe(req('POST', '/api/items', [auth, 'Content-Length: 5'], 'hello'), SLOW);
    t.equal(cl.delta[0]?.body.toString(), 'hello');
    // A body that merely *contains* a request stays a body.
    const inBody = await w.probe(req('POST', '/api/items', [auth, `Content-Length: ${SMUGGLED.length}`], SMUGGLED), SLOW);
    t.equal(inBody.responses.length, 1);
    t.equal(inBody.delta.length, 1);
    t.equal(inBody.delta[0]?.body.toString(), SMUGGLED);
    // `identity, chunked`: chunked is final, the message is well framed (RFC 9112 §6.1) — allowed.
    const idc = await w.probe(req('POST', '/api/items', [auth, 'Transfer-Encoding: identity, chunked'], '5\r\nhello\r\n0\r\n\r\n'), SLOW);
    t.equal(idc.first?.status, 200);
    t.equal(idc.delta[0]?.body.toString(), 'hello');
    t.notOk('transfer-encoding' in (idc.delta[0]?.headers ?? {}) && idc.delta[0]?.headers['transfer-encoding'] !== 'chunked', 'upstream framing is undici\'s own');
    // Pipelining is not smuggling: each request is decided on its own.
    const pipe = await w.probe(req('POST', '/api/items', [auth, 'Content-Length: 0']) + SMUGGLED, { ...SLOW, expect: 2 });
    t.same(pipe.responses.map((x) => x.status), [200, 401], 'second pipelined request is decided (and denied) on its own');
    t.equal(pipe.delta.length, 1);
  });

  const cases: [string, string][] = [
    ['CL.TE', req('POST', '/api/items', [auth, `Content-Length: ${chunkedSmuggle.length}`, 'Transfer-Encoding: chunked'], chunkedSmuggle)],
    ['TE.CL', req('POST', '/api/items', [auth, 'Transfer-Encoding: chunked', 'Content-Length: 4'], `5c\r\n${SMUGGLED}\r\n0\r\n\r\n`)],
    ['duplicate Content-Length, different values', req('POST', '/api/items', [auth, 'Content-Length: 0', `Content-Length: ${SMUGGLED.length}`], SMUGGLED)],
    ['duplicate Content-Length, same value', req('POST', '/api/items', [auth, 'Content-Length: 5', 'Content-Length: 5'], 'hello')],
    ['Content-Length list', req('POST', '/api/items', [auth, 'Content-Length: 5, 5'], 'hello')],
    ['Content-Length with sign', req('POST', '/api/items', [auth, 'Content-Length: +5'], 'hello')],
    ['negative Content-Length', req('POST', '/api/items', [auth, 'Content-Length: -1'], SMUGGLED)],
    ['Content-Length hex', req('POST', '/api/items', [auth, 'Content-Length: 0x5'], 'hello')],
    ['Content-Length with space inside', req('POST', '/api/items', [auth, 'Content-Length: 1 0'], SMUGGLED)],
    ['TE: chunked, identity (chunked not final)', req('POST', '/api/items', [auth, 'Transfer-Encoding: chunked, identity'], chunkedSmuggle)],
    ['TE: xchunked', req('POST', '/api/items', [auth, 'Transfer-Encoding: xchunked'], chunkedSmuggle)],
    ['TE: chunked-false', req('POST', '/api/items', [auth, 'Transfer-Encoding: chunked-false'], chunkedSmuggle)],
    ['TE: identity', req('POST', '/api/items', [auth, 'Transfer-Encoding: identity'], SMUGGLED)],
    ['TE: gzip', req('POST', '/api/items', [auth, 'Transfer-Encoding: gzip'], SMUGGLED)],
    ['TE twice: chunked + identity', req('POST', '/api/items', [auth, 'Transfer-Encoding: chunked', 'Transfer-Encoding: identity'], chunkedSmuggle)],
    ['TE twice: chunked + chunked', req('POST', '/api/items', [auth, 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], chunkedSmuggle)],
    ['TE with space before colon', req('POST', '/api/items', [auth, 'Transfer-Encoding : chunked', `Content-Length: ${chunkedSmuggle.length}`], chunkedSmuggle)],
    ['TE via obs-fold', req('POST', '/api/items', [auth, 'X-Foo: bar\r\n Transfer-Encoding: chunked', `Content-Length: ${chunkedSmuggle.length}`], chunkedSmuggle)],
    ['TE value obs-folded', req('POST', '/api/items', [auth, 'Transfer-Encoding:\r\n chunked', `Content-Length: ${chunkedSmuggle.length}`], chunkedSmuggle)],
    ['TE with vertical tab', req('POST', '/api/items', [auth, 'Transfer-Encoding:\x0bchunked'], chunkedSmuggle)],
    ['TE with NUL', req('POST', '/api/items', [auth, 'Transfer-Encoding: chunked\x00'], chunkedSmuggle)],
    ['bare LF line endings', `POST /api/items HTTP/1.1\nHost: scopegate.test\n${auth}\nContent-Length: 0\n\n${SMUGGLED}`],
    ['bare LF in one header line', `POST /api/items HTTP/1.1\r\nHost: scopegate.test\n${auth}\r\nContent-Length: 0\r\n\r\n${SMUGGLED}`],
    ['bare CR in a header line', req('POST', '/api/items', [auth, 'X-A: a\rTransfer-Encoding: chunked', 'Content-Length: 0'], chunkedSmuggle)],
    ['HTTP/1.0 with chunked', `POST /api/items HTTP/1.0\r\nHost: scopegate.test\r\n${auth}\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n${chunkedSmuggle}`],
    ['h2c prior-knowledge preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
  ];

  t.test(`ambiguous framing is refused: 400, closed, nothing smuggled (${cases.length} cases)`, async (t) => {
    for (const [name, bytes] of cases) {
      const r = await w.probe(bytes, SLOW);
      t.equal(r.first?.status, 400, name);
      t.same(r.first?.json, MALFORMED, name);
      t.equal(r.responses.length, 1, `${name}: no second response`);
      t.ok(r.closed, `${name}: connection closed`);
      t.equal(r.delta.length, 0, `${name}: upstream saw nothing`);
    }
  });

  // Malformed *chunked bodies* are found only after the head was decided: an allowed carrier
  // may already be streaming to the upstream when the parser fails, so the upstream can see
  // the carrier (its body cut short); what it must never see is the smuggled request.
  const bodyCases: [string, string][] = [
    ['bare LF after chunk size', req('POST', '/api/items', [auth, 'Transfer-Encoding: chunked'], `5\nhello\r\n0\r\n\r\n${SMUGGLED}`)],
    ['chunk size with sign', req('POST', '/api/items', [auth, 'Transfer-Encoding: chunked'], `+5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`)],
    ['chunk size 0x prefix', req('POST', '/api/items', [auth, 'Transfer-Encoding: chunked'], `0x5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`)],
    ['chunk data longer than its size', req('POST', '/api/items', [auth, 'Transfer-Encoding: chunked'], `1\r\nhello\r\n0\r\n\r\n${SMUGGLED}`)],
    ['chunk size overflow', req('POST', '/api/items', [auth, 'Transfer-Encoding: chunked'], `fffffffffffffffff\r\nhello\r\n0\r\n\r\n${SMUGGLED}`)],
    ['chunk extension with bare LF', req('POST', '/api/items', [auth, 'Transfer-Encoding: chunked'], `5;a=\nb\r\nhello\r\n0\r\n\r\n${SMUGGLED}`)],
  ];
  t.test(`malformed chunked bodies: connection closed, no complete body and nothing smuggled (${bodyCases.length} cases)`, async (t) => {
    for (const [name, bytes] of bodyCases) {
      const r = await w.probe(bytes, { idleMs: 300, settleMs: 300 });
      t.ok(r.closed, `${name}: connection closed`);
      t.notOk(r.responses.some((x) => x.status === 200), `${name}: never a success`);
      t.ok(r.delta.length <= 1, `${name}: at most the carrier`);
      for (const seen of r.delta) {
        t.equal(seen.url, '/api/items', `${name}: only the carrier`);
        t.notOk(seen.bodySha256 !== undefined && seen.body.toString() === 'hello', `${name}: the upstream never got a complete body`);
      }
      t.notOk(w.upstream.requests.some((x) => x.url.startsWith('/admin')), `${name}: nothing smuggled`);
    }
  });

  t.test('HTTP/0.9-style and HTTP/2.0 request lines are decided like any request (denied here), never smuggled', async (t) => {
    for (const bytes of ['GET /admin/x\r\n\r\n', 'GET /admin/x HTTP/2.0\r\nHost: scopegate.test\r\n\r\n']) {
      const r = await w.probe(bytes, SLOW);
      t.ok(r.first === undefined || r.first.status === 400 || r.first.status === 401, JSON.stringify(bytes));
      t.equal(r.delta.length, 0);
    }
  });
});
