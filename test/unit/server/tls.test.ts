/**
 * The certificate pair check (server/tls-pair.ts) and the reloader (server/tls.ts)
 * over a real node:https server: what SIGHUP and a file change do, min_version, and
 * the once-per-content error log.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connect, type Server as TlsServer } from 'node:tls';
import { createTlsCertificates, TlsStartError } from '../../../src/server/tls.js';
import { readTlsPair } from '../../../src/server/tls-pair.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { makeTestCa, replaceFile } from '../../helpers/tls.js';

function captureLogger(): { logger: ReturnType<typeof createLogger>; messages: () => string[] } {
  let buf = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      buf += chunk.toString();
      cb();
    },
  });
  const logger = createLogger({ destination: stream, level: 'info', access: false });
  return { logger, messages: () => buf.split('\n').filter((l) => l !== '').map((l) => String((JSON.parse(l) as { msg: unknown }).msg)) };
}

/** The serial the server presents to a new connection, or the handshake's error code. */
function handshake(port: number, ca: string, maxVersion?: 'TLSv1.2'): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca, ...(maxVersion === undefined ? {} : { maxVersion }) }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => resolve(`error:${e.code ?? e.message}`));
  });
}

const endOfTurn = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

t.test('the reloader swaps the context on SIGHUP, keeps a bad pair out, logs it once per content', async (t) => {
  const ca = makeTestCa();
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-tls-unit-'));
  t.teardown(() => {
    ca.remove();
    rmSync(dir, { recursive: true, force: true });
  });
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  const a = ca.issue('A1');
  writeFileSync(certFile, a.cert);
  writeFileSync(keyFile, a.key);
  const { logger, messages } = captureLogger();
  const certs = createTlsCertificates({ certFile, keyFile, minVersion: 'TLSv1.3' }, logger);
  const server = createServer(certs.options, (_req, res) => res.end('ok'));
  certs.attach(server as unknown as TlsServer);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;

  t.equal(await handshake(port, ca.pem), 'A1');
  t.match(await handshake(port, ca.pem, 'TLSv1.2'), /^error:/, 'min_version TLSv1.3 refuses a TLS 1.2 client');
  t.equal(certs.reload('SIGHUP'), 'unchanged', 'same files: nothing to do');

  const b = ca.issue('B2');
  replaceFile(keyFile, b.key);
  replaceFile(certFile, b.cert);
  t.equal(certs.reload('SIGHUP'), 'applied');
  t.equal(await handshake(port, ca.pem), 'B2', 'the next handshake gets the new pair');

  replaceFile(keyFile, ca.strayKey());
  t.equal(certs.reload('file change'), 'invalid');
  t.equal(certs.reload('file change'), 'invalid');
  await endOfTurn();
  const rejected = (): number => messages().filter((m) => m.startsWith('tls certificate reload rejected')).length;
  t.equal(rejected(), 1, 'one log line for one broken content');
  t.equal(certs.reload('SIGHUP'), 'invalid');
  await endOfTurn();
  t.equal(rejected(), 2, 'an explicit SIGHUP always gets its answer');
  t.equal(await handshake(port, ca.pem), 'B2', 'the last good pair is still served');
  t.ok(messages().includes('tls certificate reloaded'));
  certs.close();
});

t.test('readTlsPair names the file at fault', async (t) => {
  const ca = makeTestCa();
  t.teardown(() => ca.remove());
  const a = ca.issue('0A');
  const file = (name: string, content: string): string => {
    const p = join(ca.dir, name);
    writeFileSync(p, content);
    return p;
  };
  const cert = file('c.pem', a.cert);
  const key = file('k.pem', a.key);
  const ok = readTlsPair(cert, key);
  t.ok(ok.ok);
  if (ok.ok) t.equal(ok.serial, '0A');
  t.match(readTlsPair(join(ca.dir, 'none.pem'), key), { ok: false, option: 'cert_file', message: `${join(ca.dir, 'none.pem')}: file not found` });
  t.match(readTlsPair(key, key), { ok: false, option: 'cert_file', message: `${key}: not a PEM certificate` });
  t.match(readTlsPair(cert, cert), { ok: false, option: 'key_file', message: `${cert}: not a PEM private key` });
  const encrypted = join(ca.dir, 'enc.pem');
  execFileSync('openssl', ['pkey', '-in', key, '-out', encrypted, '-aes256', '-passout', 'pass:secret'], { stdio: 'ignore' });
  t.match(readTlsPair(cert, encrypted), { ok: false, option: 'key_file', message: /the private key is encrypted/ });
  t.match(readTlsPair(cert, file('s.pem', ca.strayKey())), { ok: false, option: 'key_file', message: /does not match the certificate in/ });
  t.throws(() => createTlsCertificates({ certFile: cert, keyFile: encrypted, minVersion: 'TLSv1.2' }, captureLogger().logger), TlsStartError);
});
