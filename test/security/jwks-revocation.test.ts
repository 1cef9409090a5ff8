/**
 * Bypass class: the IdP cannot revoke a key (issue 12, class 2). Before the fix a
 * refreshed set with no usable key was treated as a broken deploy and the cached
 * keys kept serving, so an IdP that withdrew its keys (an empty set), or re-published
 * one as `use: "enc"` only, still had tokens of the withdrawn key accepted.
 *
 * The rule now: a JWKS that parses is the truth, an empty set included (every key
 * revoked at once, and with it every verified-token cache entry of those keys);
 * only a failed fetch (network, timeout, non-200, unparseable, oversized) keeps
 * serving the cached keys. Readiness stays up after a revocation (the answer is a
 * 401 for the withdrawn key, not an unavailable service); scopegate_jwks_keys says 0.
 */
import t, { type Test } from 'tap';
import { send } from '../helpers/http.js';
import { generateKey, jwkOf, jwksOf } from '../helpers/keys.js';
import { ISSUER, startKeyWorld, type KeyWorld } from './jwks-fixture.js';

const keysGauge = (text: string): number | undefined => {
  const m = new RegExp(`^scopegate_jwks_keys\\{issuer="${ISSUER.replace(/[./]/g, '\\$&')}"\\} (\\d+)$`, 'm').exec(text);
  return m === null ? undefined : Number(m[1]);
};

async function expectRefused(t: Test, w: KeyWorld, name: string, token: string): Promise<void> {
  const r = await w.call(token);
  t.equal(r.first?.status, 401, name);
  t.equal(r.first?.json?.error, 'invalid_token', name);
  t.equal(r.delta.length, 0, `${name}: upstream saw nothing`);
}

async function expectServed(t: Test, w: KeyWorld, name: string, token: string): Promise<void> {
  const r = await w.call(token);
  t.equal(r.first?.status, 200, name);
  t.equal(r.delta.length, 1, `${name}: forwarded once`);
}

t.test('a JWKS that parses revokes what it no longer holds; only a failed fetch keeps the cache', async (t) => {
  const a = generateKey('ed25519');
  const b = generateKey('p256');
  // max_age 1 s: the background refresh is what learns of the revocation, as in production.
  const w = await startKeyWorld({ jwks: jwksOf(a, b), maxAgeS: 1, cooldownS: 1 });
  t.teardown(() => w.close());
  let cachedA = w.token(a);
  let cachedB = w.token(b);

  t.test('positive control: both keys serve; their tokens are now cached', async (t) => {
    await expectServed(t, w, 'a', cachedA);
    await expectServed(t, w, 'b', cachedB);
    await expectServed(t, w, 'a again (cache hit)', cachedA);
  });

  t.test('an empty set revokes every key at once, cached tokens included; readiness stays', async (t) => {
    w.jwks.setJwks({ keys: [] });
    await w.nextRefresh();
    await expectRefused(t, w, 'cached token of a', cachedA);
    await expectRefused(t, w, 'cached token of b', cachedB);
    await expectRefused(t, w, 'fresh token of a', w.token(a, { jti: 'fresh-a' }));
    const text = await w.metrics();
    t.equal(keysGauge(text), 0, 'scopegate_jwks_keys is 0');
    t.equal((await send(w.sidecar.adminUrl, '/readyz')).status, 200, 'still ready: the IdP answered, it revoked');
    // pino flushes in batches: wait for the line rather than read what has arrived.
    const lines = await w.sidecar.waitForLogs('jwks fetch failed', 1);
    t.match(lines.find((l) => /revoked/.test(String(l['detail']))), { issuer: ISSUER, result: 'rejected', detail: 'no usable keys; 2 cached keys revoked' });
  });

  t.test('keys published again serve again', async (t) => {
    w.jwks.setJwks(jwksOf(a, b));
    await w.nextRefresh();
    cachedA = w.token(a, { jti: 'back-a' });
    cachedB = w.token(b, { jti: 'back-b' });
    await expectServed(t, w, 'a', cachedA);
    await expectServed(t, w, 'b', cachedB);
  });

  t.test('a key re-published as use "enc" only is revoked; the other still serves', async (t) => {
    w.jwks.setJwks({ keys: [jwkOf(a, { use: 'enc' }), jwkOf(b)] });
    await w.nextRefresh();
    await expectRefused(t, w, 'cached token of a', cachedA);
    await expectRefused(t, w, 'fresh token of a', w.token(a, { jti: 'enc-a' }));
    await expectServed(t, w, 'b (positive control)', cachedB);
  });

  t.test('a key re-published with key_ops lacking verify is revoked', async (t) => {
    w.jwks.setJwks({ keys: [jwkOf(a, { use: 'enc' }), jwkOf(b, { key_ops: ['sign'] })] });
    await w.nextRefresh();
    await expectRefused(t, w, 'cached token of b', cachedB);
    await expectRefused(t, w, 'fresh token of b', w.token(b, { jti: 'ops-b' }));
  });

  t.test('other material under the same kid revokes the old key', async (t) => {
    w.jwks.setJwks(jwksOf(a, b));
    await w.nextRefresh();
    cachedA = w.token(a, { jti: 'kid-a' });
    await expectServed(t, w, 'a before the swap', cachedA);
    const impostor = generateKey('ed25519', { kid: a.kid });
    w.jwks.setJwks(jwksOf(impostor, b));
    await w.nextRefresh();
    await expectRefused(t, w, 'cached token of the old a', cachedA);
    await expectServed(t, w, 'token of the new key under that kid', w.token(impostor, { jti: 'new-a' }));
  });

  t.test('a failed fetch keeps serving the cached keys (stale-on-error)', async (t) => {
    const cached = w.token(b, { jti: 'stale' });
    await expectServed(t, w, 'b before the outage', cached);
    const failures = [
      { kind: 'status', status: 500 },
      { kind: 'status', status: 404 },
      { kind: 'reset' },
      { kind: 'close' },
      { kind: 'garbage', body: '<html>maintenance</html>' },
      { kind: 'garbage', body: '{"keys": "none"}' },
      { kind: 'oversized', bytes: 2 * 1024 * 1024, declareLength: true },
    ] as const;
    for (const mode of failures) {
      w.jwks.setMode(mode);
      await w.nextRefresh();
      const name = JSON.stringify(mode).slice(0, 50);
      await expectServed(t, w, `${name}: cached token`, cached);
      await expectServed(t, w, `${name}: fresh token`, w.token(b, { jti: name }));
    }
    w.jwks.setMode({ kind: 'ok' });
  });
});
