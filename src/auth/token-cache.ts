/**
 * The verified-token cache: a bounded LRU of results the verifier already produced.
 *
 * An entry is served only if its token is identical (full string compare),
 * `Date.now() < exp` (not exp + skew: the skew window re-verifies), and its key record
 * is not `revoked` (set by a JWKS refresh that dropped or replaced the key). Tokens valid
 * only thanks to skew on nbf/iat are not cached. All O(1) on a hit, which is synchronous
 * and allocates nothing: it returns the very result object that was stored.
 */
import { LRUCache } from 'lru-cache';
import type { VerifyResult } from './types.js';

/**
 * Cache lookup key: a 30-bit hash of the token's last 12 characters (inside the
 * signature: 72 bits that only the key holder can choose for a valid token). V8 hashes a
 * Map key string in full, and every request brings a fresh, unhashed token string: keying
 * by the whole token cost ~1000 ns per hit for a 700-byte RS256 token (measured, see
 * test/unit/auth/verify.test.ts). An integer key is hashed by the Map for free and, unlike
 * a string slice of the tail, costs no object per entry. The key only *finds* the entry; a
 * hit also requires `entry.token === token` (a memcmp), so a swapped payload under a
 * reused signature, or any forged token sharing the key, misses and is verified in full,
 * and only verified tokens are ever stored, so a forgery cannot displace an entry either.
 * Two cached tokens sharing a key (about 1 in 10^4 per insert at 100,000 entries) cost
 * one of them a re-verification, nothing else.
 */
const CACHE_KEY_CHARS = 12;
function cacheKey(token: string): number {
  const n = token.length;
  let h = n;
  for (let i = n > CACHE_KEY_CHARS ? n - CACHE_KEY_CHARS : 0; i < n; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193);
  // A small integer (Smi): no heap number for the Map to box or hash.
  return h & 0x3fffffff;
}

/**
 * A copy of `token` in a string of its own: it is usually a slice of the whole Authorization
 * header string, which would otherwise stay alive with the entry (the prefix and a slice object:
 * ~40 bytes per entry). Paid on a miss only. Kept only if identical (it always is for header
 * values, which are latin1), so an entry never holds anything but the very token verified.
 */
function flatCopy(token: string): string {
  const copy = Buffer.from(token, 'latin1').toString('latin1');
  return copy === token ? copy : token;
}

/** What the cache needs of the key that verified a token: whether a JWKS refresh revoked it since. */
export interface RevocableKey {
  readonly revoked: boolean;
}

/** The date claims that decide whether a verified token may be cached at all (seconds since epoch). */
export interface TokenDates {
  readonly nbf: number | undefined;
  readonly iat: number | undefined;
}

interface CacheEntry {
  /** The full token: identity, compared on every hit. */
  readonly token: string;
  /** The exact result returned on a hit: no allocation per hit. Served only while Date.now() < exp (in ms). */
  readonly result: Extract<VerifyResult, { readonly ok: true }>;
  /** Checked on every hit: a key removed by a JWKS refresh stops its tokens at once. */
  readonly key: RevocableKey;
}

export interface TokenCache {
  /** The result stored for exactly this token while it still holds, else undefined (a miss). */
  get(token: string): VerifyResult | undefined;
  /** Store a successful verification, unless a hit would not mean "valid now". */
  remember(token: string, result: Extract<VerifyResult, { readonly ok: true }>, key: RevocableKey, dates: TokenDates): void;
  /** Counters since creation; all zero when the cache is disabled. */
  stats(): { readonly hits: number; readonly misses: number; readonly size: number };
}

/** A cache of `maxEntries` results; 0 disables it (every get misses without counting). */
export function createTokenCache(maxEntries: number): TokenCache {
  const lru = maxEntries > 0 ? new LRUCache<number, CacheEntry>({ max: maxEntries }) : undefined;
  let hits = 0;
  let misses = 0;
  return {
    get(token) {
      if (lru === undefined) return undefined;
      const k = cacheKey(token);
      const entry = lru.get(k);
      if (entry !== undefined && entry.token === token) {
        if (!entry.key.revoked && Date.now() < entry.result.token.expiresAt * 1000) {
          hits++;
          return entry.result;
        }
        lru.delete(k);
      }
      misses++;
      return undefined;
    },
    remember(token, result, key, dates) {
      if (lru === undefined) return;
      const now = Date.now();
      const expMs = result.token.expiresAt * 1000;
      // Strictly before exp (the skew window re-verifies instead), and never a token that
      // is only valid thanks to skew on nbf/iat: a cache hit must mean "valid now".
      const early = (dates.nbf !== undefined && dates.nbf * 1000 > now) || (dates.iat !== undefined && dates.iat * 1000 > now);
      if (expMs > now && !early) lru.set(cacheKey(token), { token: flatCopy(token), result, key });
    },
    stats: () => ({ hits, misses, size: lru?.size ?? 0 }),
  };
}
