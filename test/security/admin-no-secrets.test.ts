/**
 * What the admin page shows never includes a credential (README, "Admin page"):
 * after requests carrying JWTs, opaque tokens, a Basic Authorization value and
 * a query token, neither `/`, `/status` nor `scopegate status` contains any of
 * them, nor the introspection client secret. Positive controls: the secret was
 * live (the introspection endpoint received it), the requests were recorded
 * (the denials and their client ids are there), and only the allowed requests
 * reached the upstream.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readStatus, statusCli } from '../helpers/admin.js';
import { send } from '../helpers/http.js';
import { startIntrospectionServer } from '../helpers/introspection-server.js';
import { startStack, STACK_AUDIENCE } from '../helpers/stack.js';

const ISSUER = 'https://idp.secrets.test/';
const SECRET = 'introspection-s3cret-do-not-show';
const OPAQUE_ACTIVE = 'opaque-active-7c1f0a2e9b4d4e3f';
const OPAQUE_INACTIVE = 'opaque-inactive-51b8d7c2a6e9f013';
const QUERY_TOKEN = 'query-token-0d9e8f7a6b5c4d3e';
const BASIC = `Basic ${Buffer.from('alice:basic-password-3f2e1d').toString('base64')}`;

t.test('no token, Authorization value or client secret on the page, in /status or from the CLI', async (t) => {
  const introspection = await startIntrospectionServer();
  t.teardown(() => introspection.close());
  const exp = Math.floor(Date.now() / 1000) + 600;
  introspection.answer = (form) => (form.get('token') === OPAQUE_ACTIVE ? { active: true, scope: 'orders:read', client_id: 'opaque-client', sub: 'opaque-user', exp } : { active: false });
  const secretFile = join(mkdtempSync(join(tmpdir(), 'scopegate-secret-')), 'introspection');
  writeFileSync(secretFile, SECRET);
  const stack = await startStack(t, {
    issuer: ISSUER,
    routes: ['GET /orders: orders:read', 'POST /orders: orders:write'],
    authExtra: ['  introspection:', `    endpoint: ${introspection.endpoint}`, '    client_id: scopegate-gate', `    client_secret_file: ${secretFile}`].join('\n'),
  });
  const { sidecar, upstream } = stack;
  const jwt = stack.token('orders:read', { client_id: 'jwt-client' });
  const expired = stack.token('orders:read', { client_id: 'jwt-client', exp: Math.floor(Date.now() / 1000) - 3600 });
  const auth = (value: string) => ({ headers: { authorization: value } });

  const statuses = [
    (await send(sidecar.url, '/orders', auth(`Bearer ${jwt}`))).status,
    (await send(sidecar.url, '/orders', { method: 'POST', ...auth(`Bearer ${jwt}`) })).status,
    (await send(sidecar.url, '/orders', auth(`Bearer ${expired}`))).status,
    (await send(sidecar.url, '/orders', auth(`Bearer ${OPAQUE_ACTIVE}`))).status,
    (await send(sidecar.url, '/orders', { method: 'POST', ...auth(`Bearer ${OPAQUE_ACTIVE}`) })).status,
    (await send(sidecar.url, '/orders', auth(`Bearer ${OPAQUE_INACTIVE}`))).status,
    (await send(sidecar.url, '/orders', auth(BASIC))).status,
    (await send(sidecar.url, `/orders?access_token=${QUERY_TOKEN}`, auth(`Bearer ${jwt}`))).status,
  ];
  t.same(statuses, [200, 403, 401, 200, 403, 401, 401, 400]);
  t.equal(upstream.count, 2, 'only the two allowed requests were forwarded');

  // Positive control: the secret is live, sent to the introspection endpoint (client_secret_basic).
  const basic = String(introspection.calls[0]?.headers.authorization ?? '');
  t.ok(Buffer.from(basic.replace(/^Basic /, ''), 'base64').toString('utf8').endsWith(`:${SECRET}`), 'the secret was used');

  const page = await (await fetch(`${sidecar.adminUrl}/`)).text();
  const { text: status, doc } = await readStatus(sidecar.adminUrl);
  const cli = await statusCli(sidecar.adminUrl);
  t.equal(cli.code, 0, cli.stderr);

  // Positive control: the requests were recorded, with the identity logging.fields allows by default.
  t.equal(doc.denials.recent.length, 6);
  t.same(new Set(doc.denials.recent.map((d) => d.client_id)), new Set(['jwt-client', 'opaque-client', null]));
  t.ok(doc.denials.recent.every((d) => d.sub === null), 'sub is not listed in logging.fields: never shown');
  t.match(doc.introspection, { endpoint: introspection.endpoint, client_id: 'scopegate-gate' });
  t.match(cli.stdout, /jwt-client/);
  t.match(cli.stdout, /opaque-client/);

  const secrets: [string, string][] = [
    ['the JWT', jwt],
    ['the expired JWT', expired],
    ['the active opaque token', OPAQUE_ACTIVE],
    ['the inactive opaque token', OPAQUE_INACTIVE],
    ['the query token', QUERY_TOKEN],
    ['the Basic Authorization value', BASIC.slice('Basic '.length)],
    ['the introspection client secret', SECRET],
    ['the token subject', 'opaque-user'],
  ];
  // Each JWT's signature and payload too: a partial copy is a leak as well.
  for (const token of [jwt, expired]) for (const part of token.split('.').slice(1)) secrets.push([`a JWT segment`, part]);
  for (const [where, text] of [['/', page], ['/status', status], ['scopegate status', cli.stdout + cli.stderr]] as const) {
    for (const [what, value] of secrets) t.notOk(text.includes(value), `${what} is not in ${where}`);
    t.notMatch(text, /Bearer |Basic /, `no Authorization scheme in ${where}`);
  }
});
