/**
 * Denials an operator can diagnose, through the real process: each 401 cause is
 * named on its access line and in scopegate_decisions_total{cause}; a 403 names
 * the missing scopes and who asked; an `iss` off by a trailing slash says so in
 * the log (never in the response); tokens never reach the log.
 */
import t from 'tap';
import { send } from '../helpers/http.js';
import { generateKey } from '../helpers/keys.js';
import { startStack, STACK_AUDIENCE } from '../helpers/stack.js';
import { claims, nowS, segment, signToken, tamperSignature } from '../helpers/tokens.js';

const ISSUER = 'https://idp.diagnosis.test/';

t.test('each 401 cause, a 403, identity fields and the trailing-slash issuer', async (t) => {
  const { key, sidecar, token } = await startStack(t, {
    issuer: ISSUER,
    algorithms: ['ES256'],
    routes: ['GET /reports/:id: reports:read'],
  });
  const valid = token('reports:read', { jti: 'jti-ok' });
  const cases: { cause: string; token: string }[] = [
    { cause: 'expired', token: signToken(key, claims(ISSUER, STACK_AUDIENCE, { scope: 'reports:read', iat: nowS() - 7200, exp: nowS() - 3600 })) },
    { cause: 'not_yet_valid', token: signToken(key, claims(ISSUER, STACK_AUDIENCE, { scope: 'reports:read', nbf: nowS() + 3600 })) },
    { cause: 'bad_signature', token: tamperSignature(valid) },
    { cause: 'unknown_key', token: signToken(generateKey('p256'), claims(ISSUER, STACK_AUDIENCE, { scope: 'reports:read' })) },
    { cause: 'issuer', token: signToken(key, claims(ISSUER.slice(0, -1), STACK_AUDIENCE, { scope: 'reports:read' })) },
    { cause: 'audience', token: signToken(key, claims(ISSUER, 'https://other.example', { scope: 'reports:read' })) },
    { cause: 'malformed', token: 'not-a-jwt' },
    { cause: 'algorithm', token: `${segment({ alg: 'ES384', kid: key.kid })}.${segment(claims(ISSUER, STACK_AUDIENCE))}.AAAA` },
  ];
  for (const c of cases) {
    const res = await send(sidecar.url, `/reports/${c.cause}?q=1`, { headers: { authorization: `Bearer ${c.token}` } });
    t.equal(res.status, 401, `${c.cause}: 401`);
    if (c.cause === 'issuer') t.notMatch(res.body, /idp\.diagnosis\.test/, 'the response does not name the issuers');
  }
  const forbidden = token('other', { jti: 'jti-403', client_id: 'billing-app' });
  t.equal((await send(sidecar.url, '/reports/7', { headers: { authorization: `Bearer ${forbidden}` } })).status, 403);
  t.equal((await send(sidecar.url, '/reports/8', { headers: { authorization: `Bearer ${valid}` } })).status, 200);

  const lines = await sidecar.waitForLogs('request', cases.length + 2);
  for (const c of cases) {
    const line = lines.find((l) => l['path'] === `/reports/${c.cause}`);
    t.match(line, { status: 401, reason: 'invalid_token', cause: c.cause, route: '/reports/:id' }, `${c.cause}: the access line names it`);
  }
  const issuerLine = lines.find((l) => l['path'] === '/reports/issuer');
  t.match(issuerLine, { mismatch: { claim: 'iss', presented: ISSUER.slice(0, -1), expected: [ISSUER], note: 'differs only by a trailing slash' } });
  const audienceLine = lines.find((l) => l['path'] === '/reports/audience');
  t.match(audienceLine, { mismatch: { claim: 'aud', presented: 'https://other.example', expected: [STACK_AUDIENCE] } });
  t.notOk(audienceLine !== undefined && 'note' in (audienceLine['mismatch'] as object), 'no trailing-slash note when the values differ otherwise');

  const denied = lines.find((l) => l['path'] === '/reports/7');
  t.match(denied, { status: 403, missing_scopes: ['reports:read'], client_id: 'billing-app', jti: 'jti-403' });
  t.notOk(denied !== undefined && 'sub' in denied, 'sub is not logged unless logging.fields lists it');
  t.notOk(denied !== undefined && 'cause' in denied, 'a 403 has no token cause');
  t.match(lines.find((l) => l['path'] === '/reports/8'), { status: 200, client_id: 'client-1', jti: 'jti-ok' });

  const all = sidecar.stdout.join('\n');
  for (const c of [...cases.filter((x) => x.token.includes('.')), { token: forbidden }, { token: valid }]) {
    t.notOk(all.includes(c.token.split('.')[2]!), 'no token signature in the log');
  }
  t.notMatch(all, /q=1/, 'the query is not logged');

  const metrics = (await send(sidecar.adminUrl, '/metrics')).body;
  for (const c of cases) t.match(metrics, new RegExp(`scopegate_decisions_total\\{outcome="deny",reason="invalid_token",listener="proxy",cause="${c.cause}"\\} 1`), `${c.cause} counted`);
  t.match(metrics, /scopegate_decisions_total\{outcome="deny",reason="insufficient_scope",listener="proxy"\} 1/, 'non-401 series keep their labels');
  t.match(metrics, /scopegate_build_info\{version="[^"]+",node="v\d+\.\d+\.\d+"\} 1/);
});

t.test('logging.fields: sub only when listed', async (t) => {
  const { sidecar, token } = await startStack(t, {
    issuer: ISSUER,
    routes: ['GET /me: reports:read'],
    extra: 'logging:\n  fields: [sub]',
  });
  t.equal((await send(sidecar.url, '/me', { headers: { authorization: `Bearer ${token('reports:read', { jti: 'j1' })}` } })).status, 200);
  const [line] = await sidecar.waitForLogs('request', 1);
  t.match(line, { sub: 'user-1', path: '/me' });
  t.notOk(line !== undefined && ('client_id' in line || 'jti' in line), 'only the listed fields');
});
