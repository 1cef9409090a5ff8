/**
 * The keyring: which JWKS stores a successor adopts on reload, and which close when a
 * generation closes. Real JWKS servers on 127.0.0.1; a store's fetches are counted there.
 */
import t, { type Test } from 'tap';
import { createKeyring } from '../../../src/auth/keyring.js';
import { startJwksServer, type JwksServer } from '../../helpers/jwks-server.js';
import { generateKey, jwkOf } from '../../helpers/keys.js';
import { testAuthConfig } from '../../helpers/tokens.js';

const key = generateKey('p256');

async function jwksServer(t: Test): Promise<JwksServer> {
  const server = await startJwksServer({ keys: [jwkOf(key)] });
  t.teardown(() => server.close());
  return server;
}

t.test('a successor keyring adopts unchanged issuers and builds stores for changed ones', async (t) => {
  const jwksA = await jwksServer(t);
  const jwksB = await jwksServer(t);
  const a = { issuer: 'https://a.test/', jwksUri: jwksA.jwksUri };
  const b = { issuer: 'https://b.test/', jwksUri: jwksB.jwksUri };
  const firstAuth = testAuthConfig([a, b]);
  const first = createKeyring(firstAuth);
  await first.start();
  t.equal(jwksA.requests, 1);
  t.equal(jwksB.requests, 1);

  const next = testAuthConfig([{ ...a, audiences: ['https://other.example'] }, { ...b, algorithms: ['ES256'] }]);
  const second = createKeyring(next, undefined, first);
  t.equal(second.storeOf(next.issuers[0]!), first.storeOf(firstAuth.issuers[0]!), 'A store adopted across an audience change');
  t.not(second.storeOf(next.issuers[1]!), first.storeOf(firstAuth.issuers[1]!), 'B store rebuilt');
  await second.start();
  t.equal(jwksA.requests, 1, 'start() fetches only the stores this keyring created');
  t.equal(jwksB.requests, 2);
  t.ok(second.ready());
  t.same(second.states().map((s) => [s.issuer, s.loaded]), [[a.issuer, true], [b.issuer, true]], 'states in config order');
  await first.close();
  await second.close();
});

t.test('the adoption rule: only issuer, jwks_uri, algorithms (as written) and the jwks timings rebuild a store', async (t) => {
  const jwks = await jwksServer(t);
  const other = await jwksServer(t);
  const base = { issuer: 'https://a.test/', jwksUri: jwks.jwksUri, algorithms: ['ES256', 'RS256'] as const };
  const before = testAuthConfig([{ ...base, algorithms: [...base.algorithms] }]);
  type Change = Parameters<typeof testAuthConfig>;
  const cases: Array<[string, Change[0], Change[1], boolean]> = [
    ['audiences', [{ ...base, algorithms: [...base.algorithms], audiences: ['urn:new'] }], {}, true],
    ['clock skew', [{ ...base, algorithms: [...base.algorithms] }], { clockSkewS: 0 }, true],
    ['scope claims', [{ ...base, algorithms: [...base.algorithms] }], { scopeClaims: ['scp'] }, true],
    ['token cache size', [{ ...base, algorithms: [...base.algorithms] }], { tokenCacheSize: 0 }, true],
    ['max token bytes', [{ ...base, algorithms: [...base.algorithms] }], { maxTokenBytes: 100 }, true],
    ['jwks_uri', [{ ...base, algorithms: [...base.algorithms], jwksUri: other.jwksUri }], {}, false],
    ['algorithms', [{ ...base, algorithms: ['ES256'] }], {}, false],
    ['algorithm order', [{ ...base, algorithms: ['RS256', 'ES256'] }], {}, false],
    ['jwks.max_age_s', [{ ...base, algorithms: [...base.algorithms] }], { jwks: { maxAgeS: 1 } }, false],
    ['jwks.cooldown_s', [{ ...base, algorithms: [...base.algorithms] }], { jwks: { cooldownS: 1 } }, false],
    ['jwks.timeout_ms', [{ ...base, algorithms: [...base.algorithms] }], { jwks: { timeoutMs: 1 } }, false],
    ['jwks.max_bytes', [{ ...base, algorithms: [...base.algorithms] }], { jwks: { maxBytes: 1 } }, false],
  ];
  for (const [name, issuers, overrides, kept] of cases) {
    const first = createKeyring(before);
    const after = testAuthConfig(issuers, overrides);
    const second = createKeyring(after, undefined, first);
    const same = second.storeOf(after.issuers[0]!) === first.storeOf(before.issuers[0]!);
    t.equal(same, kept, `${name} change: store ${kept ? 'kept' : 'rebuilt'}`);
    await first.close();
    await second.close();
  }
  // A renamed issuer is another issuer: nothing to adopt.
  const first = createKeyring(before);
  const renamed = testAuthConfig([{ ...base, algorithms: [...base.algorithms], issuer: 'https://b.test/' }]);
  const second = createKeyring(renamed, undefined, first);
  t.not(second.storeOf(renamed.issuers[0]!), first.storeOf(before.issuers[0]!), 'issuer change: store rebuilt');
  await first.close();
  await second.close();
});

t.test('closing a generation closes only the stores no successor holds', async (t) => {
  const kept = await jwksServer(t);
  const dropped = await jwksServer(t);
  const k = { issuer: 'https://kept.test/', jwksUri: kept.jwksUri };
  const d = { issuer: 'https://dropped.test/', jwksUri: dropped.jwksUri };
  const firstAuth = testAuthConfig([k, d], { jwks: { cooldownS: 0 } });
  const first = createKeyring(firstAuth);
  await first.start();
  const droppedStore = first.storeOf(firstAuth.issuers[1]!);
  const nextAuth = testAuthConfig([k], { jwks: { cooldownS: 0 } });
  const second = createKeyring(nextAuth, undefined, first);
  const keptStore = second.storeOf(nextAuth.issuers[0]!);
  t.equal(keptStore, first.storeOf(firstAuth.issuers[0]!));

  await first.close();
  await first.close(); // idempotent: a second close must not release the successor's hold
  // A closed store never fetches again; an open one refetches (cooldown 0).
  await droppedStore.refetch();
  t.equal(dropped.requests, 1, 'the store only the closed generation held is closed');
  await keptStore.refetch();
  t.equal(kept.requests, 2, 'the adopted store is still open');
  t.ok(second.ready());

  await second.close();
  await keptStore.refetch();
  t.equal(kept.requests, 2, 'closed with its last holder');
});

t.test('a closed keyring hands over nothing', async (t) => {
  const jwks = await jwksServer(t);
  const auth = testAuthConfig([{ issuer: 'https://a.test/', jwksUri: jwks.jwksUri }]);
  const first = createKeyring(auth);
  await first.start();
  await first.close();
  const second = createKeyring(auth, undefined, first);
  t.not(second.storeOf(auth.issuers[0]!), first.storeOf(auth.issuers[0]!));
  await second.start();
  t.equal(jwks.requests, 2, 'fresh store, fresh fetch');
  t.ok(second.ready());
  await second.close();
});

t.test('storeOf refuses an issuer the keyring was not built for', async (t) => {
  const jwks = await jwksServer(t);
  const ring = createKeyring(testAuthConfig([{ issuer: 'https://a.test/', jwksUri: jwks.jwksUri }]));
  t.throws(() => ring.storeOf(testAuthConfig([{ issuer: 'https://b.test/', jwksUri: jwks.jwksUri }]).issuers[0]!), /not on this keyring/);
  t.notOk(ring.ready(), 'not started: not ready');
  t.same(ring.states(), [{ issuer: 'https://a.test/', loaded: false, keyCount: 0, ageSeconds: undefined }]);
  await ring.close();
  t.equal(jwks.requests, 0, 'never started, never fetched');
});
