/**
 * The response conformance table: requests scopegate answers itself (denials,
 * the RFC 9728 metadata document, token info), each with the status it must
 * get. Every implementation that writes a response for a request runs it:
 * the live `scopegate serve` process and `scopegate explain`
 * (test/e2e/explain-vs-serve.test.ts checks they give the same status,
 * headers and body). Built from the denial cases of test/e2e/sidecar.test.ts.
 */
import { nowS } from '../helpers/tokens.js';

export const RESPONSE_ISSUER = 'https://idp.responses.test/';

/** The routes of the end-to-end sidecar test (test/e2e/sidecar.test.ts). */
export const SIDECAR_ROUTES: readonly string[] = [
  'GET /api/oauth-client/me: { auth: token }',
  'GET /api/oauth-client/organizations: org:read',
  'GET /api/oauth-client/organizations/:orgId/projects: projects:read',
  'POST /api/oauth-client/v1/projects: projects:write',
  'GET /slow: { auth: none }',
  'GET,POST /reports/:id: { any_of: [reports:read, admin] }',
  'GET /static/*: { auth: none }',
];

/** The config the table runs against: the sidecar routes, with token info on /me, plus discovery (RESPONSE_EXTRA). */
export const RESPONSE_ROUTES: readonly string[] = ['GET /api/oauth-client/me: { auth: token, respond: token_info }', ...SIDECAR_ROUTES.slice(1)];
export const RESPONSE_EXTRA = `resource:
  identifier: https://api.example.com/v1
  name: Responses API
scopes:
  org:read: { description: Read organizations }
  projects:read: { description: Read projects }
  projects:write: { description: Create projects }
  reports:read: {}
  admin: {}
`;

export interface ResponseWorld {
  /** A valid token from the table's issuer: scope (space-delimited) plus extra claims. */
  token(scope: string, extra?: Record<string, unknown>): string;
}

export interface ResponseCase {
  readonly name: string;
  readonly method: string;
  /** The raw request target. */
  readonly target: string;
  /** The bearer token, if the request carries one. */
  readonly token?: (w: ResponseWorld) => string;
  /** The status scopegate answers with. */
  readonly status: number;
}

export const RESPONSE_CASES: readonly ResponseCase[] = [
  { name: 'no token', method: 'GET', target: '/api/oauth-client/organizations', status: 401 },
  { name: 'no token, HEAD', method: 'HEAD', target: '/api/oauth-client/organizations', status: 401 },
  { name: 'expired token', method: 'GET', target: '/api/oauth-client/organizations', token: (w) => w.token('org:read', { exp: nowS() - 3600 }), status: 401 },
  { name: 'wrong audience', method: 'GET', target: '/api/oauth-client/organizations', token: (w) => w.token('org:read', { aud: 'https://other.example' }), status: 401 },
  { name: 'not a JWT', method: 'GET', target: '/api/oauth-client/organizations', token: () => 'not-a-jwt', status: 401 },
  { name: 'insufficient scope', method: 'GET', target: '/api/oauth-client/organizations/acme/projects', token: (w) => w.token('org:read'), status: 403 },
  { name: 'any_of not met', method: 'POST', target: '/reports/7', token: (w) => w.token('org:read'), status: 403 },
  { name: 'unmapped path', method: 'GET', target: '/api/oauth-client/admin', token: (w) => w.token('org:read'), status: 404 },
  { name: 'method not allowed', method: 'DELETE', target: '/api/oauth-client/organizations', token: (w) => w.token('org:read'), status: 405 },
  { name: 'traversal', method: 'GET', target: '/api/../../etc/passwd', token: (w) => w.token('org:read'), status: 400 },
  { name: 'encoded slash', method: 'GET', target: '/static/a%2Fb', status: 400 },
  { name: 'query token', method: 'GET', target: '/api/oauth-client/organizations?access_token=x', status: 400 },
  { name: 'query token on a public route', method: 'GET', target: '/static/x?access_token=x', status: 400 },
  { name: 'method override parameter', method: 'GET', target: '/api/oauth-client/organizations?_method=DELETE', token: (w) => w.token('org:read'), status: 400 },
  { name: 'metadata document', method: 'GET', target: '/.well-known/oauth-protected-resource/v1', status: 200 },
  { name: 'metadata document, HEAD', method: 'HEAD', target: '/.well-known/oauth-protected-resource/v1?x=1', status: 200 },
  { name: 'token info', method: 'GET', target: '/api/oauth-client/me', token: (w) => w.token('org:read projects:read', { sub: 'person-7', client_id: 'cli' }), status: 200 },
];
