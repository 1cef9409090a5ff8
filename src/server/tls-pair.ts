/**
 * A TLS certificate and its private key, read from their files and checked as a
 * pair (README, TLS). Used twice: by the config loader, so an unreadable or
 * mismatched pair is a config error naming the file (at start, in `check`, on a
 * config reload), and by the listener's certificate reloader (tls.ts), so a pair
 * rotated on disk is checked before it is served.
 *
 * The pair is checked with node's own X.509 and key parsers rather than by asking
 * createSecureContext() and reading its OpenSSL error: that tells which file is at
 * fault without matching on messages.
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export type TlsFileKey = 'cert_file' | 'key_file';

/** A pair that can be served, with what the logs say about its certificate. */
export interface TlsPair {
  readonly ok: true;
  /** PEM: the certificate (and any intermediates after it). */
  readonly cert: Buffer;
  /** PEM: the unencrypted private key. */
  readonly key: Buffer;
  /** sha256 of both files' bytes: a reload with the same content changes nothing. */
  readonly contentHash: string;
  /** The leaf certificate's serial number (hex) and SHA-256 fingerprint, as `openssl x509 -serial -fingerprint` prints them. */
  readonly serial: string;
  readonly fingerprint256: string;
  /** The leaf certificate's notAfter, ISO 8601. */
  readonly validTo: string;
}

/** Why a pair cannot be served; `message` names the file. */
export interface TlsPairProblem {
  readonly ok: false;
  /** The option whose file is at fault (a mismatch is the key's: the certificate is what clients check). */
  readonly option: TlsFileKey;
  readonly message: string;
  /** sha256 of what was read (or of the read error): the same broken content is reported once. */
  readonly contentHash: string;
}

function readBytes(file: string): Buffer | string {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    return code === 'ENOENT' ? `${file}: file not found` : code === 'EISDIR' ? `${file}: is a directory` : `${file}: cannot read file (${code})`;
  }
}

function hashOf(...parts: (Buffer | string)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? `error:${p}` : p).update('\0');
  return h.digest('hex');
}

/** Node's codes for a PEM key that needs a passphrase: its own, or OpenSSL 3's when the passphrase prompt is cancelled. */
const ENCRYPTED_KEY_CODES: ReadonlySet<unknown> = new Set(['ERR_MISSING_PASSPHRASE', 'ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED']);

function privateKeyOf(key: Buffer, keyFile: string): KeyObject | string {
  try {
    return createPrivateKey(key);
  } catch (error) {
    // Mapped by code: OpenSSL's messages change between versions.
    const code = (error as { code?: unknown }).code;
    if (ENCRYPTED_KEY_CODES.has(code)) return `${keyFile}: the private key is encrypted; scopegate needs it unencrypted (as a kubernetes.io/tls Secret holds it)`;
    return `${keyFile}: not a PEM private key`;
  }
}

/** Read and check `certFile` and `keyFile` as a pair. Never throws. */
export function readTlsPair(certFile: string, keyFile: string): TlsPair | TlsPairProblem {
  const cert = readBytes(certFile);
  const key = readBytes(keyFile);
  const contentHash = hashOf(cert, key);
  const problem = (option: TlsFileKey, message: string): TlsPairProblem => ({ ok: false, option, message, contentHash });
  if (typeof cert === 'string') return problem('cert_file', cert);
  if (typeof key === 'string') return problem('key_file', key);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    return problem('cert_file', `${certFile}: not a PEM certificate`);
  }
  const privateKey = privateKeyOf(key, keyFile);
  if (typeof privateKey === 'string') return problem('key_file', privateKey);
  if (!x509.checkPrivateKey(privateKey)) return problem('key_file', `${keyFile}: the private key does not match the certificate in ${certFile}`);
  const validTo = new Date(x509.validTo).toISOString();
  return { ok: true, cert, key, contentHash, serial: x509.serialNumber, fingerprint256: x509.fingerprint256, validTo };
}
