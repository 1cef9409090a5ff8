/**
 * Public keys that parse but cannot be safe to verify with, refused at JWKS import.
 * Each check names the forgery it prevents; all run once per key per refresh, never
 * per token.
 *
 * - RSA with e = 1: the PKCS#1 v1.5 padded hash is itself a valid signature (s^1 = s),
 *   so anyone can sign anything. Small or even exponents invite the same class of
 *   trouble; RFC 8017 §3.1 allows them, NIST SP 800-56B (§6.2) and FIPS 186-5 (§5.4)
 *   require an odd e ≥ 65537, and every IdP publishes AQAB (65537).
 * - RSA below 2048 bits: NIST SP 800-131A, factorable by a motivated attacker.
 * - EC points not on their curve (invalid-curve keys): node:crypto refuses them at
 *   import today (tested), checked here too so the refusal has a precise reason and
 *   does not depend on the crypto library build.
 * - Ed25519 small-order points (RFC 8032 §5.1.7 does not forbid them): with A of
 *   order dividing 8, the signature (R = identity, S = 0) verifies whenever
 *   [k]A = identity, i.e. for 1 message in 8 or (A = identity) for every message.
 */
import type { KeyRefusal } from './jwk-import.js';

export interface Refusal {
  readonly refusal: KeyRefusal;
  readonly reason: string;
}

/** NIST SP 800-131A: RSA below 2048 bits is not acceptable for signatures. */
export const MIN_RSA_BITS = 2048;
/** FIPS 186-5 §5.4: 2^16 < e, odd. 65537 (AQAB) is what every IdP publishes. */
export const MIN_RSA_EXPONENT = 65537n;

export function rsaRefusal(details: { modulusLength?: number; publicExponent?: bigint } | undefined): Refusal | undefined {
  const bits = details?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) return { refusal: 'rsa_too_small', reason: `RSA modulus below ${MIN_RSA_BITS} bits` };
  const e = details?.publicExponent ?? 0n;
  if (e < MIN_RSA_EXPONENT || e % 2n === 0n) {
    return { refusal: 'rsa_exponent', reason: `RSA public exponent ${e} is not an odd number ≥ ${MIN_RSA_EXPONENT}` };
  }
  return undefined;
}

/** Short Weierstrass curves y² = x³ − 3x + b (mod p) of JWS (RFC 7518 §3.4; SEC 2 §2.4). */
interface Curve {
  readonly p: bigint;
  readonly b: bigint;
  /** Coordinate length in bytes: RFC 7518 §6.2.1.2 requires the full size. */
  readonly bytes: number;
}
const CURVES: Readonly<Record<string, Curve>> = {
  'P-256': {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    bytes: 32,
  },
  'P-384': {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    bytes: 48,
  },
  'P-521': {
    p: (1n << 521n) - 1n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
    bytes: 66,
  },
};

/** The point (x, y) of an EC JWK is on its curve, with canonical full-size coordinates. Unknown curves are not judged here. */
export function ecPointRefusal(crv: unknown, x: unknown, y: unknown): Refusal | undefined {
  const curve = typeof crv === 'string' ? CURVES[crv] : undefined;
  if (curve === undefined) return undefined;
  const xb = strictBase64Url(x);
  const yb = strictBase64Url(y);
  if (xb?.length !== curve.bytes || yb?.length !== curve.bytes) {
    return { refusal: 'malformed', reason: `EC coordinates are not ${curve.bytes}-byte base64url values` };
  }
  const px = bigEndian(xb);
  const py = bigEndian(yb);
  const { p, b } = curve;
  if (px >= p || py >= p || (py * py - (px * px * px - 3n * px + b)) % p !== 0n) {
    return { refusal: 'ec_not_on_curve', reason: `EC point is not on ${String(crv)}` };
  }
  return undefined;
}

/** 2^255 − 19, the field of Curve25519 (RFC 7748 §4.1). */
const ED25519_P = (1n << 255n) - 19n;
/**
 * The y-coordinate of the order-8 points (the other two have p − y). With 0 (order 4),
 * 1 (the identity) and p − 1 (order 2) these are the 8 points of the torsion subgroup;
 * p and p + 1 are the non-canonical spellings of 0 and 1 (p − 1 + p and y + p for the
 * others exceed 255 bits). The sign bit is ignored, so all 14 encodings are caught.
 * Same list as libsodium's `has_small_order`; test/unit/auth/key-safety.test.ts
 * checks each point's order with independent curve arithmetic.
 */
const ED25519_ORDER_8_Y = 2707385501144840649318225287225658788936804267575313519463743609750303402022n;
const ED25519_SMALL_ORDER_Y: ReadonlySet<bigint> = new Set([
  0n,
  1n,
  ED25519_P - 1n,
  ED25519_ORDER_8_Y,
  ED25519_P - ED25519_ORDER_8_Y,
  ED25519_P,
  ED25519_P + 1n,
]);

/** An Ed25519 public key (RFC 8037 §2 `x`, the RFC 8032 §5.1.2 encoding) of small order. */
export function ed25519Refusal(x: unknown): Refusal | undefined {
  const bytes = strictBase64Url(x);
  if (bytes?.length !== 32) return { refusal: 'malformed', reason: 'Ed25519 x is not a 32-byte base64url value' };
  const y = littleEndian(bytes) & ((1n << 255n) - 1n); // bit 255 is the sign of x
  if (ED25519_SMALL_ORDER_Y.has(y)) return { refusal: 'ed25519_small_order', reason: 'Ed25519 point of small order' };
  return undefined;
}

/**
 * base64url without padding that decodes to exactly these bytes: a lenient decoder
 * would let two spellings of a key (checked here, imported by node:crypto) differ.
 */
function strictBase64Url(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]*$/.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64url');
  return bytes.toString('base64url') === value ? bytes : undefined;
}

function bigEndian(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

function littleEndian(bytes: Buffer): bigint {
  return bigEndian(Buffer.from(bytes).reverse());
}
