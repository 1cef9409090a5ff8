/**
 * Certificate-bound access tokens (RFC 8705 §3) behind a TLS-terminating proxy: the
 * token's `cnf.x5t#S256` against the client certificate the proxy passes in a header.
 * Pure: header values in, a result out.
 *
 * Formats:
 * - `xfcc`: Envoy's and Istio's `x-forwarded-client-cert`. Elements are separated by
 *   `,`, each proxy appending its own, so the LAST element is the one the nearest
 *   proxy set; an element is `;`-separated `key=value` pairs, keys case-insensitive,
 *   a value double-quoted when it holds `,`, `;` or `=` (with `\"` inside), e.g.
 *   Istio's `By=spiffe://…;Hash=<hex>;Subject="CN=a,O=b";URI=spiffe://…`. `Hash=` is
 *   the hex SHA-256 of the certificate's DER; without it, `Cert=` (URL-encoded PEM)
 *   is hashed.
 * - `pem`: one URL-encoded PEM certificate (nginx `$ssl_client_escaped_cert`).
 */
import { createHash } from 'node:crypto';
import { SENDER_DESCRIPTIONS, type SenderConstraintCode } from './sender-constraint.js';

export type CertHeaderFormat = 'xfcc' | 'pem';

type CertCode = Extract<SenderConstraintCode, 'ERR_AUTH_SENDER_CERT_MISSING' | 'ERR_AUTH_SENDER_CERT_MALFORMED' | 'ERR_AUTH_SENDER_CERT_MISMATCH'>;
export interface CertFailure {
  readonly ok: false;
  readonly code: CertCode;
  /** Safe to send as error_description. */
  readonly description: string;
}
export type CertResult = { readonly ok: true } | CertFailure;

function failure(code: CertCode): CertFailure {
  return Object.freeze({ ok: false, code, description: SENDER_DESCRIPTIONS[code] });
}
const MISSING = failure('ERR_AUTH_SENDER_CERT_MISSING');
const MALFORMED = failure('ERR_AUTH_SENDER_CERT_MALFORMED');
const MISMATCH = failure('ERR_AUTH_SENDER_CERT_MISMATCH');
const OK: CertResult = Object.freeze({ ok: true });

const SHA256_HEX = /^[0-9A-Fa-f]{64}$/;
const PEM_CERT = /^-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Split `s` at each `sep` outside double quotes (a backslash escapes the next
 * character inside quotes). Undefined when a quote is left open.
 */
export function splitUnquoted(s: string, sep: string): string[] | undefined {
  const out: string[] = [];
  let inQuotes = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inQuotes) {
      if (c === '\\') i++;
      else if (c === '"') inQuotes = false;
    } else if (c === '"') {
      inQuotes = true;
    } else if (c === sep) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (inQuotes) return undefined;
  out.push(s.slice(start));
  return out;
}

/** A value without its quotes and escapes; undefined when quoted badly (`"a"b`). */
function unquote(v: string): string | undefined {
  if (!v.startsWith('"')) return v.includes('"') ? undefined : v;
  if (v.length < 2 || !v.endsWith('"')) return undefined;
  let out = '';
  for (let i = 1; i < v.length - 1; i++) {
    if (v[i] === '\\') i++;
    else if (v[i] === '"') return undefined;
    out += v[i] ?? '';
  }
  return out;
}

/**
 * The pairs of the last XFCC element, keys lower-cased; undefined when the header
 * cannot be parsed. A key given twice in one element is ambiguous, so unparseable.
 */
export function lastXfccElement(header: string): Map<string, string> | undefined {
  const elements = splitUnquoted(header, ',');
  if (elements === undefined) return undefined;
  const pairs = splitUnquoted(elements[elements.length - 1]!.trim(), ';');
  if (pairs === undefined) return undefined;
  const out = new Map<string, string>();
  for (const pair of pairs) {
    const p = pair.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq <= 0) return undefined;
    const key = p.slice(0, eq).trim().toLowerCase();
    const value = unquote(p.slice(eq + 1).trim());
    if (value === undefined || out.has(key)) return undefined;
    out.set(key, value);
  }
  return out;
}

/** The DER of a URL-encoded PEM holding exactly one certificate, or undefined. */
export function derOfEscapedPem(escaped: string): Buffer | undefined {
  let pem: string;
  try {
    // Not decodeURI's form rules: `+` is a base64 character here, never a space.
    pem = decodeURIComponent(escaped).trim();
  } catch {
    return undefined;
  }
  const m = PEM_CERT.exec(pem);
  if (m === null) return undefined;
  const b64 = m[1]!.replace(/\s+/g, '');
  if (b64.length % 4 !== 0 || !BASE64.test(b64)) return undefined;
  const der = Buffer.from(b64, 'base64');
  // A DER certificate is a SEQUENCE (X.690 §8.9, tag 0x30).
  return der.length > 0 && der[0] === 0x30 ? der : undefined;
}

function sha256(der: Buffer): Buffer {
  return createHash('sha256').update(der).digest();
}

/**
 * SHA-256 of the client certificate's DER carried by the header lines `values`, or
 * why there is none. Several `xfcc` lines are one list (RFC 9110 §5.3); several
 * `pem` lines are ambiguous and refused.
 */
export function clientCertificateHash(values: readonly string[], format: CertHeaderFormat): Buffer | CertFailure {
  if (values.length === 0) return MISSING;
  if (format === 'pem') {
    if (values.length > 1) return MALFORMED;
    if (values[0]!.trim() === '') return MISSING;
    const der = derOfEscapedPem(values[0]!);
    return der === undefined ? MALFORMED : sha256(der);
  }
  const header = values.join(',');
  if (header.trim() === '') return MISSING;
  const element = lastXfccElement(header);
  if (element === undefined) return MALFORMED;
  const hash = element.get('hash');
  if (hash !== undefined) return SHA256_HEX.test(hash) ? Buffer.from(hash, 'hex') : MALFORMED;
  const cert = element.get('cert');
  if (cert === undefined || cert === '') return MISSING;
  const der = derOfEscapedPem(cert);
  return der === undefined ? MALFORMED : sha256(der);
}

/**
 * Does the certificate in the header have the token's `cnf.x5t#S256`? Both are
 * decoded to bytes before the compare (hex against base64url).
 */
export function checkCertificateBinding(values: readonly string[], format: CertHeaderFormat, x5tS256: string): CertResult {
  const hash = clientCertificateHash(values, format);
  if (!Buffer.isBuffer(hash)) return hash;
  const bound = Buffer.from(x5tS256, 'base64url');
  return bound.length === hash.length && bound.equals(hash) ? OK : MISMATCH;
}
