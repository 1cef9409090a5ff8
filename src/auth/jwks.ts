/**
 * One issuer's key set: fetched only from the configured `jwksUri`, imported once,
 * refreshed in the background, refetched on an unknown `kid` at most once per
 * cooldown with one shared in-flight fetch.
 *
 * A set that parses is the truth: a key it no longer holds (an empty set included)
 * is revoked at once. Only a fetch that failed (network, timeout, non-200, oversized,
 * not a JWK Set) keeps serving the cached keys (stale-on-error). Every fetch ends
 * within `timeoutMs` whatever the endpoint does (net/deadline.ts), so a hanging
 * endpoint can delay a rotation by one timeout, never block it.
 *
 * Shape borrowed from panva/jose `src/jwks/remote.ts` (single `#pendingFetch`,
 * cooldown, max age), with two differences: the cooldown also follows *failed*
 * fetches (so an outage cannot turn made-up kids into a fetch storm), and key
 * lookup is synchronous so a known kid never awaits.
 */
import { Agent } from 'undici';
import type { Algorithm, IssuerConfig, JwksConfig } from '../config/schema.js';
import { fetchBounded, OutboundFetchError } from '../net/fetch.js';
import { importJwk, type JwksKey, type KeyRefusal, type KeyVerifierFactory } from './jwk-import.js';
import type { AuthHooks, IssuerKeyDetail, IssuerKeyState } from './types.js';

export type { JwksKey, KeyRefusal, KeyVerifier, KeyVerifierFactory } from './jwk-import.js';
export { KEY_REFUSALS } from './jwk-import.js';


export interface JwksStoreOptions {
  /** Builds the per-key/alg signature and claims checks at import (keyring.ts passes fast-jwt's, auth/jwt-verifier.ts). */
  readonly createVerifier?: KeyVerifierFactory;
}

export interface JwksStore {
  readonly issuer: string;
  /** True once a key set with at least one usable key has been loaded (it stays true if the IdP later revokes every key). */
  loaded(): boolean;
  /** Synchronous lookup of a current key by kid. */
  getKey(kid: string): JwksKey | undefined;
  /**
   * For a token without `kid`: the one current key that can verify `alg`, or undefined
   * when there are zero or several (guessing between keys would be key confusion).
   */
  soleKeyFor(alg: Algorithm): JwksKey | undefined;
  /**
   * The fetch to wait for before retrying a lookup: the one in flight, or a new one if
   * the cooldown since the last attempt has passed; undefined while cooling down.
   * The promise never rejects, and settles within jwks.timeoutMs (net/deadline.ts).
   */
  refetch(): Promise<void> | undefined;
  /** Initial fetch; resolves after it succeeded or failed. Never rejects. */
  start(): Promise<void>;
  state(): IssuerKeyState;
  /** kids, last fetch, last error, next refresh: for the admin page (README, "Admin page"). */
  detail(): IssuerKeyDetail;
  /** Stop timers, abort an in-flight fetch, close sockets. */
  close(): Promise<void>;
}

/**
 * After a failed fetch, background retry waits the cooldown, but at least this long,
 * so a cooldown of 0 (tests, or a careless config) cannot spin on a dead endpoint.
 */
const MIN_RETRY_MS = 1_000;
/**
 * Keys imported per set. Real sets hold 1–10 keys; importing one costs ~0.1–0.2 ms of
 * CPU (jose's import, an x5c certificate parse, PEM export, the per-alg fast-jwt verifier),
 * so a hostile 1 MiB set of ~2000 RSA keys would hog the event loop. Keys beyond this are
 * skipped and reported.
 */
const MAX_KEYS = 64;

/** A response that arrived whole but is not a JWK Set: reported as `rejected`, cached keys kept. */
class JwksRejected extends Error {}

export function createJwksStore(
  issuer: IssuerConfig,
  jwks: JwksConfig,
  hooks?: AuthHooks,
  options?: JwksStoreOptions,
): JwksStore {
  const allowed = new Set(issuer.algorithms);
  const cooldownMs = jwks.cooldownS * 1000;
  const maxAgeMs = jwks.maxAgeS * 1000;
  const retryMs = Math.max(MIN_RETRY_MS, Math.min(cooldownMs, maxAgeMs));
  // Own dispatcher so close() really closes our sockets; redirects are never followed
  // (undici's request() does not follow them), so the only URL we fetch is jwksUri.
  const agent = new Agent({ connect: { timeout: jwks.timeoutMs } });
  const closer = new AbortController();

  let byKid = new Map<string, JwksKey>();
  /** Every current key, kid-less ones included (they are reachable only via soleKeyFor). */
  let all: readonly JwksKey[] = [];
  let loadedEver = false;
  let lastSuccessAt: number | undefined;
  let lastAttemptAt = -Infinity;
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  /** For detail() (the admin page): why the last fetch failed, when the next refresh runs. */
  let lastError: string | undefined;
  let nextRefreshAt: number | undefined;

  function schedule(ms: number): void {
    if (closed) return;
    nextRefreshAt = Date.now() + ms;
    clearTimeout(timer);
    timer = setTimeout(() => void fetchShared(), ms);
    timer.unref(); // a pending refresh must never keep the process alive
  }

  /** The whole exchange ends within timeoutMs whatever the peer does (net/deadline.ts). */
  async function download(): Promise<unknown> {
    const res = await fetchBounded(issuer.jwksUri, {
      dispatcher: agent,
      timeoutMs: jwks.timeoutMs,
      maxBytes: jwks.maxBytes,
      signal: closer.signal,
      headers: { accept: 'application/jwk-set+json, application/json' },
    });
    try {
      return JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new JwksRejected('body is not JSON');
    }
  }

  function refused(kid: string | undefined, refusal: KeyRefusal, reason: string, count = 1): void {
    hooks?.onKeySkipped?.(issuer.issuer, kid, reason);
    hooks?.onKeyRefused?.(issuer.issuer, refusal, count);
  }

  /**
   * Swap in a new key set; returns how many keys are usable (0 included). A set that
   * parses is the IdP's word: a key it no longer publishes, publishes with other
   * material, or publishes in a form we refuse (`use: enc`, weak) is withdrawn at once,
   * and the records of withdrawn keys are marked revoked so cached tokens go with them.
   */
  async function install(doc: unknown): Promise<number> {
    if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { keys?: unknown }).keys)) {
      throw new JwksRejected('not a JWK Set (no "keys" array)');
    }
    const next = new Map<string, JwksKey>();
    const nextAll: JwksKey[] = [];
    const rawKeys = (doc as { keys: unknown[] }).keys;
    if (rawKeys.length > MAX_KEYS) {
      const over = rawKeys.length - MAX_KEYS;
      refused(undefined, 'too_many_keys', `${over} keys beyond the first ${MAX_KEYS} ignored`, over);
    }
    const context = { issuer: issuer.issuer, allowed, createVerifier: options?.createVerifier, previous: all };
    for (const raw of rawKeys.slice(0, MAX_KEYS)) {
      // One key at a time, in set order: "the first of two keys under one kid wins" stays true.
      const r = await importJwk(raw, context);
      const kid = typeof raw === 'object' && raw !== null ? (raw as { kid?: unknown }).kid : undefined;
      if (!r.ok) {
        refused(typeof kid === 'string' ? kid : undefined, r.refusal, r.reason);
        continue;
      }
      if (r.key.kid !== undefined) {
        if (next.has(r.key.kid)) {
          // Two keys under one kid cannot be told apart by a token: keep the first.
          refused(r.key.kid, 'duplicate_kid', 'duplicate kid');
          continue;
        }
        next.set(r.key.kid, r.key);
      }
      if (!nextAll.includes(r.key)) nextAll.push(r.key);
    }
    for (const old of all) if (!nextAll.includes(old)) old.revoked = true;
    byKid = next;
    all = nextAll;
    return nextAll.length;
  }

  async function fetchOnce(): Promise<void> {
    lastAttemptAt = Date.now();
    try {
      const before = all.length;
      const count = await install(await download());
      lastSuccessAt = Date.now();
      if (count === 0) {
        // Not a fetch failure (nothing stale is kept), but nothing can be served either:
        // reported like a rejected set, and retried as soon as a failed fetch would be.
        lastError = before > 0 ? `no usable keys; ${before} cached keys revoked` : 'no usable keys';
        hooks?.onJwksFetch?.(issuer.issuer, 'rejected', lastError);
        schedule(retryMs);
        return;
      }
      loadedEver = true;
      lastError = undefined;
      hooks?.onJwksFetch?.(issuer.issuer, 'success', `${count} keys`);
      schedule(maxAgeMs);
    } catch (err) {
      if (closed) return;
      // Only a fetch that failed (network, timeout, status, size, not a JWK Set) keeps the cached keys.
      const rejected = err instanceof JwksRejected || (err instanceof OutboundFetchError && err.code === 'ERR_FETCH_TOO_LARGE');
      lastError = (err as Error).message;
      hooks?.onJwksFetch?.(issuer.issuer, rejected ? 'rejected' : 'failure', (err as Error).message);
      schedule(retryMs);
    }
  }

  function fetchShared(): Promise<void> {
    if (closed) return Promise.resolve();
    // One fetch in flight, shared by every waiter (background refresh, unknown kids, start()).
    inFlight ??= fetchOnce().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  /** The admin page's view of this store; read-only. */
  function detail(): IssuerKeyDetail {
    const lastFetchAt = lastAttemptAt === -Infinity ? undefined : lastAttemptAt;
    return { issuer: issuer.issuer, kids: [...byKid.keys()], lastFetchAt, lastError, nextRefreshAt: closed ? undefined : nextRefreshAt };
  }

  return {
    issuer: issuer.issuer,
    loaded: () => loadedEver,
    getKey: (kid) => byKid.get(kid),
    soleKeyFor(alg) {
      let found: JwksKey | undefined;
      for (const k of all) {
        if (!k.algorithms.has(alg)) continue;
        if (found !== undefined) return undefined;
        found = k;
      }
      return found;
    },
    refetch() {
      if (inFlight !== undefined) return inFlight;
      if (Date.now() - lastAttemptAt < cooldownMs) return undefined;
      return fetchShared();
    },
    start: () => fetchShared(),
    state: () => ({
      issuer: issuer.issuer,
      loaded: loadedEver,
      keyCount: all.length,
      ageSeconds: lastSuccessAt === undefined ? undefined : (Date.now() - lastSuccessAt) / 1000,
    }),
    detail,
    async close() {
      closed = true;
      clearTimeout(timer);
      closer.abort();
      await inFlight;
      await agent.destroy();
    },
  };
}
