import t from 'tap';
import { createTokenVerifier } from '../../../src/auth/verify.js';
import { compilePolicies, createDecider } from '../../../src/policy/decide.js';
import type { Allow, Decision, Deny } from '../../../src/policy/decision.js';
import { testConfig } from '../../helpers/config.js';
import { startJwksServer } from '../../helpers/jwks-server.js';
import { generateKey, jwkOf } from '../../helpers/keys.js';
import { claims, signToken } from '../../helpers/tokens.js';

const ISSUER = 'https://idp.unit.test/';
const ROUTES = [
  'GET /orgs: org:read',
  'GET /orgs/:org/projects: { scope: projects:read, mode: shadow }',
  'GET /strict: { scope: admin, mode: enforce }',
  'GET /public: { auth: none }',
  'GET /files/*: { auth: token }',
];

t.test('decide()', async (t) => {
  const key = generateKey('p256');
  const jwks = await startJwksServer({ keys: [jwkOf(key)] });
  t.teardown(() => jwks.close());
  const build = (extra = '') => {
    const config = testConfig({ issuer: ISSUER, jwksUri: jwks.jwksUri, routes: ROUTES, extra });
    const verifier = createTokenVerifier(config.auth);
    return { verifier, decider: createDecider(config, verifier) };
  };
  const enforce = build();
  const shadow = build('mode: shadow');
  await Promise.all([enforce.verifier.start(), shadow.verifier.start()]);
  t.teardown(() => Promise.all([enforce.verifier.close(), shadow.verifier.close()]));

  const tok = (scope: string) => signToken(key, claims(ISSUER, 'https://api.example.com', { scope }));
  const headers = (token?: string, ...more: string[]) => ['Host', 'api', ...(token === undefined ? [] : ['Authorization', `Bearer ${token}`]), ...more];
  const run = async (d: typeof enforce, method: string, target: string, raw: string[]): Promise<Decision> => d.decider.decide(method, target, raw);
  const denied = (d: Decision): Deny => {
    if (d.allow) throw new Error(`expected a deny, got allow for ${d.route}`);
    return d;
  };
  const allowed = (d: Decision): Allow => {
    if (!d.allow) throw new Error(`expected allow, got ${d.status} ${d.reason} ${d.code}`);
    return d;
  };

  t.test('the matched path is the returned path', async (t) => {
    const a = allowed(await run(enforce, 'GET', '/orgs/./acme/%70rojects?q=1&r=%2F', headers(tok('projects:read'))));
    t.equal(a.path, '/orgs/acme/projects');
    t.equal(a.query, '?q=1&r=%2F');
    t.equal(a.route, '/orgs/:org/projects');
    t.same(a.paramNames, ['org']);
    t.same(a.paramValues, ['acme']);
    t.same(a.token?.scopes, ['projects:read']);
    t.equal(a.wouldDeny, undefined);
  });

  t.test('order: path before route, route before token, token before scope', async (t) => {
    t.match(denied(await run(enforce, 'GET', '/../orgs', headers())), { status: 400, reason: 'bad_request', code: 'ERR_PATH_TRAVERSAL' });
    t.match(denied(await run(enforce, 'GET', '/nope', headers())), { status: 404, reason: 'no_route' });
    t.match(denied(await run(enforce, 'POST', '/orgs', headers())), { status: 405, reason: 'method_not_allowed', allowMethods: ['GET', 'HEAD'] });
    t.match(denied(await run(enforce, 'GET', '/orgs', headers())), { status: 401, reason: 'missing_token' });
    t.match(denied(await run(enforce, 'GET', '/orgs', headers('not.a.jwt'))), { status: 401, reason: 'invalid_token' });
    t.match(denied(await run(enforce, 'GET', '/orgs', headers(tok('other')))), { status: 403, reason: 'insufficient_scope', requiredScopes: ['org:read'] });
    t.match(denied(await run(enforce, 'GET', '/orgs?access_token=x', headers(tok('org:read')))), { status: 400, code: 'ERR_AUTH_TOKEN_IN_QUERY', route: '/orgs' });
    t.match(denied(await run(enforce, 'GET', '/orgs', headers(tok('org:read'), 'host', 'evil'))), { status: 400, code: 'ERR_REQUEST_DUPLICATE_HOST' });
  });

  t.test('two Authorization headers are a 400 on every route, public ones included', async (t) => {
    t.match(denied(await run(enforce, 'GET', '/public', headers('a', 'Authorization', 'Bearer b'))), { status: 400, code: 'ERR_AUTH_DUPLICATE_AUTHORIZATION' });
    t.match(denied(await run(enforce, 'GET', '/nope', headers('a', 'authorization', 'Bearer b'))), { status: 400 }, 'before routing');
    // Moved from the bearer unit test: extractBearer never sees a duplicate, decide() refuses it first.
    const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln';
    for (const raw of [
      ['Authorization', `Bearer ${TOKEN}`, 'Authorization', `Bearer ${TOKEN}`],
      ['authorization', `Bearer ${TOKEN}`, 'Host', 'x', 'AUTHORIZATION', 'Basic abc'],
      ['Authorization', '', 'authorization', `Bearer ${TOKEN}`],
      ['Authorization', 'Basic a', 'Authorization', 'Basic b'],
    ]) {
      t.match(denied(await run(enforce, 'GET', '/orgs', raw)), { status: 400, reason: 'bad_request', code: 'ERR_AUTH_DUPLICATE_AUTHORIZATION' }, JSON.stringify(raw));
    }
  });

  t.test('public routes read no token; wildcard routes still need one', async (t) => {
    const a = allowed(await run(enforce, 'GET', '/public', headers('garbage-token')));
    t.equal(a.token, undefined, 'the token on a public route is not even parsed');
    t.match(denied(await run(enforce, 'GET', '/files/a/b', headers())), { status: 401 });
    t.same(allowed(await run(enforce, 'GET', '/files/a/b', headers(tok('')))).paramValues, ['a/b']);
  });

  t.test('per-route shadow under global enforce', async (t) => {
    const missing = allowed(await run(enforce, 'GET', '/orgs/acme/projects', headers()));
    t.match(missing.wouldDeny, { status: 401, reason: 'missing_token' });
    t.equal(missing.token, undefined);
    const scope = allowed(await run(enforce, 'GET', '/orgs/acme/projects', headers(tok('other'))));
    t.match(scope.wouldDeny, { status: 403, reason: 'insufficient_scope' });
    t.same(scope.token?.scopes, ['other'], 'a verified token still yields identity');
    const bad = allowed(await run(enforce, 'GET', '/orgs/acme/projects', headers('a.b.c')));
    t.match(bad.wouldDeny, { reason: 'invalid_token' });
    t.equal(bad.token, undefined, 'an invalid token never becomes identity');
    // The rest of the table stays enforced.
    t.match(denied(await run(enforce, 'GET', '/orgs', headers())), { status: 401 });
    t.match(denied(await run(enforce, 'GET', '/nope', headers())), { status: 404 });
  });

  t.test('global shadow: policy denials forwarded, ambiguous requests still refused', async (t) => {
    const unmatched = allowed(await run(shadow, 'GET', '/nope/x?y=1', headers()));
    t.match(unmatched, { route: 'unmatched', path: '/nope/x', query: '?y=1', wouldDeny: { reason: 'no_route' } });
    t.match(allowed(await run(shadow, 'DELETE', '/orgs', headers())).wouldDeny, { reason: 'method_not_allowed' });
    t.match(allowed(await run(shadow, 'GET', '/orgs', headers(tok('x')))).wouldDeny, { reason: 'insufficient_scope' });
    t.match(allowed(await run(shadow, 'GET', '/orgs?access_token=x', headers())).wouldDeny, { code: 'ERR_AUTH_TOKEN_IN_QUERY' });
    t.match(denied(await run(shadow, 'GET', '/strict', headers(tok('x')))), { status: 403 }, 'a route pinned to enforce');
    t.match(denied(await run(shadow, 'GET', '/a/%2e%2e/%2e%2e/etc', headers())), { status: 400 }, 'path errors are never forwarded');
    t.match(denied(await run(shadow, 'GET', '/orgs', headers(tok('org:read'), 'Authorization', 'Bearer x'))), { status: 400, code: 'ERR_AUTH_DUPLICATE_AUTHORIZATION' });
    const ok = allowed(await run(shadow, 'GET', '/orgs', headers(tok('org:read'))));
    t.equal(ok.wouldDeny, undefined, 'an allowed request is not a shadow deny');
  });

  t.test('a cached token decides synchronously', async (t) => {
    const token = tok('org:read');
    await run(enforce, 'GET', '/orgs', headers(token));
    const again = enforce.decider.decide('GET', '/orgs', headers(token));
    t.notOk(again instanceof Promise, 'no await on a cache hit');
    t.equal((again as Decision).allow, true);
  });
});

t.test('the 403 description separates any_of alternatives from catalogue-required scopes', async (t) => {
  const config = testConfig({
    issuer: ISSUER,
    jwksUri: 'http://127.0.0.1:9/jwks',
    extra: 'scopes:\n  person:read:\n  admin:\n  api:access: { required: true }\n  a:\n',
    routes: ['GET /people: { any_of: [person:read, admin] }', 'GET /a: a'],
  });
  const { policies } = compilePolicies(config);
  const people = policies.find((p) => p.template === '/people')!;
  t.equal(people.insufficientScope.description, 'the token needs one of these scopes: person:read admin, and all of: api:access');
  t.same(people.insufficientScope.requiredScopes, ['person:read', 'admin', 'api:access']);
  t.equal(policies.find((p) => p.template === '/a')!.insufficientScope.description, 'the token needs the scopes: a api:access');
});
