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
 * Cache lookup key: the token's last 32 characters (inside the signature: 192 bits that
 * only the key holder can choose for a valid token). V8 hashes a Map key string in full,
 * and every request brings a fresh, unhashed token string: keying by the whole token cost
 * ~1000 ns per hit for a 700-byte RS256 token, the 32-char tail ~150 ns (measured, see
 * test/unit/auth/verify.test.ts). The tail only *finds* the entry; a hit also requires
 * `entry.token === token` (a memcmp), so a swapped payload under a reused signature, or
 * any forged token sharing the tail, misses and is verified in full. Only verified tokens
 * are ever stored, so a forgery cannot displace an entry either.
 */
const CACHE_KEY_CHARS = 32;
function cacheKey(token: string): string {
  return token.length > CACHE_KEY_CHARS ? token.slice(token.length - CACHE_KEY_CHARS) : token;
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
  /** The exact result returned on a hit: no allocation per hit. */
  readonly result: VerifyResult;
  /** exp in ms. An entry is served only while Date.now() < expMs. */
  readonly expMs: number;
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
  const lru = maxEntries > 0 ? new LRUCache<string, CacheEntry>({ max: maxEntries }) : undefined;
  let hits = 0;
  let misses = 0;
  return {
    get(token) {
      if (lru === undefined) return undefined;
      const k = cacheKey(token);
      const entry = lru.get(k);
      if (entry !== undefined && entry.token === token) {
        if (!entry.key.revoked && Date.now() < entry.expMs) {
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
      if (expMs > now && !early) lru.set(cacheKey(token), { token, result, expMs, key });
    },
    stats: () => ({ hits, misses, size: lru?.size ?? 0 }),
  };
}
