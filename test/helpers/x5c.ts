/**
 * Self-signed certificates for test keys, made by openssl at test time (never committed):
 * a JWK published as an `x5c` chain (RFC 7517 §4.7) whose leaf holds the key's public key.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestKey } from './keys.js';

/** The x5c entry (base64 DER, not base64url) of a self-signed certificate for `key`. */
export function x5cOf(key: TestKey): string {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-x5c-'));
  try {
    const keyFile = join(dir, 'key.pem');
    const out = join(dir, 'cert.pem');
    writeFileSync(keyFile, key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    execFileSync('openssl', ['req', '-x509', '-new', '-key', keyFile, '-subj', `/CN=${key.kid}`, '-days', '1', '-out', out], { stdio: 'ignore' });
    return new X509Certificate(readFileSync(out)).raw.toString('base64');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
