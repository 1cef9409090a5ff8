/**
 * One JWK of a fetched set → a verification key, or a refusal with a bounded reason
 * code (the `reason` label of scopegate_jwks_keys_refused_total) and a sentence for
 * the log line. The key is parsed and imported by jose (`importJWK`, or `importX509`
 * for a key published as an `x5c` certificate, jwk-x5c.ts); only public members reach
 * it. A key is refused when it is not for signatures (`use`, `key_ops`), carries
 * private material, fits none of the issuer's algorithms, or cannot be safe
 * (key-safety.ts: jose imports RSA keys of any size and exponent, and leaves curve and
 * small-order checks to the crypto backend, so those rules stay ours).
 */
import { KeyObject } from 'node:crypto';
import { importJWK, type JWK } from 'jose';
import type { Algorithm } from '../config/schema.js';
import { withLeafMembers } from './jwk-x5c.js';
import type { KeyVerifier } from './jwt-verifier.js';
import { ecPointRefusal, ed25519Refusal, rsaRefusal, type Refusal } from './key-safety.js';

export type { KeyVerifier } from './jwt-verifier.js';
/** Builds the signature and claims check of one key and one algorithm (auth/jwt-verifier.ts). May throw: the key is refused. */
export type KeyVerifierFactory = (pem: string, alg: Algorithm) => KeyVerifier;

export interface JwksKey {
  /** `${issuer}#${kid}` (kid empty when the JWK has none): VerifiedToken.keyId. */
  readonly id: string;
  readonly kid: string | undefined;
  /** What this key may verify: kty/crv (and the JWK's `alg`) ∩ the issuer allow-list. */
  readonly algorithms: ReadonlySet<Algorithm>;
  /** SPKI PEM, also the key's identity across refreshes. */
  readonly pem: string;
  /** One verifier per algorithm, created at import. Empty when no factory was given. */
  readonly verifiers: ReadonlyMap<Algorithm, KeyVerifier>;
  /**
   * Set when a refresh no longer publishes this key (or publishes different material
   * under its kid, or refuses it). Verified-token cache entries hold the record and
   * check this flag, so removal evicts them in O(1) without scanning the cache.
   */
  revoked: boolean;
}

/** Every reason a JWK is refused, bounded so it can label a metric. */
export const KEY_REFUSALS = [
  'rsa_too_small',
  'rsa_exponent',
  'ec_not_on_curve',
  'ed25519_small_order',
  'use_not_sig',
  'key_ops_no_verify',
  'private_member',
  'unsupported',
  'alg_mismatch',
  'no_allowed_algorithm',
  'malformed',
  'duplicate_kid',
  'too_many_keys',
] as const;
export type KeyRefusal = (typeof KEY_REFUSALS)[number];

export interface ImportContext {
  readonly issuer: string;
  /** The issuer's algorithm allow-list. */
  readonly allowed: ReadonlySet<Algorithm>;
  readonly createVerifier: KeyVerifierFactory | undefined;
  /** The keys in use before this refresh: an unchanged key keeps its record. */
  readonly previous: readonly JwksKey[];
}

export type ImportResult = { readonly ok: true; readonly key: JwksKey } | ({ readonly ok: false } & Refusal);

/** Algorithms each key type can ever verify (RFC 7518 §3.1, RFC 8037 §3.1). */
const RSA_ALGS: readonly Algorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_ALGS: Readonly<Record<string, Algorithm>> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };
/** JWK members that only private or symmetric keys carry (RFC 7518 §6.2.2, §6.3.2, §6.4). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

function refuse(refusal: KeyRefusal, reason: string): ImportResult {
  return { ok: false, refusal, reason };
}

function candidateAlgorithms(jwk: Readonly<Record<string, unknown>>): readonly Algorithm[] | string {
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

/** Only the public members reach jose: no `d`, `alg`, `use`, `key_ops` or x5c surprises. */
function publicMembers(jwk: Readonly<Record<string, unknown>>): JWK {
  return jwk.kty === 'RSA'
    ? { kty: 'RSA', n: jwk.n as string, e: jwk.e as string }
    : jwk.kty === 'EC'
      ? { kty: 'EC', crv: jwk.crv as string, x: jwk.x as string, y: jwk.y as string }
      : { kty: 'OKP', crv: jwk.crv as string, x: jwk.x as string };
}

/** What the JWK says about its purpose and members (RFC 7517 §4.2, §4.3), before any crypto. */
function purposeRefusal(jwk: Record<string, unknown>): ImportResult | undefined {
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string') return refuse('malformed', 'kid is not a string');
  if (jwk.use !== undefined && jwk.use !== 'sig') return refuse('use_not_sig', `use is ${String(jwk.use)}, not sig`);
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) {
    return refuse('key_ops_no_verify', 'key_ops does not include verify');
  }
  for (const m of PRIVATE_MEMBERS) {
    if (m in jwk) return refuse('private_member', `carries private or symmetric member "${m}"`);
  }
  return undefined;
}

/** The algorithms this key may verify for this issuer, or why none. */
function usableAlgorithms(jwk: Readonly<Record<string, unknown>>, allowed: ReadonlySet<Algorithm>): readonly Algorithm[] | ImportResult {
  const candidates = candidateAlgorithms(jwk);
  if (typeof candidates === 'string') return refuse('unsupported', candidates);
  let algs: readonly Algorithm[] = candidates;
  if (jwk.alg !== undefined) {
    if (typeof jwk.alg !== 'string' || !(candidates as readonly string[]).includes(jwk.alg)) {
      return refuse('alg_mismatch', `alg ${String(jwk.alg)} does not fit kty ${String(jwk.kty)}`);
    }
    algs = [jwk.alg as Algorithm];
  }
  algs = algs.filter((a) => allowed.has(a));
  // A key none of whose algorithms the issuer allows can verify nothing: it must not
  // count towards "keys loaded" (readiness) as if the issuer could be served.
  if (algs.length === 0) return refuse('no_allowed_algorithm', 'no algorithm of this key is on the issuer allow-list');
  return algs;
}

/**
 * Import the public key with jose and refuse one that cannot be safe; the SPKI PEM on
 * success. `alg` only tells jose which WebCrypto algorithm to import for: the key, and
 * so the PEM, is the same for every algorithm of its type.
 */
async function safePublicKey(jwk: Readonly<Record<string, unknown>>, alg: Algorithm): Promise<string | ImportResult> {
  const unsafe = jwk.kty === 'EC' ? ecPointRefusal(jwk.crv, jwk.x, jwk.y) : jwk.kty === 'OKP' ? ed25519Refusal(jwk.x) : undefined;
  if (unsafe !== undefined) return { ok: false, ...unsafe };
  let keyObject: KeyObject;
  try {
    const imported = await importJWK(publicMembers(jwk), alg, { extractable: true });
    if (imported instanceof Uint8Array) return refuse('unsupported', 'not an asymmetric key');
    keyObject = KeyObject.from(imported);
  } catch (err) {
    return refuse('malformed', `cannot import: ${(err as Error).message}`);
  }
  if (jwk.kty === 'RSA') {
    const weak = rsaRefusal(keyObject.asymmetricKeyDetails);
    if (weak !== undefined) return { ok: false, ...weak };
  }
  return keyObject.export({ type: 'spki', format: 'pem' }) as string;
}

/** Import one JWK of a set: at JWKS import only (jose's import is asynchronous), never per token. */
export async function importJwk(raw: unknown, ctx: ImportContext): Promise<ImportResult> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return refuse('malformed', 'not a JSON object');
  const misfit = purposeRefusal(raw as Record<string, unknown>);
  if (misfit !== undefined) return misfit;
  const resolved = await withLeafMembers(raw as Record<string, unknown>);
  if (!resolved.ok) return resolved;
  const jwk = resolved.jwk;
  const kid = jwk.kid as string | undefined;
  const algs = usableAlgorithms(jwk, ctx.allowed);
  if ('ok' in algs) return algs;
  const pem = await safePublicKey(jwk, algs[0]!);
  if (typeof pem !== 'string') return pem;

  // Same kid and same material as before: keep the record, so its verifiers and the
  // tokens cached against it survive an unchanged refresh.
  const old = ctx.previous.find((k) => k.kid === kid && k.pem === pem && sameAlgs(k.algorithms, algs));
  if (old !== undefined) return { ok: true, key: old };

  const verifiers = new Map<Algorithm, KeyVerifier>();
  if (ctx.createVerifier !== undefined) {
    for (const alg of algs) {
      try {
        verifiers.set(alg, ctx.createVerifier(pem, alg));
      } catch (err) {
        return refuse('malformed', `no verifier for ${alg}: ${(err as Error).message}`);
      }
    }
  }
  return { ok: true, key: { id: `${ctx.issuer}#${kid ?? ''}`, kid, algorithms: new Set(algs), pem, verifiers, revoked: false } };
}

function sameAlgs(a: ReadonlySet<Algorithm>, b: readonly Algorithm[]): boolean {
  return a.size === b.length && b.every((x) => a.has(x));
}
