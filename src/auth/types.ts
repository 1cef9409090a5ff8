/**
 * The contract between token verification and the policy layer.
 */
import type { KeyRefusal } from './jwk-import.js';
import type { KeysUnavailableError, TokenError } from '../errors.js';
import type { Confirmation } from './sender-constraint.js';

/**
 * A verified token, as cached: everything the hot path needs, parsed once.
 * The payload itself is not kept: ~100k cached tokens would carry ~50 MB of
 * claims nothing reads.
 */
export interface VerifiedToken {
  readonly issuer: string;
  readonly subject: string | undefined;
  /** `client_id` (RFC 9068), else `azp`, else undefined. */
  readonly clientId: string | undefined;
  /** Seconds since epoch. Always present: tokens without `exp` are rejected. */
  readonly expiresAt: number;
  /** Granted scopes, de-duplicated, in claim order. */
  readonly scopes: readonly string[];
  /** Same scopes as a Set, for O(1) exact checks. */
  readonly scopeSet: ReadonlySet<string>;
  /** scopes joined with one space: the identity header value, computed once. */
  readonly scopeHeader: string;
  /** The key that verified it (issuer + kid), so key removal can evict it. */
  readonly keyId: string;
  /** `iat` when the token carries one (seconds since epoch). */
  readonly issuedAt: number | undefined;
  /**
   * The `cnf` claim (RFC 7800) as far as scopegate can check it: DPoP `jkt` (RFC 9449)
   * or `x5t#S256` (RFC 8705). Absent when the token has none: a plain bearer token.
   */
  readonly cnf?: Confirmation;
  /** `jti` when the token carries one as a string (logged, per logging.fields). */
  readonly jwtId?: string | undefined;
  /**
   * The top-level claims some route condition (`where:`) reads, frozen; absent when no
   * route has one. Nothing else of the payload is kept.
   */
  readonly claims?: Readonly<Record<string, unknown>>;
}

export type VerifyResult =
  | { readonly ok: true; readonly token: VerifiedToken }
  | { readonly ok: false; readonly error: TokenError | KeysUnavailableError };

export interface TokenVerifier {
  /**
   * Verify a compact JWS. Returns synchronously on a cache hit and whenever no
   * key fetch is needed; returns a Promise only when a JWKS fetch is in flight
   * or must be started (unknown kid past cooldown, or keys never loaded).
   * Never throws and never rejects.
   */
  verify(token: string): VerifyResult | Promise<VerifyResult>;
  /** True once every configured issuer has loaded its key set at least once. */
  ready(): boolean;
  /** Initial JWKS fetch for every issuer; resolves when each has succeeded or failed once. */
  start(): Promise<void>;
  /**
   * Stop background refresh timers; close sockets. Key stores a successor verifier took
   * over on reload (createTokenVerifier's `previous`) stay open until it closes too.
   */
  close(): Promise<void>;
  /** For metrics and /readyz. */
  issuerStates(): readonly IssuerKeyState[];
  /** Verified-token cache counters since start. */
  cacheStats(): { readonly hits: number; readonly misses: number; readonly size: number };
}

export interface IssuerKeyState {
  readonly issuer: string;
  readonly loaded: boolean;
  readonly keyCount: number;
  /** Seconds since the last successful fetch, or undefined if never. */
  readonly ageSeconds: number | undefined;
}

/** What the admin page shows of one issuer's key store beyond IssuerKeyState (README, "Admin page"). Read-only. */
export interface IssuerKeyDetail {
  readonly issuer: string;
  /** kids of the current keys (a kid-less key is not listed). */
  readonly kids: readonly string[];
  /** Epoch ms of the last fetch attempt, whatever its result. */
  readonly lastFetchAt: number | undefined;
  /** Why the last fetch failed or was rejected; undefined after a success. */
  readonly lastError: string | undefined;
  /** Epoch ms of the next background refresh, when one is scheduled. */
  readonly nextRefreshAt: number | undefined;
}

/** Observability hooks, wired to metrics/logs by server.ts. All optional. */
export interface AuthHooks {
  onJwksFetch?(issuer: string, result: 'success' | 'failure' | 'rejected', detail?: string): void;
  /** One JWK of a fetched set was skipped (enc, private, unsupported, broken); the others still load. */
  onKeySkipped?(issuer: string, kid: string | undefined, reason: string): void;
  /**
   * `count` JWKs of a fetched set were refused for `reason` (bounded: a metric label).
   * The same refusal also reaches onKeySkipped, with the kid and a sentence, for the log.
   */
  onKeyRefused?(issuer: string, reason: KeyRefusal, count: number): void;
  /** One call to the introspection endpoint (never a cache hit); `detail` is a fixed reason, never a token. */
  onIntrospection?(result: 'active' | 'inactive' | 'error', durationS: number, detail: string | undefined): void;
}
