/**
 * Opaque access tokens: RFC 7662 introspection with a cache, shared calls and a bound on
 * calls in flight. The README's "Opaque tokens (introspection)" section is the user-facing contract.
 *
 * - A bearer token that is not a compact JWS (`isJwsCompact`) is introspected.
 * - The cache is keyed by the SHA-256 of the token: an opaque token is a secret (whoever
 *   holds it is the client), so the raw string is never kept as a key. Active results live
 *   for min(cacheTtlS, exp − now); refusals (inactive, expired, wrong iss/aud) for
 *   negativeCacheTtlS, in a cache of their own so a flood of garbage tokens cannot evict
 *   the active entries real clients are served from. Each is bounded by cacheSize entries.
 * - Concurrent requests with one token share one call. At most maxInFlight distinct calls at
 *   once; one more is refused at once (503), not queued: a slow endpoint must not turn into
 *   unbounded waiting requests.
 * - Endpoint unreachable, timed out, non-200, a body that is not JSON, or not an introspection
 *   response → 503 with Retry-After, never cached, never an allow (fail closed).
 *
 * Results have the shape of TokenVerifier.verify: synchronous on a cache hit, a Promise when a
 * call is made; never throws, never rejects.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { KeysUnavailableError, TokenError } from '../errors.js';
import { isB64Token } from './bearer.js';
import { createIntrospectionCall, type IntrospectionCall } from './introspect-call.js';
import { interpretResponse, type ResponseChecks } from './introspect-response.js';
import type { VerifyResult } from './types.js';

export { TokenInactiveError, ERR_AUTH_TOKEN_INACTIVE, INTROSPECTED_KEY_ID } from './introspect-response.js';

/** What one call to the endpoint answered: the `result` label of scopegate_introspection_total. */
export type IntrospectionCallResult = 'active' | 'inactive' | 'error';

export interface IntrospectorOptions {
  /** `auth.introspection.endpoint`: an absolute http(s) URL. */
  readonly endpoint: string;
  readonly clientId: string;
  /** Already read (from client_secret_file or client_secret_env) and trimmed by the caller. */
  readonly clientSecret: string;
  /** When set, a response carrying `iss` must equal it. */
  readonly issuer?: string;
  /** When non-empty, a response carrying `aud` must contain one of them. */
  readonly audiences?: readonly string[];
  /** Seconds an active result is reused (capped by its exp). 0 turns the cache off. */
  readonly cacheTtlS: number;
  /** Seconds a refusal is reused. 0 turns the negative cache off. */
  readonly negativeCacheTtlS: number;
  /** The whole call, connect to last body byte. */
  readonly timeoutMs: number;
  /** Distinct calls in flight at once; beyond it 503. */
  readonly maxInFlight: number;
  /** Entries in each cache (`auth.token_cache_size`). 0 turns the caches off. */
  readonly cacheSize: number;
  /** `auth.max_token_bytes`: a longer token is refused before any call. */
  readonly maxTokenBytes: number;
  /** Metrics: one call per endpoint call (never per cache hit). `detail` is a fixed reason, never a token. */
  readonly onCall?: (result: IntrospectionCallResult, durationS: number, detail: string | undefined) => void;
}

/** The endpoint could not answer: a 503 with `Retry-After: retryAfterS`, cause `introspection`. */
export class IntrospectionUnavailableError extends KeysUnavailableError {
  /** What the token could not be checked against: the deny's cause in logs. */
  readonly dependency = 'introspection';
  /**
   * @param reason fixed text (`timeout`, `HTTP 401`, `overloaded`, …): never a token or secret.
   * @param retryAfterS whole seconds, at least 1.
   */
  constructor(
    readonly reason: string,
    readonly retryAfterS: number,
  ) {
    super(`The token cannot be checked now: the introspection endpoint is unavailable (${reason})`);
  }
}

export interface IntrospectorStats {
  readonly hits: number;
  readonly misses: number;
  /** Entries in the active and the refusal cache. */
  readonly size: number;
  readonly inFlight: number;
}

export interface Introspector {
  introspect(token: string): VerifyResult | Promise<VerifyResult>;
  stats(): IntrospectorStats;
  /** Ends the calls in flight (they answer 503) and closes the pool's sockets. */
  close(): Promise<void>;
}

/** Retry-After when calls in flight are at max_in_flight: one freed slot is likely within a second. */
const OVERLOADED_RETRY_AFTER_S = 1;

function isBase64UrlChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
}

/**
 * A compact JWS shape (RFC 7515 §7.1): three base64url segments, header and payload non-empty.
 * Such a token goes to the JWT verifier (which refuses a JWE, `alg: none` and the rest by name);
 * anything else is opaque and introspected. Ory Hydra's `ory_at_….…` has two segments.
 */
export function isJwsCompact(token: string): boolean {
  let dots = 0;
  let segmentStart = 0;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 0x2e) {
      if (i === segmentStart || ++dots > 2) return false;
      segmentStart = i + 1;
    } else if (!isBase64UrlChar(c)) {
      return false;
    }
  }
  return dots === 2;
}

/** The cache key of a token: its SHA-256, so the cache never holds a usable token. */
export function tokenCacheKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

interface Entry {
  readonly result: VerifyResult;
  readonly untilMs: number;
}

function refused(error: TokenError): VerifyResult {
  return Object.freeze({ ok: false, error });
}

export function createIntrospector(options: IntrospectorOptions): Introspector {
  const client: IntrospectionCall = createIntrospectionCall({
    endpoint: options.endpoint,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    timeoutMs: options.timeoutMs,
    connections: options.maxInFlight,
  });
  const checks: ResponseChecks = {
    issuer: options.issuer,
    audiences: options.audiences ?? [],
    fallbackIssuer: new URL(options.endpoint).origin,
  };
  const failureRetryAfterS = Math.max(1, Math.ceil(options.timeoutMs / 1000));
  const active = options.cacheSize > 0 && options.cacheTtlS > 0 ? new LRUCache<string, Entry>({ max: options.cacheSize }) : undefined;
  const negative = options.cacheSize > 0 && options.negativeCacheTtlS > 0 ? new LRUCache<string, Entry>({ max: options.cacheSize }) : undefined;
  const inFlight = new Map<string, Promise<VerifyResult>>();
  let hits = 0;
  let misses = 0;

  function cached(key: string): VerifyResult | undefined {
    const now = Date.now();
    for (const cache of [active, negative]) {
      const entry = cache?.get(key);
      if (entry === undefined) continue;
      if (now < entry.untilMs) return entry.result;
      cache!.delete(key);
    }
    return undefined;
  }

  function unavailable(reason: string, retryAfterS: number): VerifyResult {
    return Object.freeze({ ok: false, error: new IntrospectionUnavailableError(reason, retryAfterS) });
  }

  /** One call, its metric, and its result cached when the endpoint answered. */
  async function callAndCache(token: string, key: string): Promise<VerifyResult> {
    const started = performance.now();
    const outcome = await client.call(token);
    const nowMs = Date.now();
    const nowS = nowMs / 1000;
    const interpreted = outcome.ok ? interpretResponse(outcome.body, checks, nowS, Math.floor(nowS) + options.cacheTtlS) : undefined;
    const seconds = (performance.now() - started) / 1000;
    if (interpreted === undefined) {
      const reason = outcome.ok ? 'not an introspection response' : outcome.reason;
      options.onCall?.('error', seconds, reason);
      return unavailable(reason, failureRetryAfterS);
    }
    if (interpreted instanceof TokenError) {
      // An active answer refused here (expired, wrong iss/aud) is still an active answer.
      options.onCall?.(outcome.ok && outcome.body.active === true ? 'active' : 'inactive', seconds, interpreted.code);
      const result = refused(interpreted);
      negative?.set(key, { result, untilMs: nowMs + options.negativeCacheTtlS * 1000 });
      return result;
    }
    options.onCall?.('active', seconds, undefined);
    const result: VerifyResult = Object.freeze({ ok: true, token: interpreted });
    const untilMs = Math.min(nowMs + options.cacheTtlS * 1000, interpreted.expiresAt * 1000);
    if (untilMs > nowMs) active?.set(key, { result, untilMs });
    return result;
  }

  function introspect(token: string): VerifyResult | Promise<VerifyResult> {
    // Checked before hashing or calling: such a token can never be valid, and the server
    // must not be asked about it (RFC 6750 §2.1 b64token).
    if (token.length > options.maxTokenBytes) return refused(new TokenError('ERR_AUTH_TOKEN_TOO_LARGE', 'The token is too large'));
    if (!isB64Token(token)) return refused(new TokenError('ERR_AUTH_TOKEN_MALFORMED', 'The bearer token is not a b64token (RFC 6750 §2.1)'));
    const key = tokenCacheKey(token);
    const hit = cached(key);
    if (hit !== undefined) {
      hits++;
      return hit;
    }
    misses++;
    const shared = inFlight.get(key);
    if (shared !== undefined) return shared;
    if (inFlight.size >= options.maxInFlight) return unavailable('overloaded', OVERLOADED_RETRY_AFTER_S);
    const call = callAndCache(token, key)
      .catch(() => unavailable('internal error', failureRetryAfterS))
      .finally(() => inFlight.delete(key));
    inFlight.set(key, call);
    return call;
  }

  return {
    introspect(token) {
      try {
        return introspect(token);
      } catch {
        // A bug here is a 503, never a crash and never an allow.
        return unavailable('internal error', failureRetryAfterS);
      }
    },
    stats: () => ({ hits, misses, size: (active?.size ?? 0) + (negative?.size ?? 0), inFlight: inFlight.size }),
    close: () => client.close(),
  };
}
