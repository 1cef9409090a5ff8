/**
 * Key pairs generated at test time (never committed), with their public JWKs.
 * Reusable by the conformance table: every function is pure apart from key generation.
 */
import { generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Algorithm } from '../../src/config/schema.js';

export type KeyKind = 'rsa' | 'p256' | 'p384' | 'p521' | 'ed25519';

export interface TestKey {
  readonly kind: KeyKind;
  readonly kid: string;
  /** The alg tokens signed with this key use by default. */
  readonly alg: Algorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SPKI PEM of the public key (the classic HS256-confusion "secret"). */
  readonly publicPem: string;
  /** Public JWK with kid, alg and use:"sig" (drop or change them with `jwkOf`). */
  readonly jwk: JsonWebKey & { kid: string; alg?: string; use?: string };
}

const DEFAULT_ALG: Record<KeyKind, Algorithm> = { rsa: 'RS256', p256: 'ES256', p384: 'ES384', p521: 'ES512', ed25519: 'EdDSA' };
let counter = 0;

function pair(kind: KeyKind, rsaBits: number): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (kind) {
    case 'rsa':
      return generateKeyPairSync('rsa', { modulusLength: rsaBits });
    case 'p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'p521':
      return generateKeyPairSync('ec', { namedCurve: 'P-521' });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
  }
}

/**
 * Generate a key. `alg` sets the default signing alg and the JWK's `alg` member
 * (pass `jwkAlg: false` to publish the JWK without `alg`). RSA is 2048 bits unless
 * `rsaBits` says otherwise (e.g. 1024 to test the minimum-size rule).
 */
export function generateKey(
  kind: KeyKind,
  opts: { kid?: string; alg?: Algorithm; jwkAlg?: boolean; rsaBits?: number } = {},
): TestKey {
  const { privateKey, publicKey } = pair(kind, opts.rsaBits ?? 2048);
  const kid = opts.kid ?? `${kind}-${++counter}`;
  const alg = opts.alg ?? DEFAULT_ALG[kind];
  const jwk: TestKey['jwk'] = { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig' };
  if (opts.jwkAlg !== false) jwk.alg = alg;
  return {
    kind,
    kid,
    alg,
    privateKey,
    publicKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    jwk,
  };
}

/** The key's public JWK with members replaced or removed (value undefined removes). */
export function jwkOf(key: TestKey, patch: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { ...key.jwk };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** The private JWK (carries `d`): a JWKS must never accept it as a verification key. */
export function privateJwkOf(key: TestKey): Record<string, unknown> {
  return { ...key.privateKey.export({ format: 'jwk' }), kid: key.kid, alg: key.alg, use: 'sig' };
}

/** `{ keys: [...] }` of the given keys' public JWKs. */
export function jwksOf(...keys: TestKey[]): { keys: Record<string, unknown>[] } {
  return { keys: keys.map((k) => jwkOf(k)) };
}
