/**
 * The DPoP `jti` replay cache (RFC 9449 §11.1), bounded in entries and in time.
 *
 * An entry lives until its proof leaves the acceptance window (`iat` + window), so a
 * replay inside the window always finds it. When the cache is full, the entry that
 * would be evicted is looked at first: expired, it goes; still live, the new proof
 * is refused ('full') rather than forgetting a proof that could then be replayed
 * (fail closed: the operator raises the bound). Only proofs that passed every other
 * check are admitted, so only holders of a valid bound token can fill it.
 *
 * One process, one cache: with several workers a proof replayed to another worker is
 * not seen; RFC 9449 §11.1 leaves cross-server replay to shared state or server nonces.
 */
import { LRUCache } from 'lru-cache';

export interface ReplayCache {
  /** 'ok' and remembered until `expiresS` (seconds since the epoch), or why not. */
  admit(key: string, expiresS: number): 'ok' | 'seen' | 'full';
  /** Entries held (live, or expired and not yet evicted): the gauge. */
  size(): number;
}

/** Covers the clock read between the window check and the insert. */
const MARGIN_MS = 1000;

/** `windowS` bounds every entry's life; `now` is milliseconds since the epoch (the clock the window uses). */
export function createReplayCache(max: number, windowS: number, now: () => number): ReplayCache {
  const cache = new LRUCache<string, true>({
    max,
    // Upper bound only: each entry gets its own ttl below (an iat at the future edge lives 2 windows).
    ttl: Math.ceil(2 * windowS * 1000) + MARGIN_MS,
    // `has` never counts an expired entry; allowStale lets rkeys() show the eviction candidate even when expired.
    allowStale: true,
    // 0: read the clock on each check instead of caching it behind a timer per call.
    ttlResolution: 0,
    perf: { now },
  });
  return {
    admit(key, expiresS) {
      if (cache.has(key)) return 'seen';
      if (cache.size >= max) {
        // rkeys() starts at the least recently used entry: the one set() would evict.
        const oldest = cache.rkeys().next();
        if (!oldest.done && cache.getRemainingTTL(oldest.value) > 0) return 'full';
      }
      cache.set(key, true, { ttl: Math.max(1, Math.ceil(expiresS * 1000 - now()) + MARGIN_MS) });
      return 'ok';
    },
    size: () => cache.size,
  };
}
