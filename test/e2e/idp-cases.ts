/**
 * One row per identity provider: the README's config for it (config/examples/idp/*.yaml)
 * and tokens minted exactly as that IdP issues them: header (`typ`, `kid`, `x5t`),
 * claims, key type. Each row has an allowed token, one lacking the scope or role, and
 * its negative twins (refused before the upstream).
 */
import type { TestKey } from '../helpers/keys.js';
import { nowS, type Json } from '../helpers/tokens.js';

export interface Minted {
  readonly name: string;
  readonly header: Json;
  readonly payload: Json;
  /** Sign with this key instead of the row's (the RSA-1024 twin). */
  readonly key?: 'weak';
  /** Request this path instead of the row's. */
  readonly path?: string;
}

export interface IdpRow {
  /** config/examples/idp/<file>.yaml */
  readonly file: string;
  readonly keyKind: 'rsa' | 'p256';
  readonly path: string;
  readonly allowed: readonly Minted[];
  /** The identity headers the upstream sees for allowed[0]. */
  readonly subject: string;
  readonly scopes: RegExp;
  /** A valid token lacking the scope, role or object: 403. */
  readonly lacking: Minted;
  readonly lackingError: 'insufficient_scope' | 'access_denied';
  /** 401, never forwarded. */
  readonly twins: readonly Minted[];
}

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';
const FOREIGN_TENANT = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';
const COGNITO_CLIENT = '3n4b5urk1ft4fl3mg5e62d9ado';

function times(): Json {
  const now = nowS();
  return { iat: now, nbf: now, exp: now + 3600 };
}

const auth0 = (permissions: unknown): Json => ({
  iss: 'https://example.eu.auth0.com/',
  sub: 'auth0|64f1c2a9b3e4d5f6a7b8c9d0',
  aud: ['https://orders.example.com', 'https://example.eu.auth0.com/userinfo'],
  ...times(),
  azp: 'Xk2mP9qR4sT7vW1yZ3aB5cD8eF0gH6jK',
  scope: 'openid profile',
  permissions,
});

const entraV2 = (tid: string, iss: string, aud: string, scp: string): Json => ({
  aud,
  iss,
  ...times(),
  aio: 'AWQAm/8TAAAA',
  azp: 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c',
  azpacr: '0',
  name: 'Alice',
  oid: '00000000-0000-0000-66f3-3332eca7ea81',
  preferred_username: 'alice@contoso.com',
  rh: '0.AAAA',
  scp,
  sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
  tid,
  uti: 'fqiBqXLPj0eQa82S-IYFAA',
  ver: '2.0',
});

const entraV1App = (roles: string[]): Json => ({
  aud: 'api://orders',
  iss: `https://sts.windows.net/${TENANT}/`,
  ...times(),
  aio: 'E2ZgYGiPd',
  appid: 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c',
  appidacr: '1',
  idp: `https://sts.windows.net/${TENANT}/`,
  oid: '9d1a2b3c-0000-0000-0000-0000deadbeef',
  rh: '0.AAAA',
  roles,
  sub: '9d1a2b3c-0000-0000-0000-0000deadbeef',
  tid: TENANT,
  uti: 'Vd3KcQ',
  ver: '1.0',
});

const keycloak = (clientRoles: string[]): Json => ({
  ...times(),
  auth_time: nowS() - 60,
  jti: 'onrtac:2f5e0b1c-6a7d-4e8f-9a0b-1c2d3e4f5a6b',
  iss: 'https://keycloak.example.com/realms/main',
  aud: ['orders-api', 'account'],
  sub: 'f3a1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b',
  typ: 'Bearer',
  azp: 'orders-web',
  sid: '8d7c6b5a-4e3f-2a1b-0c9d-8e7f6a5b4c3d',
  acr: '1',
  'allowed-origins': ['https://orders.example.com'],
  realm_access: { roles: ['offline_access', 'uma_authorization', 'default-roles-main'] },
  resource_access: { 'orders-api': { roles: clientRoles }, account: { roles: ['manage-account', 'view-profile'] } },
  scope: 'openid email profile',
  email_verified: true,
  preferred_username: 'alice',
});

const cognitoAccess = (scope: string, clientId = COGNITO_CLIENT): Json => ({
  sub: '6b4f3a2e-1d0c-4b9a-8f7e-6d5c4b3a2f1e',
  iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123',
  client_id: clientId,
  origin_jti: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  event_id: '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a',
  token_use: 'access',
  scope,
  auth_time: nowS() - 60,
  ...times(),
  jti: '0a1b2c3d-4e5f-4607-8819-2a3b4c5d6e7f',
  username: 'alice',
});

const google = (email: string): Json => ({
  aud: 'https://orders-abc123-ew.a.run.app',
  azp: '112233445566778899000',
  email,
  email_verified: true,
  ...times(),
  iss: 'https://accounts.google.com',
  sub: '112233445566778899000',
});

const hydra = (scp: unknown): Json => ({
  aud: ['https://orders.example.com'],
  client_id: 'orders-cli',
  ...times(),
  ext: {},
  iss: 'https://hydra.example.com/',
  jti: '5c7e3a1b-9d2f-4e6a-8b0c-1d3e5f7a9b2c',
  scp,
  sub: 'alice',
});

export const rfc9068Claims = (extra: Json = {}): Json => ({
  iss: 'https://as.example.com/',
  aud: 'https://orders.example.com',
  sub: 'alice',
  client_id: 's6BhdRkqt3',
  jti: 'dbe39bf3a3ba4238a513f51d6e1691c4',
  ...times(),
  scope: 'orders:read projects:read',
  org_id: 'acme',
  ext: { teams: ['blue', 'green'] },
  ...extra,
});

/** `kid` filled in by the test from the row's key. */
export function idpRows(key: TestKey): IdpRow[] {
  const kid = key.kid;
  const jwt = { alg: 'RS256', typ: 'JWT', kid };
  const bare = { kid, alg: 'RS256' }; // Okta and Cognito send no typ
  const entra = { typ: 'JWT', alg: 'RS256', kid, x5t: kid };
  const v2 = (tid: string) => `https://login.microsoftonline.com/${tid}/v2.0`;
  const weakTwin = (payload: Json): Minted => ({ name: 'signed by an RSA-1024 key in the JWKS', header: { ...jwt, kid: 'weak-1024' }, payload, key: 'weak' });
  return [
    {
      file: 'auth0',
      keyKind: 'rsa',
      path: '/auth0/orders/42',
      allowed: [{ name: 'API permissions', header: jwt, payload: auth0(['read:orders']) }],
      subject: 'auth0|64f1c2a9b3e4d5f6a7b8c9d0',
      scopes: /^openid profile read:orders$/,
      lacking: { name: 'another permission', header: jwt, payload: auth0(['write:orders']) },
      lackingError: 'insufficient_scope',
      twins: [{ name: 'permissions of the wrong type', header: jwt, payload: auth0({ 'read:orders': true }) }, weakTwin(auth0(['read:orders']))],
    },
    {
      file: 'okta',
      keyKind: 'rsa',
      path: '/okta/orders/42',
      allowed: [
        {
          name: 'custom authorization server',
          header: bare,
          payload: { ver: 1, jti: 'AT.0mP4JNAkWJf', iss: 'https://example.okta.com/oauth2/default', aud: 'api://default', ...times(), cid: '0oa1b2c3d4E5F6g7H8i9', uid: '00u1a2b3c4D5E6f7G8h9', scp: ['orders.read', 'openid'], auth_time: nowS() - 60, sub: 'alice@example.com' },
        },
      ],
      subject: 'alice@example.com',
      scopes: /^orders\.read openid$/,
      lacking: { name: 'openid only', header: bare, payload: { ver: 1, iss: 'https://example.okta.com/oauth2/default', aud: 'api://default', ...times(), cid: '0oa1', scp: ['openid'], sub: 'alice@example.com' } },
      lackingError: 'insufficient_scope',
      twins: [{ name: 'scp of the wrong type', header: bare, payload: { iss: 'https://example.okta.com/oauth2/default', aud: 'api://default', ...times(), scp: { 'orders.read': 1 }, sub: 'x' } }],
    },
    {
      file: 'entra-single-tenant',
      keyKind: 'rsa',
      path: '/entra/orders/42',
      allowed: [
        { name: 'v2 delegated (scp)', header: entra, payload: entraV2(TENANT, v2(TENANT), '6e74172b-be56-4843-9ff4-e66a39bb12e3', 'Orders.Read User.Read') },
        { name: 'v1 app-only (roles)', header: entra, payload: entraV1App(['Orders.Read.All']) },
      ],
      subject: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
      scopes: /^Orders\.Read User\.Read$/,
      lacking: { name: 'v1 app-only with another role', header: entra, payload: entraV1App(['Orders.Write.All']) },
      lackingError: 'insufficient_scope',
      twins: [
        { name: 'another tenant', header: entra, payload: entraV2(OTHER_TENANT, v2(OTHER_TENANT), '6e74172b-be56-4843-9ff4-e66a39bb12e3', 'Orders.Read') },
        { name: 'v2 token for another app', header: entra, payload: entraV2(TENANT, v2(TENANT), '00000003-0000-0000-c000-000000000000', 'Orders.Read') },
      ],
    },
    {
      file: 'entra-multi-tenant',
      keyKind: 'rsa',
      path: '/saas/orders/42',
      allowed: [
        { name: 'listed tenant', header: entra, payload: entraV2(TENANT, v2(TENANT), '0b9f2c4e-5a7d-4e1b-8c3a-2f6d9e8b7a10', 'Orders.Read') },
        { name: 'second listed tenant', header: entra, payload: entraV2(OTHER_TENANT, v2(OTHER_TENANT), '0b9f2c4e-5a7d-4e1b-8c3a-2f6d9e8b7a10', 'Orders.Read') },
      ],
      subject: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
      scopes: /^Orders\.Read$/,
      lacking: { name: 'User.Read only', header: entra, payload: entraV2(TENANT, v2(TENANT), '0b9f2c4e-5a7d-4e1b-8c3a-2f6d9e8b7a10', 'User.Read') },
      lackingError: 'insufficient_scope',
      twins: [
        { name: 'foreign tenant', header: entra, payload: entraV2(FOREIGN_TENANT, v2(FOREIGN_TENANT), '0b9f2c4e-5a7d-4e1b-8c3a-2f6d9e8b7a10', 'Orders.Read') },
        { name: 'tid with characters outside [A-Za-z0-9-]', header: entra, payload: entraV2('../evil', v2('../evil'), '0b9f2c4e-5a7d-4e1b-8c3a-2f6d9e8b7a10', 'Orders.Read') },
        { name: 'iss of one listed tenant, tid of another', header: entra, payload: entraV2(OTHER_TENANT, v2(TENANT), '0b9f2c4e-5a7d-4e1b-8c3a-2f6d9e8b7a10', 'Orders.Read') },
      ],
    },
    {
      file: 'keycloak',
      keyKind: 'rsa',
      path: '/keycloak/orders/42',
      allowed: [{ name: 'client role', header: jwt, payload: keycloak(['orders-reader']) }],
      subject: 'f3a1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b',
      scopes: /^openid email profile offline_access uma_authorization default-roles-main orders-reader$/,
      lacking: { name: 'another client role', header: jwt, payload: keycloak(['orders-writer']) },
      lackingError: 'insufficient_scope',
      twins: [{ name: 'client roles of the wrong type', header: jwt, payload: { ...keycloak([]), resource_access: { 'orders-api': { roles: [42] } } } }],
    },
    {
      file: 'cognito',
      keyKind: 'rsa',
      path: '/cognito/orders/42',
      allowed: [{ name: 'access token (client credentials)', header: bare, payload: cognitoAccess('orders/read') }],
      subject: '6b4f3a2e-1d0c-4b9a-8f7e-6d5c4b3a2f1e',
      scopes: /^orders\/read$/,
      lacking: { name: 'another scope', header: bare, payload: cognitoAccess('orders/write') },
      lackingError: 'insufficient_scope',
      twins: [
        {
          name: 'Cognito id token',
          header: bare,
          payload: { sub: '6b4f3a2e-1d0c-4b9a-8f7e-6d5c4b3a2f1e', aud: COGNITO_CLIENT, email_verified: true, iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123', 'cognito:username': 'alice', token_use: 'id', auth_time: nowS(), ...times(), email: 'alice@example.com' },
        },
        { name: 'foreign client_id', header: bare, payload: cognitoAccess('orders/read', '7a8b9c0d1e2f3g4h5i6j7k8l9m') },
      ],
    },
    {
      file: 'google',
      keyKind: 'rsa',
      path: '/google/orders/invoker@orders-prod.iam.gserviceaccount.com',
      allowed: [{ name: 'Google-signed ID token of a service account', header: jwt, payload: google('invoker@orders-prod.iam.gserviceaccount.com') }],
      subject: '112233445566778899000',
      scopes: /^$/,
      lacking: { name: "another service account's object", header: jwt, payload: google('other@orders-prod.iam.gserviceaccount.com') },
      lackingError: 'access_denied',
      twins: [{ name: 'ID token for another service', header: jwt, payload: { ...google('invoker@orders-prod.iam.gserviceaccount.com'), aud: 'https://billing-xyz-ew.a.run.app' } }],
    },
    {
      file: 'hydra',
      keyKind: 'rsa',
      path: '/hydra/orders/42',
      allowed: [{ name: 'JWT access token strategy', header: jwt, payload: hydra(['orders.read', 'offline']) }],
      subject: 'alice',
      scopes: /^orders\.read offline$/,
      lacking: { name: 'offline only', header: jwt, payload: hydra(['offline']) },
      lackingError: 'insufficient_scope',
      twins: [{ name: 'scp of the wrong type', header: jwt, payload: hydra(7) }],
    },
    {
      file: 'rfc9068',
      keyKind: 'p256',
      path: '/as/orders/42',
      allowed: [{ name: 'at+jwt', header: { typ: 'at+jwt', alg: 'ES256', kid }, payload: rfc9068Claims() }, { name: 'application/at+jwt', header: { typ: 'application/at+jwt', alg: 'ES256', kid }, payload: rfc9068Claims() }],
      subject: 'alice',
      scopes: /^orders:read projects:read$/,
      lacking: { name: 'projects:read only', header: { typ: 'at+jwt', alg: 'ES256', kid }, payload: rfc9068Claims({ scope: 'projects:read' }) },
      lackingError: 'insufficient_scope',
      twins: [
        { name: 'typ not allowed (JWT)', header: { typ: 'JWT', alg: 'ES256', kid }, payload: rfc9068Claims() },
        { name: 'typ absent', header: { alg: 'ES256', kid }, payload: rfc9068Claims() },
        { name: 'scope claim of the wrong type', header: { typ: 'at+jwt', alg: 'ES256', kid }, payload: rfc9068Claims({ scope: ['orders:read'] }) },
      ],
    },
  ];
}
