/**
 * Sign arbitrary JWS header/payload pairs with node:crypto directly, so tests can
 * forge anything a verifier must refuse (alg none, HS256 with a public key as the
 * secret, all-zero ECDSA signatures, swapped payloads, extra headers).
 */
import type { Algorithm, AuthConfig, IssuerConfig } from '../../src/config/schema.js';
import { createHmac, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';
import type { TestKey } from './keys.js';

export type Json = Record<string, unknown>;

export function b64url(input: string | Buffer | Uint8Array): string {
  return Buffer.from(input).toString('base64url');
}

/** base64url of JSON, or of the raw string when given one (to forge non-JSON segments). */
export function segment(value: Json | unknown[] | string): string {
  return b64url(typeof value === 'string' ? value : JSON.stringify(value));
}

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/** Raw JWS signature (ECDSA in IEEE P1363 r||s form, as JWS requires) of `input` by `alg`. */
export function signatureFor(alg: string, key: KeyObject | Buffer | string, input: string): Buffer {
  const family = alg.slice(0, 2);
  const hash = HASH[alg.slice(2)];
  const data = Buffer.from(input);
  if (alg === 'EdDSA') return cryptoSign(null, data, key as KeyObject);
  if (family === 'HS') return createHmac(hash!, key as Buffer | string).update(data).digest();
  if (family === 'RS') return cryptoSign(hash!, data, key as KeyObject);
  if (family === 'PS') {
    return cryptoSign(hash!, data, { key: key as KeyObject, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: -1 /* digest */ });
  }
  if (family === 'ES') return cryptoSign(hash!, data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
  throw new Error(`signatureFor: unsupported alg ${alg}`);
}

/**
 * Sign `payload` under `header` (used exactly as given: add kid/alg yourself or use
 * `signToken`). `alg` picks the signing operation and defaults to header.alg.
 */
export function signRaw(header: Json, payload: Json | string, key: KeyObject | Buffer | string, alg = String(header.alg)): string {
  const input = `${segment(header)}.${segment(payload)}`;
  return `${input}.${b64url(signatureFor(alg, key, input))}`;
}

/** The common case: header {alg: key.alg, typ: 'at+jwt', kid: key.kid, ...extraHeader}. */
export function signToken(key: TestKey, payload: Json, extraHeader: Json = {}): string {
  const header: Json = { alg: key.alg, typ: 'at+jwt', kid: key.kid, ...extraHeader };
  for (const [k, v] of Object.entries(header)) if (v === undefined) delete header[k];
  return signRaw(header, payload, key.privateKey);
}

/**
 * The same common case minted by jose, the reference JWS implementation (asynchronous, as
 * jose signs): a cross-check that what scopegate accepts is what a conformant IdP sends.
 * The synchronous helpers above stay on node:crypto because they must also forge.
 */
export async function mintWithJose(key: TestKey, payload: Json, extraHeader: Json = {}): Promise<string> {
  const header = { alg: key.alg, typ: 'at+jwt', kid: key.kid, ...extraHeader };
  return new CompactSign(Buffer.from(JSON.stringify(payload))).setProtectedHeader(header).sign(key.privateKey);
}

/** Unsigned token: `header.payload.` (what `alg: none` looks like). */
export function unsignedToken(header: Json, payload: Json): string {
  return `${segment(header)}.${segment(payload)}.`;
}

/** Seconds since epoch. */
export function nowS(): number {
  return Math.floor(Date.now() / 1000);
}

/** A valid-looking claim set: iss/aud/sub/scope, iat now, exp in 5 minutes; `overrides` replace (undefined removes). */
export function claims(iss: string, aud: string | string[], overrides: Json = {}): Json {
  const now = nowS();
  const out: Json = { iss, aud, sub: 'user-1', client_id: 'client-1', scope: 'read write', iat: now, exp: now + 300, ...overrides };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out;
}

/** Same header and signature, another payload: must never verify (or hit a cache). */
export function swapPayload(token: string, payload: Json): string {
  const [h, , s] = token.split('.');
  return `${h}.${segment(payload)}.${s}`;
}

/** Replace the signature with all zero bytes of the right length (CVE-2022-21449 "psychic signatures"). */
export function zeroSignature(token: string): string {
  const [h, p, s] = token.split('.');
  const len = Buffer.from(s!, 'base64url').length;
  return `${h}.${p}.${b64url(Buffer.alloc(len))}`;
}

/** Change one character of the signature. */
export function tamperSignature(token: string): string {
  const i = token.lastIndexOf('.') + 2;
  const c = token[i] === 'A' ? 'B' : 'A';
  return token.slice(0, i) + c + token.slice(i + 1);
}


/** An AuthConfig for tests: one issuer per entry, short JWKS timings, overridable. */
export function testAuthConfig(
  issuers: ReadonlyArray<Partial<IssuerConfig> & { issuer: string; jwksUri: string }>,
  overrides: Partial<Omit<AuthConfig, 'issuers' | 'jwks'>> & { jwks?: Partial<AuthConfig['jwks']> } = {},
): AuthConfig {
  const { jwks, ...rest } = overrides;
  return {
    issuers: issuers.map((i) => ({
      audiences: ['https://api.example.com'],
      algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'] as Algorithm[],
      readiness: 'required' as const,
      clientIds: [],
      requireClaims: {},
      ...i,
    })),
    clockSkewS: 30,
    scopeClaims: ['scope', 'scp'],
    scopeMatching: 'exact',
    maxTokenBytes: 8192,
    tokenCacheSize: 1000,
    realm: 'scopegate',
    introspection: undefined,
    requireSenderConstrained: false,
    ...rest,
    jwks: { maxAgeS: 600, cooldownS: 10, timeoutMs: 2000, maxBytes: 64 * 1024, ...jwks },
  };
}
