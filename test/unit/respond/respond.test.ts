import { Agent, createServer, request, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import t, { type Test } from 'tap';
import type { Deny } from '../../../src/policy/decision.js';
import { buildChallenge, quoteString, sanitizeNqs, sendDeny } from '../../../src/respond/deny.js';
import { sendError } from '../../../src/respond/error.js';
import { listen } from '../../helpers/listen.js';

function deny(over: Partial<Deny> & Pick<Deny, 'status' | 'reason' | 'error'>): Deny {
  return { kind: 'deny', allow: false, description: 'd', code: 'ERR_ROUTE_NOT_FOUND', route: undefined, ...over };
}

const missing = deny({ status: 401, reason: 'missing_token', error: 'invalid_request', description: 'no bearer token', challenge: { error: '' } });
const invalid = deny({ status: 401, reason: 'invalid_token', error: 'invalid_token', description: 'token expired', challenge: { error: 'invalid_token' } });
const scope = deny({
  status: 403,
  reason: 'insufficient_scope',
  error: 'insufficient_scope',
  description: 'requires projects:write',
  requiredScopes: ['projects:write', 'projects:admin'],
  challenge: { error: 'insufficient_scope' },
});
const badReq = deny({ status: 400, reason: 'bad_request', error: 'invalid_request', description: 'two Authorization headers', challenge: { error: 'invalid_request' } });
const badPath = deny({ status: 400, reason: 'bad_request', error: 'invalid_request', description: 'encoded slash' });
const notFound = deny({ status: 404, reason: 'no_route', error: 'not_found', description: 'no route' });
const notAllowed = deny({ status: 405, reason: 'method_not_allowed', error: 'method_not_allowed', description: 'method not allowed', allowMethods: ['GET', 'HEAD'] });
const unavailable = deny({ status: 503, reason: 'keys_unavailable', error: 'temporarily_unavailable', description: 'keys unavailable', retryAfterS: 7 });

t.test('WWW-Authenticate per RFC 6750 §3, exactly', async (t) => {
  t.equal(buildChallenge(missing, 'scopegate'), 'Bearer realm="scopegate"', 'no credentials: no error code');
  t.equal(buildChallenge(invalid, 'scopegate'), 'Bearer realm="scopegate", error="invalid_token", error_description="token expired"');
  t.equal(
    buildChallenge(scope, 'scopegate'),
    'Bearer realm="scopegate", error="insufficient_scope", error_description="requires projects:write", scope="projects:write projects:admin"',
  );
  t.equal(buildChallenge(badReq, 'scopegate'), 'Bearer realm="scopegate", error="invalid_request", error_description="two Authorization headers"');
  t.equal(buildChallenge(badPath, 'scopegate'), undefined, 'a 400 unrelated to auth has no challenge');
  t.equal(buildChallenge(notFound, 'r'), undefined);
  t.equal(buildChallenge(notAllowed, 'r'), undefined);
  t.equal(buildChallenge(unavailable, 'r'), undefined);
  // Without an explicit challenge the status decides.
  const { challenge: _c, ...bare401 } = invalid;
  t.equal(buildChallenge(bare401, 'r'), 'Bearer realm="r", error="invalid_token", error_description="token expired"');
  const { challenge: _m, ...bareMissing } = missing;
  t.equal(buildChallenge(bareMissing, 'r'), 'Bearer realm="r"');
});

t.test('realm is a quoted-string; descriptions are restricted to NQSCHAR', async (t) => {
  t.equal(quoteString('a"b\\c'), '"a\\"b\\\\c"');
  t.equal(quoteString('x\r\ny\u0100'), '"xy"');
  t.equal(buildChallenge(missing, 'my "realm"'), 'Bearer realm="my \\"realm\\""');
  t.equal(sanitizeNqs('issuer "evil"\\ \r\n\u00e9!'), "issuer 'evil'     !");
  t.equal(sanitizeNqs('x'.repeat(1000)).length, 256, 'capped');
  const hostile = deny({ ...invalid, description: 'aud "x", error="none"\n' });
  const value = buildChallenge(hostile, 'r') ?? '';
  t.equal(value, `Bearer realm="r", error="invalid_token", error_description="aud 'x', error='none' "`);
  t.match(value, /^[\x20-\x7e]+$/, 'printable ASCII only');
});

interface Got {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

async function roundTrip(t: Test, write: (res: ServerResponse) => void, method = 'GET', reqBody?: string, agent: Agent | false = false): Promise<Got> {
  const server = createServer((_req, res) => write(res));
  const l = await listen(server);
  t.teardown(l.close);
  return new Promise((resolve, reject) => {
    const req = request(`${l.url}/x`, { method, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    if (reqBody !== undefined) {
      // announce more than we send: the body is still pending when the deny is written
      req.setHeader('content-length', String(reqBody.length + 100));
      req.write(reqBody);
    } else req.end();
  });
}

t.test('sendDeny writes status, challenge and JSON body for each shape', async (t) => {
  const cases: Array<[Deny, Record<string, unknown>, Record<string, string | undefined>]> = [
    [missing, { error: 'invalid_request', error_description: 'no bearer token' }, { 'www-authenticate': 'Bearer realm="sg"' }],
    [invalid, { error: 'invalid_token', error_description: 'token expired' }, { 'www-authenticate': 'Bearer realm="sg", error="invalid_token", error_description="token expired"' }],
    [
      scope,
      { error: 'insufficient_scope', error_description: 'requires projects:write', scope: 'projects:write projects:admin' },
      { 'www-authenticate': 'Bearer realm="sg", error="insufficient_scope", error_description="requires projects:write", scope="projects:write projects:admin"' },
    ],
    [badReq, { error: 'invalid_request', error_description: 'two Authorization headers' }, {}],
    [badPath, { error: 'invalid_request', error_description: 'encoded slash' }, { 'www-authenticate': undefined }],
    [notFound, { error: 'not_found', error_description: 'no route' }, { 'www-authenticate': undefined, allow: undefined }],
    [notAllowed, { error: 'method_not_allowed', error_description: 'method not allowed' }, { allow: 'GET, HEAD', 'www-authenticate': undefined }],
    [unavailable, { error: 'temporarily_unavailable', error_description: 'keys unavailable' }, { 'retry-after': '7', 'www-authenticate': undefined }],
  ];
  for (const [d, body, headers] of cases) {
    const got = await roundTrip(t, (res) => sendDeny(res, d, 'sg'));
    t.equal(got.status, d.status, `${d.reason} status`);
    t.same(JSON.parse(got.body), body, `${d.reason} body`);
    t.equal(got.headers['content-type'], 'application/json');
    t.equal(got.headers['cache-control'], 'no-store');
    t.equal(got.headers['content-length'], String(Buffer.byteLength(got.body)));
    for (const [k, v] of Object.entries(headers)) t.equal(got.headers[k], v, `${d.reason} ${k}`);
  }
  const defaultRetry = await roundTrip(t, (res) => sendDeny(res, { ...unavailable, retryAfterS: undefined }, 'sg'));
  t.equal(defaultRetry.headers['retry-after'], '10');
});

t.test('a deny answered before the request body was read closes the connection', async (t) => {
  const got = await roundTrip(t, (res) => sendDeny(res, invalid, 'sg'), 'POST', 'partial');
  t.equal(got.status, 401);
  t.equal(got.headers['connection'], 'close');
  const keepAlive = new Agent({ keepAlive: true });
  t.teardown(() => keepAlive.destroy());
  const getReq = await roundTrip(t, (res) => sendDeny(res, invalid, 'sg'), 'GET', undefined, keepAlive);
  t.not(getReq.headers['connection'], 'close', 'bodyless requests keep the connection');
});

t.test('sendError writes a JSON error; after headers it destroys instead', async (t) => {
  const got = await roundTrip(t, (res) => sendError(res, 502, 'bad_gateway', 'upstream unreachable'));
  t.equal(got.status, 502);
  t.same(JSON.parse(got.body), { error: 'bad_gateway', error_description: 'upstream unreachable' });
  t.equal(got.headers['cache-control'], 'no-store');

  const server = createServer((_req, res) => {
    res.writeHead(200);
    res.write('partial');
    sendError(res, 502, 'bad_gateway', 'x');
  });
  const l = await listen(server);
  t.teardown(l.close);
  const outcome = await new Promise<string>((resolve) => {
    const req = request(`${l.url}/`, { agent: false }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve('ended'));
      res.on('aborted', () => resolve('aborted'));
      res.on('error', () => resolve('aborted'));
    });
    req.on('error', () => resolve('aborted'));
    req.end();
  });
  t.equal(outcome, 'aborted', 'status already sent: the connection is cut');
});
