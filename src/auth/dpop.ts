/**
 * DPoP proof verification (RFC 9449 §4.3) for a request that presents a DPoP-bound
 * access token (`Authorization: DPoP <token>`, `cnf.jkt`).
 *
 * jose verifies the proof JWT against the public key in its own `jwk` header
 * (EmbeddedJWK) and computes the RFC 7638 thumbprint; this module is the policy
 * around it, checks in this order (DPOP_CHECKS): one proof, size, `typ`, `alg`,
 * `jwk`, signature, claims present, `htm`, `htu`, `iat` window, `ath`, thumbprint
 * against `cnf.jkt`, and last the `jti` replay cache, so only a proof that passed
 * every other check takes a cache entry.
 *
 * It runs on every request after the access token is verified: the verified-token
 * cache saves the token's signature check, never the proof check (a proof is single
 * use and names one method and URI).
 *
 * Expected refusals are returned values with a stable code; jose errors are mapped by
 * their `code`, never by message.
 */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify, type JWTPayload, type JWK } from 'jose';
import { normalizeHttpUri, normalizeOrigins, HTU_QUERY } from './htu.js';
import { createReplayCache, type ReplayCache } from './replay-cache.js';

export interface DpopOptions {
  /** `scheme://host[:port]` clients put in `htu`; `htu` must be one of these + the request path. */
  readonly origins: readonly string[];
  /** Allowed proof algorithms: asymmetric JWS algorithms only (never `none` or HS*). */
  readonly algorithms: readonly string[];
  /** A proof's `iat` must be within ±(maxAgeS + clockSkewS) of now. */
  readonly maxAgeS: number;
  readonly clockSkewS: number;
  /** Bound in entries of the `jti` replay cache; entries also expire with the window. */
  readonly replayCacheSize: number;
  /**
   * The previous verifier's cache (DpopVerifier.replayCache), so a config reload does
   * not forget the proofs already seen; when given, replayCacheSize is its bound.
   */
  readonly replayCache?: ReplayCache;
  /** Milliseconds since the epoch. Defaults to Date.now; tests move it. */
  readonly now?: () => number;
}

/** One request's proof and what it must bind to. */
export interface DpopRequest {
  /** The value of every `DPoP` header line, in order. */
  readonly proofs: readonly string[];
  /** The request method as received (a HEAD stays HEAD). */
  readonly method: string;
  /** The request's canonical path: the one matched and forwarded. */
  readonly path: string;
  /** The access token as presented after `DPoP `. */
  readonly accessToken: string;
  /** The verified access token's `cnf.jkt`. */
  readonly jkt: string;
}

export type DpopErrorCode =
  | 'ERR_AUTH_DPOP_PROOF_MISSING'
  | 'ERR_AUTH_DPOP_PROOF_DUPLICATE'
  | 'ERR_AUTH_DPOP_PROOF_MALFORMED'
  | 'ERR_AUTH_DPOP_TYP'
  | 'ERR_AUTH_DPOP_ALG'
  | 'ERR_AUTH_DPOP_JWK'
  | 'ERR_AUTH_DPOP_SIGNATURE'
  | 'ERR_AUTH_DPOP_CLAIM_INVALID'
  | 'ERR_AUTH_DPOP_HTM'
  | 'ERR_AUTH_DPOP_HTU'
  | 'ERR_AUTH_DPOP_HTU_QUERY'
  | 'ERR_AUTH_DPOP_IAT_STALE'
  | 'ERR_AUTH_DPOP_IAT_FUTURE'
  | 'ERR_AUTH_DPOP_ATH_MISSING'
  | 'ERR_AUTH_DPOP_ATH'
  | 'ERR_AUTH_DPOP_JKT'
  | 'ERR_AUTH_DPOP_REPLAY'
  | 'ERR_AUTH_DPOP_REPLAY_CACHE_FULL';

/** Every refusal in the order the checks run (`explain` prints the ones before a failure as passed). */
export const DPOP_CHECKS: readonly DpopErrorCode[] = [
  'ERR_AUTH_DPOP_PROOF_MISSING', 'ERR_AUTH_DPOP_PROOF_DUPLICATE', 'ERR_AUTH_DPOP_PROOF_MALFORMED', 'ERR_AUTH_DPOP_TYP', 'ERR_AUTH_DPOP_ALG',
  'ERR_AUTH_DPOP_JWK', 'ERR_AUTH_DPOP_SIGNATURE', 'ERR_AUTH_DPOP_CLAIM_INVALID', 'ERR_AUTH_DPOP_HTM', 'ERR_AUTH_DPOP_HTU_QUERY', 'ERR_AUTH_DPOP_HTU',
  'ERR_AUTH_DPOP_IAT_STALE', 'ERR_AUTH_DPOP_IAT_FUTURE', 'ERR_AUTH_DPOP_ATH_MISSING', 'ERR_AUTH_DPOP_ATH', 'ERR_AUTH_DPOP_JKT',
  'ERR_AUTH_DPOP_REPLAY', 'ERR_AUTH_DPOP_REPLAY_CACHE_FULL',
];

export interface DpopFailure {
  readonly ok: false;
  readonly code: DpopErrorCode;
  /** Safe to send as error_description. */
  readonly description: string;
}
export type DpopResult = { readonly ok: true } | DpopFailure;

export interface DpopVerifier {
  /** Never rejects. */
  verify(request: DpopRequest): Promise<DpopResult>;
  /** Entries in the replay cache (live, or expired and not yet evicted): the gauge. */
  replayCacheSize(): number;
  /** The allowed algorithms in config order: the challenge's `algs`. */
  readonly algorithms: readonly string[];
  /** Handed to the next generation's verifier on reload (DpopOptions.replayCache). */
  readonly replayCache: ReplayCache;
}

const DESCRIPTIONS: Readonly<Record<DpopErrorCode, string>> = {
  ERR_AUTH_DPOP_PROOF_MISSING: 'A DPoP-bound token needs one DPoP proof header',
  ERR_AUTH_DPOP_PROOF_DUPLICATE: 'More than one DPoP proof',
  ERR_AUTH_DPOP_PROOF_MALFORMED: 'The DPoP proof is not a well-formed JWT',
  ERR_AUTH_DPOP_TYP: 'The DPoP proof typ is not dpop+jwt',
  ERR_AUTH_DPOP_ALG: 'The DPoP proof algorithm is not allowed',
  ERR_AUTH_DPOP_JWK: 'The DPoP proof jwk is not a usable public key',
  ERR_AUTH_DPOP_SIGNATURE: 'The DPoP proof signature is invalid',
  ERR_AUTH_DPOP_CLAIM_INVALID: 'The DPoP proof lacks a valid jti, htm, htu or iat claim',
  ERR_AUTH_DPOP_HTM: 'The DPoP proof htm does not match the request method',
  ERR_AUTH_DPOP_HTU: 'The DPoP proof htu does not match the request URI',
  ERR_AUTH_DPOP_HTU_QUERY: 'The DPoP proof htu carries a query or fragment',
  ERR_AUTH_DPOP_IAT_STALE: 'The DPoP proof is too old',
  ERR_AUTH_DPOP_IAT_FUTURE: 'The DPoP proof is issued in the future',
  ERR_AUTH_DPOP_ATH_MISSING: 'The DPoP proof has no ath claim',
  ERR_AUTH_DPOP_ATH: 'The DPoP proof ath does not match the access token',
  ERR_AUTH_DPOP_JKT: 'The DPoP proof key is not the key the access token is bound to',
  ERR_AUTH_DPOP_REPLAY: 'The DPoP proof has been used before',
  ERR_AUTH_DPOP_REPLAY_CACHE_FULL: 'The DPoP proof cannot be checked for replay now',
};

// Refusals are expected (replays, clock drift, attacks): one frozen result per code, built once.
const FAIL = Object.fromEntries(
  DPOP_CHECKS.map((code) => [code, Object.freeze({ ok: false, code, description: DESCRIPTIONS[code] })]),
) as Readonly<Record<DpopErrorCode, DpopFailure>>;
const OK: DpopResult = Object.freeze({ ok: true });

/** Asymmetric JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1); RFC 9449 §4.2 forbids none and MACs. */
const ASYMMETRIC = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);
/** JWK members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const ASYMMETRIC_KTY = new Set(['EC', 'OKP', 'RSA']);
/** An RSA-4096 proof is ~1.3 KB; anything near Node's 16 KB header limit is not a proof. */
const MAX_PROOF_CHARS = 8192;
/** `jti` bounds each replay-cache key; RFC 9449 §4.2 asks for ≥ 96 bits of randomness, a UUID is 36 chars. */
const MAX_JTI_CHARS = 256;

/** Key-resolution failures (a jwk jose or WebCrypto cannot import) are told apart from every other jose error. */
const KEY_UNUSABLE = new Error('DPoP proof jwk cannot be imported');
/** RFC 7518 §3.3: RSA keys of 2048 bits or more. */
const MIN_RSA_BITS = 2048;
const embeddedKey: typeof EmbeddedJWK = async (header, token) => {
  let key: Awaited<ReturnType<typeof EmbeddedJWK>>;
  try {
    key = await EmbeddedJWK(header, token);
  } catch {
    throw KEY_UNUSABLE;
  }
  // jose refuses a short RSA key too, but later and with a TypeError that has no code.
  const { modulusLength } = key.algorithm as { modulusLength?: number };
  if (modulusLength !== undefined && modulusLength < MIN_RSA_BITS) throw KEY_UNUSABLE;
  return key;
};

/** jose's rejection of a proof → our refusal, by jose's error `code`. */
function joseFailure(e: unknown): DpopFailure {
  if (e === KEY_UNUSABLE) return FAIL.ERR_AUTH_DPOP_JWK;
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  switch (code) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return FAIL.ERR_AUTH_DPOP_SIGNATURE;
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return FAIL.ERR_AUTH_DPOP_ALG;
    case 'ERR_JWT_EXPIRED': // an optional `exp` in the past
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': // a non-numeric iat, or an `nbf` ahead
      return FAIL.ERR_AUTH_DPOP_CLAIM_INVALID;
    default:
      return FAIL.ERR_AUTH_DPOP_PROOF_MALFORMED;
  }
}

/** The single proof, or why there is none (RFC 9449 §4.3 step 1). */
function singleProof(values: readonly string[]): string | DpopFailure {
  if (values.length > 1) return FAIL.ERR_AUTH_DPOP_PROOF_DUPLICATE;
  const proof = values[0];
  if (proof === undefined || proof === '') return FAIL.ERR_AUTH_DPOP_PROOF_MISSING;
  // A compact JWS has no comma: one here is two header lines a proxy folded into one.
  if (proof.includes(',')) return FAIL.ERR_AUTH_DPOP_PROOF_DUPLICATE;
  if (proof.length > MAX_PROOF_CHARS) return FAIL.ERR_AUTH_DPOP_PROOF_MALFORMED;
  return proof;
}

/** Header rules checked before any crypto: typ, alg, a public asymmetric jwk (RFC 9449 §4.3 steps 4–7). */
function checkedHeader(proof: string, allowed: ReadonlySet<string>): { readonly jwk: JWK } | DpopFailure {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    // decodeProtectedHeader's only failure is an undecodable first segment.
    return FAIL.ERR_AUTH_DPOP_PROOF_MALFORMED;
  }
  if (header.typ !== 'dpop+jwt') return FAIL.ERR_AUTH_DPOP_TYP;
  if (typeof header.alg !== 'string' || !allowed.has(header.alg)) return FAIL.ERR_AUTH_DPOP_ALG;
  const jwk: unknown = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return FAIL.ERR_AUTH_DPOP_JWK;
  const members = jwk as Record<string, unknown>;
  if (typeof members.kty !== 'string' || !ASYMMETRIC_KTY.has(members.kty)) return FAIL.ERR_AUTH_DPOP_JWK;
  for (const m of PRIVATE_MEMBERS) if (m in members) return FAIL.ERR_AUTH_DPOP_JWK;
  return { jwk: members as JWK };
}

/** The claims every proof carries (RFC 9449 §4.2), typed, or undefined when one is missing or mistyped. */
function requiredClaims(p: JWTPayload): { jti: string; htm: string; htu: string; iat: number } | undefined {
  const { jti, htm, htu, iat } = p as Record<string, unknown>;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_CHARS) return undefined;
  if (typeof htm !== 'string' || typeof htu !== 'string') return undefined;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return undefined;
  return { jti, htm, htu, iat };
}

/** base64url(SHA-256(ASCII access token)): the `ath` claim (RFC 9449 §4.2). */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'latin1').digest('base64url');
}

/** Throws TypeError on options no config validation should have let through. */
function validateOptions(o: DpopOptions): void {
  for (const alg of o.algorithms) {
    if (!ASYMMETRIC.has(alg)) throw new TypeError(`DPoP algorithm ${alg} is not an asymmetric JWS algorithm`);
  }
  if (o.algorithms.length === 0) throw new TypeError('DPoP needs at least one algorithm');
  if (!(o.maxAgeS > 0) || !(o.clockSkewS >= 0)) throw new TypeError('DPoP max_age_s must be > 0 and clock skew >= 0');
  if (!Number.isInteger(o.replayCacheSize) || o.replayCacheSize < 1) throw new TypeError('DPoP replay cache size must be a positive integer');
}

export function createDpopVerifier(options: DpopOptions): DpopVerifier {
  validateOptions(options);
  const origins = normalizeOrigins(options.origins);
  const allowed: ReadonlySet<string> = new Set(options.algorithms);
  const algorithms = Object.freeze([...options.algorithms]);
  const now = options.now ?? Date.now;
  const windowS = options.maxAgeS + options.clockSkewS;
  const verifyOptions = { algorithms: [...algorithms], clockTolerance: options.clockSkewS };
  const replays = options.replayCache ?? createReplayCache(options.replayCacheSize, windowS, now);

  /** Steps after the signature: request binding, time window, token binding, replay. */
  async function checkClaims(payload: JWTPayload, thumbprintOf: Promise<string | undefined>, req: DpopRequest, nowMs: number): Promise<DpopResult> {
    const claims = requiredClaims(payload);
    if (claims === undefined) return FAIL.ERR_AUTH_DPOP_CLAIM_INVALID;
    if (claims.htm !== req.method) return FAIL.ERR_AUTH_DPOP_HTM;
    const htu = normalizeHttpUri(claims.htu);
    if (htu === HTU_QUERY) return FAIL.ERR_AUTH_DPOP_HTU_QUERY;
    if (typeof htu === 'string' || !origins.has(htu.origin) || htu.path !== req.path) return FAIL.ERR_AUTH_DPOP_HTU;
    const nowS = nowMs / 1000;
    if (claims.iat < nowS - windowS) return FAIL.ERR_AUTH_DPOP_IAT_STALE;
    if (claims.iat > nowS + windowS) return FAIL.ERR_AUTH_DPOP_IAT_FUTURE;
    if (payload.ath === undefined) return FAIL.ERR_AUTH_DPOP_ATH_MISSING;
    if (payload.ath !== accessTokenHash(req.accessToken)) return FAIL.ERR_AUTH_DPOP_ATH;
    const thumbprint = await thumbprintOf;
    if (thumbprint === undefined) return FAIL.ERR_AUTH_DPOP_JWK;
    if (thumbprint !== req.jkt) return FAIL.ERR_AUTH_DPOP_JKT;
    // No await between this lookup and the insert: two copies of one proof in flight cannot both pass.
    const admitted = replays.admit(`${thumbprint}.${claims.jti}`, claims.iat + windowS);
    return admitted === 'ok' ? OK : admitted === 'seen' ? FAIL.ERR_AUTH_DPOP_REPLAY : FAIL.ERR_AUTH_DPOP_REPLAY_CACHE_FULL;
  }

  async function verify(req: DpopRequest): Promise<DpopResult> {
    const proof = singleProof(req.proofs);
    if (typeof proof !== 'string') return proof;
    const header = checkedHeader(proof, allowed);
    if ('ok' in header) return header;
    // The thumbprint (a WebCrypto digest) runs beside the signature check (another
    // WebCrypto job): each is a round trip through the libuv thread pool, and that
    // wait, not the hashing, is what a sequential chain would pay twice. It hashes the
    // header's own jwk, which is the key the signature is checked against.
    const thumbprintOf = calculateJwkThumbprint(header.jwk, 'sha256').catch(() => undefined);
    const nowMs = now();
    let verified: Awaited<ReturnType<typeof jwtVerify>>;
    try {
      verified = await jwtVerify(proof, embeddedKey, { ...verifyOptions, currentDate: new Date(nowMs) });
    } catch (e) {
      return joseFailure(e);
    }
    return checkClaims(verified.payload, thumbprintOf, req, nowMs);
  }

  return { verify, replayCacheSize: () => replays.size(), algorithms, replayCache: replays };
}
