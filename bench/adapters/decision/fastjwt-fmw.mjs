/**
 * The peer for decide(): a hand-built find-my-way + fast-jwt pipeline doing the same checks
 * (route → bearer → signature, iss, aud, exp, alg allow-list → scope). One key per pipeline
 * (no kid lookup), which if anything favours the peer. Returns an HTTP status.
 */
import FindMyWay from 'find-my-way';
import { createVerifier } from 'fast-jwt';
import { AUDIENCE, ISSUER } from '../../lib/tokens.mjs';

/** Token cache entries, same as scopegate's default token_cache_size. */
export const PEER_CACHE_SIZE = 10_000;

/**
 * @param {{ routes: import('../../lib/github-routes.mjs').BenchRoute[], key: import('../../lib/tokens.mjs').BenchKey, cache: boolean }} o
 */
export function createPipeline({ routes, key, cache }) {
  const router = FindMyWay({ caseSensitive: true, ignoreTrailingSlash: false });
  const noop = () => {};
  for (const r of routes) router.on(r.method, r.template, noop, r.scope);
  const verify = createVerifier({
    key: key.publicPem,
    algorithms: [key.alg],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    requiredClaims: ['exp'],
    clockTolerance: 30_000,
    cache: cache ? PEER_CACHE_SIZE : false,
  });
  return function decide(method, target, rawHeaders) {
    const q = target.indexOf('?');
    const route = router.find(method, q === -1 ? target : target.slice(0, q));
    if (route === null) return 404;
    let auth;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      if (rawHeaders[i].length === 13 && rawHeaders[i].toLowerCase() === 'authorization') {
        auth = rawHeaders[i + 1];
        break;
      }
    }
    if (auth === undefined || !auth.startsWith('Bearer ')) return 401;
    let payload;
    try {
      payload = verify(auth.slice(7));
    } catch {
      return 401;
    }
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    return scopes.includes(route.store) ? 200 : 403;
  };
}
