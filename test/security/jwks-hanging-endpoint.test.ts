/**
 * Bypass class: a JWKS endpoint that accepts the connection and never answers
 * (issue 12, class 1). Before the fix the fetch's timeout was
 * `AbortSignal.any([AbortSignal.timeout(ms), …])`, which a full garbage collection
 * can drop before it fires (nodejs/node#57736): the one shared in-flight fetch then
 * never ended, so a rotated-in key was never learnt (its tokens got no answer at
 * all), the store never fetched again after the IdP recovered, and a key the IdP
 * rotated out stayed accepted.
 *
 * The sidecar runs with `--expose-gc` and a full collection every 10 ms, so a
 * collectable timer is really collected; the deadline must survive it.
 */
import t from 'tap';
import { send } from '../helpers/http.js';
import { generateKey, jwksOf } from '../helpers/keys.js';
import { startKeyWorld } from './jwks-fixture.js';

const TIMEOUT_MS = 300;
const COOLDOWN_MS = 1000;
const GC_EVERY_MS = 10;
/** Slack over the timeout for a loaded 2-core machine (process hop, GC pauses every 10 ms). */
const SLACK_MS = 2500;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('a JWKS endpoint that never answers delays a rotation by one timeout, never blocks it', async (t) => {
  const old = generateKey('ed25519');
  const rotated = generateKey('ed25519');
  const w = await startKeyWorld({ jwks: jwksOf(old), timeoutMs: TIMEOUT_MS, cooldownS: COOLDOWN_MS / 1000, gcEveryMs: GC_EVERY_MS });
  t.teardown(() => w.close());
  const cachedOld = w.token(old);

  t.test('positive control: a token of the published key passes', async (t) => {
    const r = await w.call(cachedOld);
    t.equal(r.first?.status, 200);
    t.equal(r.delta.length, 1);
    t.equal(w.jwks.requests, 1, 'one fetch at start');
  });

  t.test('while the endpoint hangs: a new key gets 401 within the timeout, cached keys serve, fetches go on', async (t) => {
    // The IdP rotates to a key the sidecar has not seen, and its endpoint hangs.
    w.jwks.setJwks(jwksOf(rotated));
    w.jwks.setMode({ kind: 'hang' });
    const start = w.jwks.requests;
    await sleep(COOLDOWN_MS + 100);
    for (let round = 1; round <= 3; round++) {
      const before = w.jwks.requests;
      const t0 = Date.now();
      const r = await w.call(w.token(rotated, { jti: `hang-${round}` }), { maxMs: TIMEOUT_MS + SLACK_MS + 2000 });
      const took = Date.now() - t0;
      t.equal(r.first?.status, 401, `round ${round}: answered (before the fix: no answer at all)`);
      t.equal(r.first?.json?.error, 'invalid_token');
      t.ok(took < TIMEOUT_MS + SLACK_MS, `round ${round}: within the timeout and slack (${took} ms)`);
      t.equal(r.delta.length, 0, `round ${round}: upstream saw nothing`);
      // The request starts a fetch or joins the background retry's (or is within its cooldown).
      t.ok(w.jwks.requests - before <= 1, `round ${round}: at most one fetch`);
      // Stale-on-error: the old key still verifies while the endpoint is down.
      const stale = await w.call(w.token(old, { jti: `stale-${round}` }));
      t.equal(stale.first?.status, 200, `round ${round}: cached key still served`);
      t.equal(stale.delta.length, 1);
      await sleep(COOLDOWN_MS + 100);
    }
    // Each fetch ended, so the background retry (every cooldown after a failure) kept going;
    // before the fix the first hanging fetch stayed in flight and nothing was fetched again.
    const fetched = w.jwks.requests - start;
    t.ok(fetched >= 3, `${fetched} fetches during ~4.5 s of hanging`);
    const failures = await w.sidecar.waitForLogs('jwks fetch failed', 2);
    t.ok(failures.length >= 2, `${failures.length} fetch failures logged`);
    t.match(failures.at(-1), { result: 'failure', detail: /within 300 ms/ });
  });

  t.test('after the IdP recovers: the next fetch happens, the new key passes, the rotated-out key is refused', async (t) => {
    w.jwks.setMode({ kind: 'ok' });
    await w.nextRefresh();
    const r = await w.call(w.token(rotated, { jti: 'recovered' }));
    t.equal(r.first?.status, 200, 'new key learnt');
    t.equal(r.delta.length, 1);
    for (const [name, token] of [['cached token of the rotated-out key', cachedOld], ['fresh token of the rotated-out key', w.token(old, { jti: 'gone' })]] as const) {
      const gone = await w.call(token);
      t.equal(gone.first?.status, 401, name);
      t.equal(gone.first?.json?.error, 'invalid_token', name);
      t.equal(gone.delta.length, 0, `${name}: upstream saw nothing`);
    }
  });
});

t.test('a JWKS endpoint that hangs at startup: not ready and 503 within the timeout, then ready once it answers', async (t) => {
  const key = generateKey('ed25519');
  const w = await startKeyWorld({
    jwks: jwksOf(key),
    mode: { kind: 'hang' },
    timeoutMs: TIMEOUT_MS,
    cooldownS: COOLDOWN_MS / 1000,
    gcEveryMs: GC_EVERY_MS,
    // Logged when the first fetch has ended: before the fix it never was.
    waitFor: 'signing keys not loaded yet; tokens from this issuer get 503 until they are',
  });
  t.teardown(() => w.close());
  t.equal((await send(w.sidecar.adminUrl, '/readyz')).status, 503, 'not ready');
  const t0 = Date.now();
  const r = await w.call(w.token(key), { maxMs: TIMEOUT_MS + SLACK_MS + 2000 });
  const took = Date.now() - t0;
  t.equal(r.first?.status, 503, 'keys unavailable, answered');
  t.equal(r.first?.json?.error, 'temporarily_unavailable');
  t.ok(took < TIMEOUT_MS + SLACK_MS, `answered in ${took} ms`);
  t.equal(r.delta.length, 0, 'upstream saw nothing');

  w.jwks.setMode({ kind: 'ok' });
  await w.nextRefresh();
  const ok = await w.call(w.token(key, { jti: 'after' }));
  t.equal(ok.first?.status, 200, 'keys loaded on the next fetch');
  t.equal(ok.delta.length, 1);
  t.equal((await send(w.sidecar.adminUrl, '/readyz')).status, 200, 'ready');
});
