/**
 * DPoP proofs minted by jose with keys generated at test time (never committed),
 * plus the forgeries a verifier must refuse (alg none, HS256, a private jwk, a
 * signature by another key).
 */
import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { KeyObject } from 'node:crypto';
import { b64url, nowS, segment, signRaw, type Json } from './tokens.js';

export type ProofAlg = 'ES256' | 'EdDSA' | 'RS256';
export const PROOF_ALGS: readonly ProofAlg[] = ['ES256', 'EdDSA', 'RS256'];

export interface ProofKey {
  readonly alg: ProofAlg;
  readonly privateKey: CryptoKey;
  /** The public JWK that goes in the proof header. */
  readonly jwk: JWK;
  /** The private JWK (carries `d`): what a careless client might embed. */
  readonly privateJwk: JWK;
  /** RFC 7638 SHA-256 thumbprint: the token's cnf.jkt. */
  readonly jkt: string;
}

export async function proofKey(alg: ProofAlg): Promise<ProofKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { alg, privateKey, jwk, privateJwk: await exportJWK(privateKey), jkt: await calculateJwkThumbprint(jwk) };
}

export interface ProofClaims {
  readonly htm: string;
  readonly htu: string;
  /** The access token the proof is for (ath is computed), unless `ath` is given. */
  readonly token?: string;
  readonly [claim: string]: unknown;
}

/** base64url(SHA-256(token)) computed independently of the code under test. */
async function athOf(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  return b64url(Buffer.from(digest));
}

/** The payload: jti (fresh UUID) and iat (now) by default, ath from `token`; a claim set to undefined is left out. */
async function proofPayload(claims: ProofClaims): Promise<Json> {
  const { token, ...rest } = claims;
  const payload: Json = { jti: randomUUID(), iat: nowS(), ...rest };
  if (token !== undefined && !('ath' in claims)) payload.ath = await athOf(token);
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return payload;
}

/**
 * A proof signed by `key` (or `signer`, for a foreign signature). `header` entries
 * replace the defaults {alg, typ: 'dpop+jwt', jwk}; undefined removes one.
 */
export async function mintProof(key: ProofKey, claims: ProofClaims, header: Json = {}, signer: ProofKey = key): Promise<string> {
  const h: Json = { alg: key.alg, typ: 'dpop+jwt', jwk: key.jwk, ...header };
  for (const [k, v] of Object.entries(h)) if (v === undefined) delete h[k];
  // jose's header type is narrower than what tests forge (typ removed, odd alg); the JSON is what matters.
  return new SignJWT(await proofPayload(claims)).setProtectedHeader(h as { alg: string }).sign(signer.privateKey);
}

/** An HS256 "proof" MACed with `secret`, carrying `key`'s public jwk. */
export async function hmacProof(key: ProofKey, claims: ProofClaims, secret: Uint8Array): Promise<string> {
  return new SignJWT(await proofPayload(claims)).setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: key.jwk }).sign(secret);
}

/** An unsigned `alg: none` proof. */
export async function unsignedProof(key: ProofKey, claims: ProofClaims): Promise<string> {
  return `${segment({ alg: 'none', typ: 'dpop+jwt', jwk: key.jwk })}.${segment(await proofPayload(claims))}.`;
}

/** A proof signed with node:crypto directly, for keys jose will not sign with (RSA under 2048 bits). */
export async function forgedProof(header: Json, claims: ProofClaims, privateKey: KeyObject): Promise<string> {
  return signRaw({ typ: 'dpop+jwt', ...header }, await proofPayload(claims), privateKey);
}
