/**
 * A throwaway test CA and server certificates it signs, made by the openssl CLI at
 * test time in a temporary directory (never committed), for the TLS listener.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  readonly dir: string;
  /** PEM of the CA certificate: what a client trusts. */
  readonly pem: string;
  /** Signs a server certificate for 127.0.0.1 and localhost with this serial (hex), returns its PEM files. */
  issue(serialHex: string): { readonly cert: string; readonly key: string };
  /** A key that belongs to no certificate the CA issued. */
  strayKey(): string;
  remove(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-tls-'));
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.crt');
  openssl(['req', '-x509', ...EC, '-keyout', caKey, '-out', caCert, '-subj', '/CN=scopegate test CA', '-days', '1']);
  const ext = join(dir, 'san.cnf');
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  let n = 0;
  return {
    dir,
    pem: readFileSync(caCert, 'utf8'),
    issue(serialHex) {
      const base = join(dir, `server-${++n}`);
      openssl(['req', ...EC, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', '/CN=127.0.0.1']);
      openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', caCert, '-CAkey', caKey, '-set_serial', `0x${serialHex}`, '-days', '1', '-extfile', ext, '-out', `${base}.crt`]);
      return { cert: readFileSync(`${base}.crt`, 'utf8'), key: readFileSync(`${base}.key`, 'utf8') };
    },
    strayKey() {
      const base = join(dir, `stray-${++n}`);
      openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${base}.key`]);
      return readFileSync(`${base}.key`, 'utf8');
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Replace a file atomically (write beside it, rename over it), as a Secret update or cert-manager does. */
export function replaceFile(file: string, content: string): void {
  writeFileSync(`${file}.tmp`, content);
  renameSync(`${file}.tmp`, file);
}
