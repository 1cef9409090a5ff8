/**
 * The framework peer: fastify + @fastify/http-proxy (undici) + fast-jwt (cache on, same size
 * as scopegate's default) + find-my-way for per-route scopes, doing the same checks. Own process.
 * argv: port upstream-url public-key-pem-file alg routes-json-file
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';
import FindMyWay from 'find-my-way';
import { createVerifier } from 'fast-jwt';
import { AUDIENCE, ISSUER } from '../lib/tokens.mjs';

const [port, upstream, pemFile, alg, routesFile] = [Number(process.argv[2]), process.argv[3], process.argv[4], process.argv[5], process.argv[6]];
const routes = JSON.parse(readFileSync(routesFile, 'utf8'));
const router = FindMyWay({ caseSensitive: true });
for (const r of routes) router.on(r.method, r.template, () => {}, r.scope);
const verify = createVerifier({
  key: readFileSync(pemFile, 'utf8'),
  algorithms: [alg],
  allowedIss: ISSUER,
  allowedAud: AUDIENCE,
  requiredClaims: ['exp'],
  clockTolerance: 30_000,
  cache: 10_000,
});

const app = Fastify({ logger: false, keepAliveTimeout: 60_000 });
app.addHook('onRequest', async (req, reply) => {
  const url = req.raw.url;
  const q = url.indexOf('?');
  const route = router.find(req.method, q === -1 ? url : url.slice(0, q));
  if (route === null) return reply.code(404).send({ error: 'not_found' });
  const auth = req.headers.authorization;
  if (typeof auth !== 'string' || !auth.startsWith('Bearer ')) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'invalid_request' });
  let payload;
  try {
    payload = verify(auth.slice(7));
  } catch {
    return reply.code(401).header('www-authenticate', 'Bearer error="invalid_token"').send({ error: 'invalid_token' });
  }
  const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
  if (!scopes.includes(route.store)) return reply.code(403).send({ error: 'insufficient_scope' });
});
await app.register(proxy, { upstream, undici: { connections: 128, pipelining: 1 } });
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write('ready\n');
process.on('SIGTERM', () => process.exit(0));
