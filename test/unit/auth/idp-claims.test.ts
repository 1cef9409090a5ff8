/** Tokens of real identity providers: claim references, issuer templates, client_ids, require_claims, typ. */
import t from 'tap';
import { grantedScopes, readRegisteredClaims, checkRegisteredClaims } from '../../../src/auth/claims.js';
import { checkIssuerPolicy, createIssuerIndex } from '../../../src/auth/issuer-policy.js';
import { createTypCheck } from '../../../src/auth/typ.js';
import type { IssuerConfig } from '../../../src/config/schema.js';
import { TokenError } from '../../../src/errors.js';

const issuer = (over: Partial<IssuerConfig> & { issuer: string }): IssuerConfig => ({
  jwksUri: 'https://idp.test/keys',
  audiences: ['api'],
  algorithms: ['RS256'],
  readiness: 'required',
  clientIds: [],
  requireClaims: {},
  ...over,
});
const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const tokenWithTyp = (typ: string | undefined): string => `${b64(typ === undefined ? { alg: 'RS256' } : { alg: 'RS256', typ })}.${b64({})}.sig`;

t.test('scope claims: literal names with dots, paths into nested objects, union in order', async (t) => {
  const payload = {
    scope: 'a',
    permissions: ['read:orders', 'write:orders'],
    'https://example.com/roles': ['admin'],
    https: { 'example.com/roles': ['nope'] },
    realm_access: { roles: ['r1', 'a'] },
    resource_access: { 'orders-api': { roles: ['r2'] } },
  };
  const refs = ['scope', 'permissions', 'https://example.com/roles', { path: ['realm_access', 'roles'] }, { path: ['resource_access', 'orders-api', 'roles'] }];
  t.same(grantedScopes(payload, refs), ['a', 'read:orders', 'write:orders', 'admin', 'r1', 'r2']);
  t.same(grantedScopes({ realm_access: 'x' }, [{ path: ['realm_access', 'roles'] }]), [], 'a path through a non-object grants nothing');
  t.same(grantedScopes({}, [{ path: ['resource_access', 'orders-api', 'roles'] }]), [], 'a missing key grants nothing');
  t.same(grantedScopes({ roles: 'x y' }, ['roles']), ['x', 'y'], 'a string claim is space-delimited');
  for (const [payload, ref] of [
    [{ permissions: 5 }, 'permissions'],
    [{ roles: [1] }, 'roles'],
    [{ realm_access: { roles: { a: 1 } } }, { path: ['realm_access', 'roles'] }],
    [{ scope: ['a'] }, 'scope'],
  ] as const) {
    const r = grantedScopes(payload, [ref]);
    t.ok(r instanceof TokenError && r.code === 'ERR_AUTH_TOKEN_BAD_CLAIM', `${JSON.stringify(payload)} is invalid_token`);
  }
  t.same(grantedScopes({ ['__proto__']: 'x' } as Record<string, unknown>, [{ path: ['constructor', 'name'] }]), [], 'never reads the prototype');
});

t.test('issuer templates: {tid} from the token, tenants allow-list, tid syntax', async (t) => {
  const entra = issuer({ issuer: 'https://login.microsoftonline.com/{tid}/v2.0', tenants: ['t-1', 'T2'] });
  const any = issuer({ issuer: 'https://sts.windows.net/{tid}/', tenants: ['any'] });
  const plain = issuer({ issuer: 'https://idp.test/' });
  const index = createIssuerIndex([entra, any, plain]);
  t.equal(index.find({ iss: 'https://login.microsoftonline.com/t-1/v2.0', tid: 't-1' }), entra);
  t.equal(index.find({ iss: 'https://login.microsoftonline.com/T2/v2.0', tid: 'T2' }), entra);
  t.equal(index.find({ iss: 'https://login.microsoftonline.com/t-3/v2.0', tid: 't-3' }), undefined, 'a tenant not listed');
  t.equal(index.find({ iss: 'https://login.microsoftonline.com/t-1/v2.0', tid: 'T2' }), undefined, 'iss and tid must agree');
  t.equal(index.find({ iss: 'https://login.microsoftonline.com/t-1/v2.0' }), undefined, 'no tid');
  t.equal(index.find({ iss: 'https://sts.windows.net/whatever-1/', tid: 'whatever-1' }), any, '[any]');
  for (const tid of ['a/b', 'a.b', '', 'x'.repeat(65), 'a b', '..']) {
    t.equal(index.find({ iss: `https://sts.windows.net/${tid}/`, tid }), undefined, `tid ${JSON.stringify(tid)} is refused`);
  }
  t.equal(index.find({ iss: 'https://idp.test/' }), plain);
  t.equal(index.find({ iss: 'https://sts.windows.net/{tid}/', tid: 'x' }), undefined, 'the template itself is not an issuer');
});

t.test('client_ids (client_id, else azp), require_claims, typ', async (t) => {
  const cognito = issuer({ issuer: 'https://cognito.test/pool', audiences: [], clientIds: ['app1'], requireClaims: { token_use: 'access' } });
  const tok = tokenWithTyp(undefined);
  t.equal(checkIssuerPolicy(cognito, tok, { client_id: 'app1', token_use: 'access' }), undefined);
  t.equal(checkIssuerPolicy(cognito, tok, { azp: 'app1', token_use: 'access' }), undefined, 'azp when client_id is absent');
  t.equal(checkIssuerPolicy(cognito, tok, { client_id: 'other', azp: 'app1', token_use: 'access' })?.code, 'ERR_AUTH_TOKEN_AUDIENCE', 'client_id wins over azp');
  t.equal(checkIssuerPolicy(cognito, tok, { token_use: 'access' })?.code, 'ERR_AUTH_TOKEN_AUDIENCE', 'no client at all');
  t.equal(checkIssuerPolicy(cognito, tok, { client_id: 'app1', token_use: 'id' })?.code, 'ERR_AUTH_TOKEN_BAD_CLAIM', 'an id token');
  t.equal(checkIssuerPolicy(cognito, tok, { client_id: 'app1' })?.code, 'ERR_AUTH_TOKEN_BAD_CLAIM', 'required claim absent');
  const rfc = issuer({ issuer: 'https://as.test/', typ: ['at+jwt'] });
  for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/AT+JWT']) t.equal(checkIssuerPolicy(rfc, tokenWithTyp(typ), {}), undefined, typ);
  for (const typ of [undefined, 'JWT', 'jwt', 'application/jwt', 'at+jwt ']) t.equal(checkIssuerPolicy(rfc, tokenWithTyp(typ), {})?.code, 'ERR_AUTH_TOKEN_HEADER_FORBIDDEN', String(typ));
  t.ok(createTypCheck(['application/JWT'])('jwt'), 'the prefix is optional on the config side too');
});

t.test('aud is optional only for an issuer without audiences', async (t) => {
  const now = Date.now();
  const exp = Math.floor(now / 1000) + 60;
  t.equal((readRegisteredClaims({ exp }, now, 0) as TokenError).code, 'ERR_AUTH_TOKEN_AUDIENCE');
  const claims = readRegisteredClaims({ exp }, now, 0, false);
  t.notOk(claims instanceof TokenError);
  t.equal(checkRegisteredClaims(claims as Exclude<typeof claims, TokenError>, [], now, 0), undefined, 'no audiences: no aud check');
  t.equal(checkRegisteredClaims(claims as Exclude<typeof claims, TokenError>, ['api'], now, 0)?.code, 'ERR_AUTH_TOKEN_AUDIENCE');
});
