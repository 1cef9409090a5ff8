/** The denial table: one row per code, deny() builds from it, route denials are built once. */
import t from 'tap';
import { compilePolicies } from '../../../src/policy/decide.js';
import { DENIALS, deny, frozenDeny, NO_ROUTE } from '../../../src/policy/denials.js';
import type { DenyCode } from '../../../src/errors.js';
import { testConfig } from '../../helpers/config.js';

t.test('every row is consistent with RFC 6750 and the metrics reasons', async (t) => {
  const codes = Object.keys(DENIALS) as DenyCode[];
  t.ok(codes.length >= 35, `${codes.length} codes`);
  for (const code of codes) {
    const row = DENIALS[code];
    t.match(code, /^ERR_(PATH|AUTH|ROUTE|REQUEST)_[A-Z_]+$/, code);
    t.ok(row.description.length > 0, `${code}: a default description`);
    // RFC 6750 §3: a challenge belongs to 401 and 403, and to 400 only where auth is concerned.
    // The one 403 that involves no token (a CORS preflight from another origin) is checked below: it must have none.
    if (row.status === 401 || (row.status === 403 && code !== 'ERR_REQUEST_CORS_ORIGIN_NOT_ALLOWED')) t.not(row.challenge, undefined, `${code}: ${row.status} carries a challenge`);
    if (row.status === 404 || row.status === 405 || row.status === 431 || row.status === 503) t.equal(row.challenge, undefined, `${code}: no challenge`);
    if (row.challenge === 'insufficient_scope') t.equal(row.status, 403);
  }
  t.match(DENIALS.ERR_REQUEST_CORS_ORIGIN_NOT_ALLOWED, { status: 403, reason: 'cors_origin_not_allowed', error: 'cors_origin_not_allowed' });
  t.equal(DENIALS.ERR_REQUEST_CORS_ORIGIN_NOT_ALLOWED.challenge, undefined, 'a preflight carries no token: no Bearer challenge');
  t.match(DENIALS.ERR_AUTH_TOKEN_MISSING, { status: 401, reason: 'missing_token', challenge: '' }, 'no credentials: a challenge without an error code (RFC 6750 §3.1)');
});

t.test('deny() fills a row with the route and the detail', async (t) => {
  t.same(deny('ERR_ROUTE_METHOD_NOT_ALLOWED', '/a', { description: 'PUT is not allowed on this route', allowMethods: ['GET', 'HEAD'] }), {
    kind: 'deny',
    allow: false,
    status: 405,
    reason: 'method_not_allowed',
    error: 'method_not_allowed',
    description: 'PUT is not allowed on this route',
    code: 'ERR_ROUTE_METHOD_NOT_ALLOWED',
    route: '/a',
    allowMethods: ['GET', 'HEAD'],
  });
  const expired = deny('ERR_AUTH_TOKEN_EXPIRED', '/a', { description: 'The token has expired' });
  t.match(expired, { status: 401, reason: 'invalid_token', error: 'invalid_token', challenge: { error: 'invalid_token' } });
  t.equal(expired.challenge, deny('ERR_AUTH_TOKEN_SIGNATURE', '/b').challenge, 'challenge objects are shared, never allocated per deny');
  t.notOk('challenge' in deny('ERR_PATH_TRAVERSAL', undefined), 'a bad path is not an auth problem: no challenge');
  t.match(deny('ERR_AUTH_KEYS_UNAVAILABLE', '/a', { retryAfterS: 7 }), { status: 503, error: 'temporarily_unavailable', retryAfterS: 7 });
  t.ok(Object.isFrozen(frozenDeny('ERR_ROUTE_NOT_FOUND', undefined)));
  t.ok(Object.isFrozen(NO_ROUTE));
});

t.test('each route’s request-independent denials are built once and frozen', async (t) => {
  const config = testConfig({ issuer: 'https://idp.test/', jwksUri: 'http://127.0.0.1:9/jwks', routes: ['GET /a/:id: { any_of: [x, y] }'] });
  const [policy] = compilePolicies(config).policies;
  if (policy === undefined) throw new Error('no policy');
  for (const d of [policy.missingToken, policy.insufficientScope, policy.queryToken, policy.methodOverride]) {
    t.ok(Object.isFrozen(d), d.code);
    t.equal(d.route, '/a/:id');
  }
  t.match(policy.insufficientScope, { status: 403, description: 'the token needs one of these scopes: x y', requiredScopes: ['x', 'y'] });
  t.match(policy.queryToken, { status: 400, code: 'ERR_AUTH_TOKEN_IN_QUERY', challenge: { error: 'invalid_request' } });
  t.match(policy.methodOverride, { status: 400, code: 'ERR_REQUEST_METHOD_OVERRIDE' });
  t.notOk('challenge' in policy.methodOverride);
});
