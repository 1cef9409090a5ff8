/**
 * Keys, tokens and a JWKS server for the bench (adapted from test/helpers: bench/ does not import test/).
 * Keys are generated per run, never written to the repo.
 */
import { generateKeyPairSync, sign as cryptoSign, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { once } from 'node:events';

export const ISSUER = 'https://idp.bench.example/';
export const AUDIENCE = 'https://api.bench.example';
/** Scopes every bench token carries: enough for every route the e2e workload hits, plus typical noise. */
export const GRANTED = ['repos:read', 'repos:write', 'orgs:read', 'users:read', 'user:read', 'gists:read', 'notifications:read', 'emojis:read'];

/** @typedef {{ alg: 'RS256'|'ES256', kid: string, privateKey: import('node:crypto').KeyObject, publicKey: import('node:crypto').KeyObject, publicPem: string, jwk: Record<string, unknown> }} BenchKey */

/** @returns {BenchKey} */
export function generateKey(alg) {
  const { privateKey, publicKey } =
    alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `${alg.toLowerCase()}-${randomBytes(4).toString('hex')}`;
  return {
    alg,
    kid,
    privateKey,
    publicKey,
    publicPem: /** @type {string} */ (publicKey.export({ type: 'spki', format: 'pem' })),
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' },
  };
}

const b64 = (x) => Buffer.from(x).toString('base64url');

/** A compact JWS access token signed with `key`; claim overrides replace (undefined removes). */
export function mint(key, overrides = {}) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: `user-${randomBytes(6).toString('hex')}`,
    client_id: 'bench-client',
    scope: GRANTED.join(' '),
    iat: now,
    exp: now + 3600,
    jti: randomBytes(12).toString('hex'),
    ...overrides,
  };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  const input = `${b64(JSON.stringify({ alg: key.alg, typ: 'at+jwt', kid: key.kid }))}.${b64(JSON.stringify(claims))}`;
  const sig =
    key.alg === 'RS256'
      ? cryptoSign('sha256', Buffer.from(input), key.privateKey)
      : cryptoSign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64(sig)}`;
}

export function mintMany(key, n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = mint(key);
  return out;
}

/** Change one character inside the signature. */
export function tamper(token) {
  const i = token.lastIndexOf('.') + 2;
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
}

/** A JWKS server on 127.0.0.1:0 serving `keys`. */
export async function startJwksServer(keys) {
  const body = JSON.stringify({ keys: keys.map((k) => k.jwk) });
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    jwksUri: `http://127.0.0.1:${port}/jwks.json`,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
