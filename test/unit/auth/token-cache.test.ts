/**
 * The verified-token cache on its own: what it stores, when a hit is served, and the
 * tail-keyed lookup that still compares the whole token. Through the verifier (real
 * keys, rotation, the cost of a hit) in verify.test.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { createTokenCache, type RevocableKey } from '../../../src/auth/token-cache.js';
import type { VerifyResult } from '../../../src/auth/types.js';

type Ok = Extract<VerifyResult, { ok: true }>;

/** A verified result expiring `inMs` from now. */
function result(inMs = 60_000): Ok {
  const scopes = Object.freeze(['read']);
  return Object.freeze({
    ok: true,
    token: Object.freeze({
      issuer: 'https://i/',
      subject: 'user-1',
      clientId: undefined,
      expiresAt: (Date.now() + inMs) / 1000,
      issuedAt: undefined,
      scopes,
      scopeSet: new Set(scopes),
      scopeHeader: 'read',
      keyId: 'https://i/#k',
    }),
  } as const);
}

const NO_DATES = { nbf: undefined, iat: undefined };
const key = (): { revoked: boolean } & RevocableKey => ({ revoked: false });
/** A token-like string: 40 characters of head, then a 32-character tail. */
const token = (head: string, tail = 'T'.repeat(32)) => head.padEnd(40, '.') + tail;

t.test('a hit returns the stored result object itself; counters follow', async (t) => {
  const cache = createTokenCache(10);
  const tok = token('a');
  t.equal(cache.get(tok), undefined);
  const r = result();
  cache.remember(tok, r, key(), NO_DATES);
  t.equal(cache.get(tok), r, 'the very same object: nothing allocated per hit');
  t.equal(cache.get(Buffer.from(tok).toString('latin1')), r, 'an equal string from another buffer hits too');
  t.same(cache.stats(), { hits: 2, misses: 1, size: 1 });
});

t.test('entries are found by the tail but served only for the identical token', async (t) => {
  const cache = createTokenCache(10);
  const stored = token('header.payload-one');
  const r = result();
  cache.remember(stored, r, key(), NO_DATES);
  t.equal(cache.get(token('header.payload-two')), undefined, 'same tail (same signature), other payload: miss');
  t.equal(cache.get(stored), r, 'the stored entry survived the colliding lookup');
  const short = 'short.token.sig';
  cache.remember(short, r, key(), NO_DATES);
  t.equal(cache.get(short), r, 'a token of 32 characters or fewer is its own key');
  t.equal(cache.get(`x${short}`), undefined);
  t.same(cache.stats(), { hits: 2, misses: 2, size: 2 });
});

t.test('a revoked key or a passed exp ends the entry at once', async (t) => {
  const cache = createTokenCache(10);
  const k = key();
  const revokedTok = token('revoked');
  cache.remember(revokedTok, result(), k, NO_DATES);
  const expiringTok = token('expiring', 'E'.repeat(32));
  cache.remember(expiringTok, result(50), key(), NO_DATES);
  t.equal(cache.stats().size, 2);
  k.revoked = true;
  t.equal(cache.get(revokedTok), undefined, 'revoked: miss');
  t.equal(cache.stats().size, 1, 'and the entry is gone');
  t.ok(cache.get(expiringTok), 'before exp: hit');
  await sleep(80);
  t.equal(cache.get(expiringTok), undefined, 'past exp (no skew): miss');
  t.equal(cache.stats().size, 0);
});

t.test('only tokens valid now, without skew, are stored', async (t) => {
  const cache = createTokenCache(10);
  const nowS = Date.now() / 1000;
  cache.remember(token('expired'), result(-1000), key(), NO_DATES);
  cache.remember(token('nbf', 'N'.repeat(32)), result(), key(), { nbf: nowS + 20, iat: undefined });
  cache.remember(token('iat', 'I'.repeat(32)), result(), key(), { nbf: undefined, iat: nowS + 20 });
  t.equal(cache.stats().size, 0, 'expired, not yet valid, issued in the future: none stored');
  cache.remember(token('fine', 'F'.repeat(32)), result(), key(), { nbf: nowS - 1, iat: nowS - 1 });
  t.equal(cache.stats().size, 1);
});

t.test('bounded by entries, least recently used first out', async (t) => {
  const cache = createTokenCache(2);
  const [a, b, c] = ['A', 'B', 'C'].map((x) => token(x, x.repeat(32))) as [string, string, string];
  cache.remember(a, result(), key(), NO_DATES);
  cache.remember(b, result(), key(), NO_DATES);
  cache.get(a);
  cache.remember(c, result(), key(), NO_DATES);
  t.ok(cache.get(a), 'recently used: kept');
  t.equal(cache.get(b), undefined, 'least recently used: evicted');
  t.ok(cache.get(c));
  t.equal(cache.stats().size, 2);
});

t.test('size 0 disables the cache: nothing stored, nothing counted', async (t) => {
  const cache = createTokenCache(0);
  const tok = token('a');
  cache.remember(tok, result(), key(), NO_DATES);
  t.equal(cache.get(tok), undefined);
  t.same(cache.stats(), { hits: 0, misses: 0, size: 0 });
});
