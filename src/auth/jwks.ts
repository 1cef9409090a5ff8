/**
 * One issuer's key set: fetched only from the configured `jwksUri`, imported once,
 * refreshed in the background, refetched on an unknown `kid` at most once per
 * cooldown with one shared in-flight fetch, and kept on fetch failure.
 *
 * Shape borrowed from panva/jose `src/jwks/remote.ts` (single `#pendingFetch`,
 * cooldown, max age), with two differences: the cooldown also follows *failed*
 * fetches (so an outage cannot turn made-up kids into a fetch storm), and key
 * lookup is synchronous so a known kid never awaits.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { Agent, request } from 'undici';
import type { Algorithm, IssuerConfig, JwksConfig } from '../config/schema.js';
import type { AuthHooks, IssuerKeyState } from './types.js';

/** Checks one JWS signature (RFC 7515 §5.2) over its signing input with one key and one alg. Never throws. */
export type KeyVerifyFn = (signingInput: Buffer, signature: Buffer) => boolean;
export type KeyVerifierFactory = (pem: string, alg: Algorithm) => KeyVerifyFn;

export interface JwksKey {
  /** `${issuer}#${kid}` (kid empty when the JWK has none): VerifiedToken.keyId. */
  readonly id: string;
  readonly kid: string | undefined;
  /** What this key may verify: kty/crv (and the JWK's `alg`) ∩ the issuer allow-list. */
  readonly algorithms: ReadonlySet<Algorithm>;
  /** SPKI PEM, also the key's identity across refreshes. */
  readonly pem: string;
  /** One verifier per algorithm, created at import. Empty when no factory was given. */
  readonly verifiers: ReadonlyMap<Algorithm, KeyVerifyFn>;
  /**
   * Set when a refresh no longer publishes this key (or publishes different material
   * under its kid). Verified-token cache entries hold the record and check this flag,
   * so removal evicts them in O(1) without scanning the cache.
   */
  revoked: boolean;
}

export interface JwksStoreOptions {
  /** Builds the per-key/alg signature checks at import (verify.ts passes node:crypto here). */
  readonly createVerifier?: KeyVerifierFactory;
}

export interface JwksStore {
  readonly issuer: string;
  /** True once a key set with at least one usable key has been loaded. */
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
   * The promise never rejects.
   */
  refetch(): Promise<void> | undefined;
  /** Initial fetch; resolves after it succeeded or failed. Never rejects. */
  start(): Promise<void>;
  state(): IssuerKeyState;
  /** Stop timers, abort an in-flight fetch, close sockets. */
  close(): Promise<void>;
}

/** Algorithms each key type can ever verify (RFC 7518 §3.1, RFC 8037 §3.1). */
const RSA_ALGS: readonly Algorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_ALGS: Readonly<Record<string, Algorithm>> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };
/** NIST SP 800-131A: RSA below 2048 bits is not acceptable for signatures. */
const MIN_RSA_BITS = 2048;
/** JWK members that only private or symmetric keys carry (RFC 7518 §6.2.2, §6.3.2, §6.4). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
/**
 * After a failed fetch, background retry waits the cooldown, but at least this long,
 * so a cooldown of 0 (tests, or a careless config) cannot spin on a dead endpoint.
 */
const MIN_RETRY_MS = 1_000;
/**
 * Keys imported per set. Real sets hold 1–10 keys; importing one costs ~0.1 ms of
 * blocking CPU (createPublicKey + PEM export + the per-alg key setup), so a hostile 1 MiB
 * set of ~2000 RSA keys would stall the event loop. Keys beyond this are skipped and reported.
 */
const MAX_KEYS = 64;

type ImportResult = { readonly ok: true; readonly key: JwksKey } | { readonly ok: false; readonly reason: string };

function candidateAlgorithms(jwk: Record<string, unknown>): readonly Algorithm[] | string {
  switch (jwk.kty) {
    case 'RSA':
      return RSA_ALGS;
    case 'EC': {
      const alg = typeof jwk.crv === 'string' ? EC_ALGS[jwk.crv] : undefined;
      return alg === undefined ? `unsupported EC curve ${String(jwk.crv)}` : [alg];
    }
    case 'OKP':
      // Ed25519 only: Ed448 is rarely deployed and every extra curve is extra surface.
      return jwk.crv === 'Ed25519' ? ['EdDSA'] : `unsupported OKP curve ${String(jwk.crv)}`;
    default:
      return `unsupported kty ${String(jwk.kty)}`;
  }
}

/** Only the public members reach createPublicKey: no `d`, `alg`, `use` or x5c surprises. */
function publicMembers(jwk: Record<string, unknown>): JsonWebKey {
  return jwk.kty === 'RSA'
    ? { kty: 'RSA', n: jwk.n as string, e: jwk.e as string }
    : jwk.kty === 'EC'
      ? { kty: 'EC', crv: jwk.crv as string, x: jwk.x as string, y: jwk.y as string }
      : { kty: 'OKP', crv: jwk.crv as string, x: jwk.x as string };
}

function importJwk(
  raw: unknown,
  issuer: IssuerConfig,
  allowed: ReadonlySet<Algorithm>,
  factory: KeyVerifierFactory | undefined,
  previous: readonly JwksKey[],
): ImportResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, reason: 'not a JSON object' };
  const jwk = raw as Record<string, unknown>;
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string') return { ok: false, reason: 'kid is not a string' };
  const kid = jwk.kid as string | undefined;
  if (jwk.use !== undefined && jwk.use !== 'sig') return { ok: false, reason: `use is ${String(jwk.use)}, not sig` };
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) {
    return { ok: false, reason: 'key_ops does not include verify' };
  }
  for (const m of PRIVATE_MEMBERS) {
    if (m in jwk) return { ok: false, reason: `carries private or symmetric member "${m}"` };
  }
  const candidates = candidateAlgorithms(jwk);
  if (typeof candidates === 'string') return { ok: false, reason: candidates };
  let algs: readonly Algorithm[] = candidates;
  if (jwk.alg !== undefined) {
    if (typeof jwk.alg !== 'string' || !(candidates as readonly string[]).includes(jwk.alg)) {
      return { ok: false, reason: `alg ${String(jwk.alg)} does not fit kty ${String(jwk.kty)}` };
    }
    algs = [jwk.alg as Algorithm];
  }
  algs = algs.filter((a) => allowed.has(a));
  // A key none of whose algorithms the issuer allows can verify nothing: it must not
  // count towards "keys loaded" (readiness) as if the issuer could be served.
  if (algs.length === 0) return { ok: false, reason: 'no algorithm of this key is on the issuer allow-list' };

  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: publicMembers(jwk), format: 'jwk' });
  } catch (err) {
    return { ok: false, reason: `cannot import: ${(err as Error).message}` };
  }
  if (jwk.kty === 'RSA' && (keyObject.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    return { ok: false, reason: `RSA modulus below ${MIN_RSA_BITS} bits` };
  }
  const pem = keyObject.export({ type: 'spki', format: 'pem' }) as string;

  // Same kid and same material as before: keep the record, so its verifiers and the
  // tokens cached against it survive an unchanged refresh.
  const old = previous.find((k) => k.kid === kid && k.pem === pem && sameAlgs(k.algorithms, algs));
  if (old !== undefined) return { ok: true, key: old };

  const verifiers = new Map<Algorithm, KeyVerifyFn>();
  if (factory !== undefined) {
    for (const alg of algs) {
      try {
        verifiers.set(alg, factory(pem, alg));
      } catch (err) {
        return { ok: false, reason: `no verifier for ${alg}: ${(err as Error).message}` };
      }
    }
  }
  return {
    ok: true,
    key: { id: `${issuer.issuer}#${kid ?? ''}`, kid, algorithms: new Set(algs), pem, verifiers, revoked: false },
  };
}

function sameAlgs(a: ReadonlySet<Algorithm>, b: readonly Algorithm[]): boolean {
  return a.size === b.length && b.every((x) => a.has(x));
}

class JwksRejected extends Error {}

/** Drop a response body we will not read; undici reports the abort as a stream error, which is expected here. */
function discard(body: { on(event: 'error', fn: () => void): unknown; destroy(): unknown }): void {
  body.on('error', () => {});
  body.destroy();
}

export function createJwksStore(
  issuer: IssuerConfig,
  jwks: JwksConfig,
  hooks?: AuthHooks,
  options?: JwksStoreOptions,
): JwksStore {
  const allowed = new Set(issuer.algorithms);
  const cooldownMs = jwks.cooldownS * 1000;
  const maxAgeMs = jwks.maxAgeS * 1000;
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

  function schedule(ms: number): void {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void fetchShared(), ms);
    timer.unref(); // a pending refresh must never keep the process alive
  }

  async function download(): Promise<unknown> {
    const signal = AbortSignal.any([AbortSignal.timeout(jwks.timeoutMs), closer.signal]);
    const res = await request(issuer.jwksUri, {
      method: 'GET',
      dispatcher: agent,
      signal,
      headers: { accept: 'application/jwk-set+json, application/json' },
    });
    if (res.statusCode !== 200) {
      discard(res.body);
      throw new Error(`HTTP ${res.statusCode}`);
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > jwks.maxBytes) {
      discard(res.body);
      throw new JwksRejected(`Content-Length ${declared} exceeds ${jwks.maxBytes} bytes`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > jwks.maxBytes) {
        discard(res.body);
        throw new JwksRejected(`body exceeds ${jwks.maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new JwksRejected('body is not JSON');
    }
  }

  /** Swap in a new key set; returns how many keys are usable. */
  function install(doc: unknown): number {
    if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { keys?: unknown }).keys)) {
      throw new JwksRejected('not a JWK Set (no "keys" array)');
    }
    const next = new Map<string, JwksKey>();
    const nextAll: JwksKey[] = [];
    const rawKeys = (doc as { keys: unknown[] }).keys;
    if (rawKeys.length > MAX_KEYS) {
      hooks?.onKeySkipped?.(issuer.issuer, undefined, `${rawKeys.length - MAX_KEYS} keys beyond the first ${MAX_KEYS} ignored`);
    }
    for (const raw of rawKeys.slice(0, MAX_KEYS)) {
      const r = importJwk(raw, issuer, allowed, options?.createVerifier, all);
      const kid = typeof raw === 'object' && raw !== null ? (raw as { kid?: unknown }).kid : undefined;
      if (!r.ok) {
        hooks?.onKeySkipped?.(issuer.issuer, typeof kid === 'string' ? kid : undefined, r.reason);
        continue;
      }
      if (r.key.kid !== undefined) {
        if (next.has(r.key.kid)) {
          // Two keys under one kid cannot be told apart by a token: keep the first.
          hooks?.onKeySkipped?.(issuer.issuer, r.key.kid, 'duplicate kid');
          continue;
        }
        next.set(r.key.kid, r.key);
      }
      if (!nextAll.includes(r.key)) nextAll.push(r.key);
    }
    if (nextAll.length === 0) {
      // A set with no usable key is more likely a broken deploy than a revocation of
      // everything: keep serving what we had (stale-on-error), report it.
      throw new JwksRejected('no usable keys');
    }
    for (const old of all) if (!nextAll.includes(old)) old.revoked = true;
    byKid = next;
    all = nextAll;
    return nextAll.length;
  }

  function fetchShared(): Promise<void> {
    if (closed) return Promise.resolve();
    // One fetch in flight, shared by every waiter (background refresh, unknown kids, start()).
    inFlight ??= (async () => {
      lastAttemptAt = Date.now();
      try {
        const count = install(await download());
        loadedEver = true;
        lastSuccessAt = Date.now();
        hooks?.onJwksFetch?.(issuer.issuer, 'success', `${count} keys`);
        schedule(maxAgeMs);
      } catch (err) {
        if (closed) return;
        const rejected = err instanceof JwksRejected;
        hooks?.onJwksFetch?.(issuer.issuer, rejected ? 'rejected' : 'failure', (err as Error).message);
        schedule(Math.max(MIN_RETRY_MS, Math.min(cooldownMs, maxAgeMs)));
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
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
    async close() {
      closed = true;
      clearTimeout(timer);
      closer.abort();
      await inFlight;
      await agent.destroy();
    },
  };
}
