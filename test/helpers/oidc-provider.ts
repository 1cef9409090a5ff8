/**
 * A real authorization server for introspection tests: oidc-provider (a certified OpenID
 * Provider) issuing opaque client-credentials tokens, with introspection and revocation on,
 * on 127.0.0.1. Calls to its introspection endpoint are counted at the server.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Provider from 'oidc-provider';
import type { Test } from 'tap';
import { basicCredentials } from '../../src/auth/introspect-call.js';
import { listen } from './listen.js';

/** scopegate's own client at the server: a secret with every character client_secret_basic must encode. */
export const GATE_ID = 'scopegate';
export const GATE_SECRET = 'gate s3cret:+/%&="~*';
export const APP_ID = 'orders-app';
export const APP_SECRET = 'app-secret-9f2c1d';

export interface Idp {
  readonly issuer: string;
  readonly endpoint: string;
  readonly provider: Provider;
  /** Requests that reached the introspection endpoint. */
  introspections: number;
  /** When set, introspection requests wait this long before the server sees them. */
  delayMs: number;
}

export async function startIdp(t: Test): Promise<Idp> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/token/introspection') === true) {
      idp.introspections++;
      if (idp.delayMs > 0) {
        setTimeout(() => handler(req, res), idp.delayMs);
        return;
      }
    }
    handler(req, res);
  });
  const l = await listen(server);
  t.teardown(() => {
    server.closeAllConnections();
    return l.close();
  });
  const provider = new Provider(l.url, {
    clients: [
      { client_id: APP_ID, client_secret: APP_SECRET, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'orders:read orders:write' },
      { client_id: GATE_ID, client_secret: GATE_SECRET, grant_types: [], response_types: [], redirect_uris: [] },
    ],
    scopes: ['orders:read', 'orders:write'],
    ttl: { ClientCredentials: 600, AccessToken: 600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // Only scopegate may introspect; a client may revoke only its own tokens.
      introspection: { enabled: true, allowedPolicy: async (_ctx, client) => client.clientId === GATE_ID },
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => client.clientId === token.clientId },
    },
  });
  handler = provider.callback();
  const idp: Idp = { issuer: l.url, endpoint: `${l.url}/token/introspection`, provider, introspections: 0, delayMs: 0 };
  return idp;
}

/** A form POST as the app client (token and revocation endpoints). */
export async function appForm(url: string, body: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { authorization: basicCredentials(APP_ID, APP_SECRET), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body),
  });
}

/** A real client-credentials token from the server's token endpoint; `issued` collects it for leak checks. */
export async function clientToken(t: Test, idp: Idp, issued: string[], scope = 'orders:read'): Promise<string> {
  const res = await appForm(`${idp.issuer}/token`, { grant_type: 'client_credentials', scope });
  t.equal(res.status, 200, 'token endpoint answered');
  const { access_token: token } = (await res.json()) as { access_token: string };
  t.notOk(token.includes('.'), 'an opaque token, not a JWT');
  issued.push(token);
  return token;
}

/** A user's token as an authorization-code exchange stores it: a grant for the user, and a token under it. */
export async function userToken(idp: Idp, issued: string[], accountId: string, scope: string): Promise<string> {
  const client = await idp.provider.Client.find(APP_ID);
  if (client === undefined) throw new Error('the app client is configured in startIdp');
  const grant = new idp.provider.Grant({ accountId, clientId: APP_ID });
  grant.addOIDCScope(scope);
  const grantId = await grant.save();
  const token = await new idp.provider.AccessToken({ accountId, client, grantId, gty: 'authorization_code', scope }).save();
  issued.push(token);
  return token;
}

/** Revoke a token at the server (RFC 7009), as the client it was issued to. */
export async function revoke(idp: Idp, token: string): Promise<number> {
  return (await appForm(`${idp.issuer}/token/revocation`, { token, token_type_hint: 'access_token' })).status;
}
