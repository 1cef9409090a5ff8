/**
 * The public members of a JWK that carries an `x5c` certificate chain (RFC 7517 §4.7):
 * taken from the leaf certificate (jose `importX509`) when the JWK publishes only the
 * certificate, checked against it when it publishes both.
 *
 * Only the leaf's public key is used: the chain is not validated and the certificate's
 * dates, names and usages are not looked at. The JWKS endpoint, fetched from configuration
 * over the configured URL, is the trust anchor, exactly as for a key given by its members.
 * A JWK whose members and leaf certificate name different keys is refused: two libraries
 * reading the same set could otherwise verify with different keys.
 */
import { exportJWK, importX509, type JWK } from 'jose';
import type { Refusal } from './key-safety.js';

/** The public members of each key type (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2). */
const MEMBERS: Readonly<Record<string, readonly string[]>> = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'] };
/** The JWS algorithm jose needs to import a leaf key of each type; the key itself is the same for every alg. */
const IMPORT_ALG: Readonly<Record<string, readonly string[]>> = {
  RSA: ['RS256'],
  EC: ['ES256', 'ES384', 'ES512'],
  OKP: ['EdDSA'],
};
const EC_ALG_OF_CRV: Readonly<Record<string, string>> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };
/** RFC 7517 §4.7: each x5c entry is base64 (not base64url) DER. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The JWK with its public members, or why it is refused. */
export type WithMembers = { readonly ok: true; readonly jwk: Readonly<Record<string, unknown>> } | ({ readonly ok: false } & Refusal);

function malformed(reason: string): { readonly ok: false } & Refusal {
  return { ok: false, refusal: 'malformed', reason };
}

function certificatePem(der: string): string {
  return `-----BEGIN CERTIFICATE-----\n${der.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

/** The leaf certificate's public key as a public JWK, or why it cannot be read. */
async function leafJwk(jwk: Readonly<Record<string, unknown>>, kty: string): Promise<{ readonly ok: true; readonly jwk: JWK } | ({ readonly ok: false } & Refusal)> {
  const x5c = jwk.x5c;
  if (!Array.isArray(x5c) || x5c.length === 0 || typeof x5c[0] !== 'string' || !BASE64.test(x5c[0])) {
    return malformed('x5c is not a non-empty array of base64 certificates');
  }
  const pem = certificatePem(x5c[0]);
  // An EC JWK names its curve (and so the alg jose needs); without crv, try each curve's alg.
  const given = kty === 'EC' && typeof jwk.crv === 'string' ? EC_ALG_OF_CRV[jwk.crv] : undefined;
  let lastError: unknown;
  for (const alg of given !== undefined ? [given] : IMPORT_ALG[kty]!) {
    try {
      return { ok: true, jwk: await exportJWK(await importX509(pem, alg, { extractable: true })) };
    } catch (err) {
      lastError = err;
    }
  }
  return malformed(`x5c leaf certificate holds no ${kty} key jose can import: ${(lastError as Error).message}`);
}

/** An unsigned big-endian integer member (`n`, `e`) without its leading zero bytes. */
function magnitude(value: unknown): string {
  return typeof value === 'string' ? Buffer.from(value, 'base64url').toString('hex').replace(/^(00)+/, '') : '';
}

function sameMember(name: string, a: unknown, b: unknown): boolean {
  return name === 'n' || name === 'e' ? magnitude(a) === magnitude(b) : a === b;
}

/**
 * The JWK with its public members: unchanged without `x5c` (or for a key type scopegate
 * does not import), completed from the leaf certificate when it has none of them, or a
 * refusal when the certificate cannot be read or holds another key.
 */
export async function withLeafMembers(jwk: Readonly<Record<string, unknown>>): Promise<WithMembers> {
  const kty = typeof jwk.kty === 'string' ? jwk.kty : '';
  const names = MEMBERS[kty];
  if (jwk.x5c === undefined || names === undefined) return { ok: true, jwk };
  const leaf = await leafJwk(jwk, kty);
  if (!leaf.ok) return leaf;
  // jose imported the leaf for an algorithm of `kty`, so the leaf key is of that type.
  return checkedAgainstLeaf(jwk, names, leaf.jwk as Readonly<Record<string, unknown>>);
}

function checkedAgainstLeaf(jwk: Readonly<Record<string, unknown>>, names: readonly string[], leafMembers: Readonly<Record<string, unknown>>): WithMembers {
  const published = names.filter((name) => name !== 'crv' && jwk[name] !== undefined);
  if (published.length === 0) {
    const completed: Record<string, unknown> = { ...jwk };
    for (const name of names) completed[name] = leafMembers[name];
    return { ok: true, jwk: completed };
  }
  for (const name of names) {
    if (jwk[name] !== undefined && !sameMember(name, jwk[name], leafMembers[name])) {
      return malformed('x5c leaf certificate holds another key than the JWK members');
    }
  }
  return { ok: true, jwk };
}
