/**
 * The JWKS store's revocation rule, in-process: a set that parses is the truth (an
 * empty one revokes every key, and verified-token cache entries go with their key);
 * only a failed fetch keeps the cached keys. Refusals reach both hooks with a
 * bounded reason. Readiness: an issuer that once loaded keys stays ready after a
 * revocation (its tokens get 401); one that never loaded a usable key is not ready.
 */
import t, { type Test } from 'tap';
import type { AuthHooks } from '../../../src/auth/types.js';
import type { TokenVerifier } from '../../../src/auth/types.js';
import { createTokenVerifier } from '../../../src/auth/verify.js';
import { KeysUnavailableError } from '../../../src/errors.js';
import { generateKey, jwkOf, jwksOf, type TestKey } from '../../helpers/keys.js';
import { startJwksServer, type JwksServer } from '../../helpers/jwks-server.js';
import { claims, signToken, testAuthConfig } from '../../helpers/tokens.js';

const ISS = 'https://idp.example.com/';
const AUD = 'https://api.example.com';
const a = generateKey('ed25519', { kid: 'a' });
const b = generateKey('p256', { kid: 'b' });
/** Never published: its kid is unknown, so verifying its token makes the store fetch. */
const stranger = generateKey('p256', { kid: 'stranger' });

interface World {
  readonly v: TokenVerifier;
  readonly server: JwksServer;
  readonly fetches: string[];
  readonly refusals: string[];
  /** Fetch now and wait for the result: an unknown kid refetches, and the cooldown is 0. */
  refresh(): Promise<void>;
  code(token: string): Promise<string>;
}

async function world(t: Test, initial: unknown, start = true): Promise<World> {
  const server = await startJwksServer(initial);
  const fetches: string[] = [];
  const refusals: string[] = [];
  // The server wires these same hooks: onKeyRefused travels through the verifier to the store.
  const hooks: AuthHooks = {
    onJwksFetch: (_i, result, detail) => fetches.push(`${result}: ${detail}`),
    onKeyRefused: (_i, reason, count) => refusals.push(`${reason} x${count}`),
  };
  const v = createTokenVerifier(testAuthConfig([{ issuer: ISS, jwksUri: server.jwksUri }], { jwks: { cooldownS: 0 } }), hooks);
  t.teardown(async () => {
    await v.close();
    await server.close();
  });
  if (start) await v.start();
  return {
    v,
    server,
    fetches,
    refusals,
    refresh: async () => {
      await v.verify(signToken(stranger, claims(ISS, AUD)));
    },
    code: async (token) => {
      const r = await v.verify(token);
      return r.ok ? 'ok' : r.error.code;
    },
  };
}

const token = (k: TestKey, jti = 'x'): string => signToken(k, claims(ISS, AUD, { jti }));

t.test('an empty set revokes every key, cached tokens included; the issuer stays ready', async (t) => {
  const w = await world(t, jwksOf(a, b));
  const cached = token(a);
  t.equal(await w.code(cached), 'ok');
  t.equal(w.v.cacheStats().size, 1, 'cached');
  w.server.setJwks({ keys: [] });
  await w.refresh();
  t.equal(w.fetches.at(-1), 'rejected: no usable keys; 2 cached keys revoked');
  t.equal(await w.code(cached), 'ERR_AUTH_TOKEN_KEY_UNKNOWN', 'the cache entry went with its key');
  t.equal(await w.code(token(b)), 'ERR_AUTH_TOKEN_KEY_UNKNOWN');
  t.same(w.v.issuerStates()[0], { issuer: ISS, loaded: true, keyCount: 0, ageSeconds: w.v.issuerStates()[0]!.ageSeconds });
  t.ok(w.v.ready(), 'ready: the IdP answered; a 401 is the true answer for a revoked key');
  w.server.setJwks(jwksOf(a));
  await w.refresh();
  t.equal(await w.code(cached), 'ok', 'published again: verifies again (a new record, re-verified)');
});

t.test('a key re-published as use "enc" or with key_ops lacking verify is revoked; its neighbour is not', async (t) => {
  const w = await world(t, jwksOf(a, b));
  const [ca, cb] = [token(a), token(b)];
  t.equal(await w.code(ca), 'ok');
  t.equal(await w.code(cb), 'ok');
  w.server.setJwks({ keys: [jwkOf(a, { use: 'enc' }), jwkOf(b)] });
  await w.refresh();
  t.equal(await w.code(ca), 'ERR_AUTH_TOKEN_KEY_UNKNOWN', 'use enc: revoked');
  t.equal(await w.code(cb), 'ok', 'b untouched (its cached entry survives an unchanged refresh)');
  w.server.setJwks({ keys: [jwkOf(b, { key_ops: ['sign'] })] });
  await w.refresh();
  t.equal(await w.code(cb), 'ERR_AUTH_TOKEN_KEY_UNKNOWN', 'key_ops without verify: revoked');
  t.same(w.refusals.slice(-1), ['key_ops_no_verify x1']);
  t.ok(w.refusals.includes('use_not_sig x1'));
});

t.test('a failed fetch keeps every cached key (stale-on-error)', async (t) => {
  const w = await world(t, jwksOf(a));
  const cached = token(a);
  t.equal(await w.code(cached), 'ok');
  const failures = [
    [{ kind: 'status', status: 503 }, /^failure: HTTP 503$/],
    [{ kind: 'reset' }, /^failure: /],
    [{ kind: 'close' }, /^failure: /],
    [{ kind: 'garbage', body: 'not json' }, /^rejected: body is not JSON$/],
    [{ kind: 'garbage', body: '{"keys":{}}' }, /^rejected: not a JWK Set/],
    [{ kind: 'oversized', bytes: 100 * 1024, declareLength: false }, /^rejected: body exceeds 65536 bytes$/],
  ] as const;
  for (const [mode, outcome] of failures) {
    w.server.setMode(mode);
    await w.refresh();
    t.match(w.fetches.at(-1), outcome, JSON.stringify(mode));
    t.equal(await w.code(cached), 'ok', `${mode.kind}: cached token still served`);
    t.equal(await w.code(token(a, mode.kind)), 'ok', `${mode.kind}: fresh token still verified`);
  }
  t.equal(w.v.issuerStates()[0]?.keyCount, 1);
});

t.test('a set with no usable key at start: not ready, tokens get 503 (keys unavailable)', async (t) => {
  const w = await world(t, { keys: [jwkOf(a, { use: 'enc' })] });
  t.notOk(w.v.ready());
  const r = await w.v.verify(token(a));
  t.ok(!r.ok && r.error instanceof KeysUnavailableError);
  t.equal(w.fetches[0], 'rejected: no usable keys');
});

t.test('refusals carry a bounded reason and a count; the 64-key cap counts what it ignores', async (t) => {
  const many = Array.from({ length: 70 }, (_, i) => jwkOf(a, { kid: `k${i}` }));
  const w = await world(t, { keys: [...many.slice(0, 63), jwkOf(a, { kid: 'k0' }), ...many.slice(63)] });
  t.same(w.refusals.sort(), ['duplicate_kid x1', 'too_many_keys x7']);
  t.equal(w.v.issuerStates()[0]?.keyCount, 63);
});
