/**
 * The JWKS store in-process, under a full GC every 5 ms: a fetch from an endpoint
 * that accepts and never answers ends within jwks.timeoutMs, the store fetches again
 * once the endpoint recovers, a token of an unknown kid is answered (not left
 * waiting), and close() during a hang returns at once.
 */
import t from 'tap';
import { createJwksStore } from '../../../src/auth/jwks.js';
import { createTokenVerifier } from '../../../src/auth/verify.js';
import { gcPressure } from '../../helpers/gc.js';
import { generateKey, jwksOf } from '../../helpers/keys.js';
import { startJwksServer } from '../../helpers/jwks-server.js';
import { claims, signToken, testAuthConfig } from '../../helpers/tokens.js';

const ISS = 'https://idp.example.com/';
const TIMEOUT_MS = 300;
const SLACK_MS = 2000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('store: a hanging endpoint cannot hold a fetch past its timeout', async (t) => {
  const key = generateKey('ed25519');
  const server = await startJwksServer(jwksOf(key));
  const events: string[] = [];
  const auth = testAuthConfig([{ issuer: ISS, jwksUri: server.jwksUri }], { jwks: { timeoutMs: TIMEOUT_MS, cooldownS: 0.2 } });
  const store = createJwksStore(auth.issuers[0]!, auth.jwks, { onJwksFetch: (_i, result, detail) => events.push(`${result}: ${detail}`) });
  const stop = gcPressure(5);
  t.teardown(async () => {
    stop();
    await store.close();
    await server.close();
  });
  server.setMode({ kind: 'hang' });
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    await (i === 0 ? store.start() : store.refetch());
    const took = Date.now() - t0;
    t.ok(took >= TIMEOUT_MS - 5 && took < TIMEOUT_MS + SLACK_MS, `fetch ${i + 1} ended in ${took} ms`);
    t.equal(events.at(-1), `failure: no complete answer within ${TIMEOUT_MS} ms`);
    t.notOk(store.loaded());
    await sleep(250); // past the 200 ms cooldown
  }
  t.equal(server.requests, 3, 'one request per fetch');
  // The recovery is timed without GC pressure: a 200 ms budget for a real answer is tight on a loaded machine.
  stop();
  server.setMode({ kind: 'ok' });
  await store.refetch();
  t.ok(store.loaded(), `loaded once the endpoint answers (${events.at(-1)})`);
  t.equal(store.getKey(key.kid)?.kid, key.kid);
});

t.test('store: an endpoint slower than the timeout is cut off the same way', async (t) => {
  const server = await startJwksServer(jwksOf(generateKey('ed25519')));
  server.setDelay(TIMEOUT_MS * 5);
  const auth = testAuthConfig([{ issuer: ISS, jwksUri: server.jwksUri }], { jwks: { timeoutMs: TIMEOUT_MS } });
  const store = createJwksStore(auth.issuers[0]!, auth.jwks);
  const stop = gcPressure(5);
  t.teardown(async () => {
    stop();
    await store.close();
    await server.close();
  });
  const t0 = Date.now();
  await store.start();
  t.ok(Date.now() - t0 < TIMEOUT_MS + SLACK_MS);
  t.notOk(store.loaded());
});

t.test('store: close() during a hanging fetch returns without waiting for the timeout', async (t) => {
  const server = await startJwksServer(jwksOf(generateKey('ed25519')));
  server.setMode({ kind: 'hang' });
  t.teardown(() => server.close());
  const auth = testAuthConfig([{ issuer: ISS, jwksUri: server.jwksUri }], { jwks: { timeoutMs: 10_000 } });
  const store = createJwksStore(auth.issuers[0]!, auth.jwks);
  const starting = store.start();
  await sleep(50);
  const t0 = Date.now();
  await store.close();
  await starting;
  t.ok(Date.now() - t0 < 2000, `closed in ${Date.now() - t0} ms`);
});

t.test('verifier: a token of an unknown kid is answered within the timeout while the endpoint hangs', async (t) => {
  const known = generateKey('ed25519');
  const rotated = generateKey('ed25519');
  const server = await startJwksServer(jwksOf(known));
  const v = createTokenVerifier(testAuthConfig([{ issuer: ISS, jwksUri: server.jwksUri }], { jwks: { timeoutMs: TIMEOUT_MS, cooldownS: 0 } }));
  await v.start();
  const stop = gcPressure(5);
  t.teardown(async () => {
    stop();
    await v.close();
    await server.close();
  });
  server.setJwks(jwksOf(known, rotated));
  server.setMode({ kind: 'hang' });
  const t0 = Date.now();
  const r = await v.verify(signToken(rotated, claims(ISS, 'https://api.example.com')));
  t.ok(Date.now() - t0 < TIMEOUT_MS + SLACK_MS, `answered in ${Date.now() - t0} ms`);
  t.equal(r.ok ? 'ok' : r.error.code, 'ERR_AUTH_TOKEN_KEY_UNKNOWN');
  const stale = await v.verify(signToken(known, claims(ISS, 'https://api.example.com')));
  t.ok(stale.ok, 'the cached key still verifies (stale-on-error)');
  stop(); // a real answer within 300 ms is not what is under test here
  server.setMode({ kind: 'ok' });
  const after = await v.verify(signToken(rotated, claims(ISS, 'https://api.example.com', { jti: 'after' })));
  t.ok(after.ok, 'the rotated key is learnt on the next fetch');
});
