/**
 * Real self-signed client certificates, made by openssl at test time (never committed),
 * for certificate-bound tokens (RFC 8705).
 */
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  readonly pem: string;
  /** base64url SHA-256 of the DER: a token's cnf.x5t#S256. */
  readonly x5t: string;
  /** The same digest in hex: an XFCC `Hash=`. */
  readonly hex: string;
}

export function makeCertificate(cn: string): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-mtls-'));
  try {
    const out = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-subj', `/CN=${cn}/O=Example, Inc.`, '-days', '1', '-out', out], { stdio: 'ignore' });
    const pem = readFileSync(out, 'utf8');
    // The expected thumbprint comes from node's own X.509 parser, not from the code under test.
    const digest = createHash('sha256').update(new X509Certificate(pem).raw).digest();
    return { pem, x5t: digest.toString('base64url'), hex: digest.toString('hex') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** nginx's $ssl_client_escaped_cert escapes far less than encodeURIComponent: newlines and spaces, not + / =. */
export const nginxEscape = (pem: string): string => pem.replace(/\n/g, '%0A').replace(/ /g, '%20');
