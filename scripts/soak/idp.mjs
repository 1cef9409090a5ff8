/**
 * The soak's identity provider: a JWKS server on 127.0.0.1 whose key set can rotate,
 * and pools of really signed tokens for each signing key (thousands of distinct valid
 * ones, so the sidecar's token cache and verifier both work) plus the invalid kinds
 * the load mixes in. Keys are generated per run; token minting is the bench's
 * (bench/lib/tokens.mjs), so the soak and the bench sign alike.
 */
import { createServer } from 'node:http';
import { once } from 'node:events';
import { AUDIENCE, ISSUER, generateKey, mint, tamper } from '../../bench/lib/tokens.mjs';

export { AUDIENCE, ISSUER };

/** The scope the soak's protected routes require; forbidden tokens carry another one. */
export const SCOPE = 'reports:read';

/**
 * Tokens signed by one key. `allowed` are distinct (own sub and jti); every invalid kind
 * is refused for one reason only, so the expected status is known per request.
 * @param {import('../../bench/lib/tokens.mjs').BenchKey} key
 * @param {number} distinct how many distinct allowed tokens
 */
function poolFor(key, distinct) {
  const now = Math.floor(Date.now() / 1000);
  const many = (n, overrides) => Array.from({ length: n }, () => mint(key, overrides));
  const allowed = many(distinct, { scope: SCOPE });
  const few = Math.max(50, Math.floor(distinct / 10));
  return {
    allowed,
    forbidden: many(few, { scope: 'reports:write billing:read' }),
    expired: many(few, { scope: SCOPE, iat: now - 7200, exp: now - 3600 }),
    bad_signature: allowed.slice(0, few).map(tamper),
    audience: many(few, { scope: SCOPE, aud: 'https://other-api.soak.test' }),
  };
}

/**
 * @param {{ distinct: number }} options
 */
export async function startIdp({ distinct }) {
  const first = generateKey('ES256');
  const next = generateKey('ES256');
  // Both pools are signed before the load starts: signing mid-run would compete with the sidecar for CPU.
  const pools = new Map([
    [first.kid, poolFor(first, distinct)],
    [next.kid, poolFor(next, distinct)],
  ]);
  let published = [first];
  let signing = first;
  let fetches = 0;
  const server = createServer((req, res) => {
    fetches += 1;
    const body = JSON.stringify({ keys: published.map((k) => k.jwk) });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    jwksUri: `http://127.0.0.1:${port}/jwks.json`,
    /** The pool of the key tokens are signed with now. */
    tokens: () => /** @type {ReturnType<typeof poolFor>} */ (pools.get(signing.kid)),
    get fetches() {
      return fetches;
    },
    /** Rotation as an IdP does it: publish the next key beside the current one, sign with it from now on. */
    rotate() {
      published = [first, next];
      signing = next;
    },
    /** The old key leaves the set once no token signed with it is in use. */
    retire() {
      published = [next];
    },
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}
