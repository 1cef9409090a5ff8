/**
 * The TLS listener of the real process (README, TLS): requests over TLS with a test
 * CA, a certificate rotated on disk served to the next connection without a restart
 * (open connections kept), a bad pair on reload kept out and logged once, and an
 * unreadable or mismatched pair refused at start and by `check`, naming the file.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { testConfigYaml } from '../helpers/config.js';
import { startJwksServer } from '../helpers/jwks-server.js';
import { generateKey, jwkOf } from '../helpers/keys.js';
import { CLI, startSidecar, type Sidecar } from '../helpers/sidecar.js';
import { makeTestCa, replaceFile } from '../helpers/tls.js';
import { claims, signToken } from '../helpers/tokens.js';
import { startUpstream } from '../helpers/upstream.js';

const ISSUER = 'https://idp.tls.test/';
const AUD = 'https://api.example.com';

interface TlsReply {
  readonly status: number;
  readonly body: string;
  /** The serial number of the certificate the server presented (hex, as node prints it). */
  readonly serial: string;
  readonly socket: TLSSocket;
}

function get(url: string, ca: string, headers: Record<string, string>, agent: Agent | false = false): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/orgs`, { ca, headers, agent }, (res) => {
      const socket = res.socket as TLSSocket;
      const serial = socket.getPeerCertificate().serialNumber;
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serial, socket }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('TLS listener', async (t) => {
  const ca = makeTestCa();
  const key = generateKey('p256');
  const jwks = await startJwksServer({ keys: [jwkOf(key)] });
  const upstream = await startUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-tls-mount-'));
  t.teardown(async () => {
    await upstream.close();
    await jwks.close();
    ca.remove();
    rmSync(dir, { recursive: true, force: true });
  });
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  const yaml = (): string =>
    testConfigYaml({ issuer: ISSUER, jwksUri: jwks.jwksUri, upstream: upstream.url, routes: ['GET /orgs: org:read'], extra: `tls:\n  cert_file: ${certFile}\n  key_file: ${keyFile}\n` });
  const auth = { authorization: `Bearer ${await signToken(key, claims(ISSUER, AUD, { scope: 'org:read' }))}` };

  const first = ca.issue('A1');
  writeFileSync(certFile, first.cert);
  writeFileSync(keyFile, first.key);
  const sidecar: Sidecar = await startSidecar(yaml());
  t.teardown(() => sidecar.stop());
  await sidecar.waitForLog('signing keys loaded');

  t.test('a request over TLS, trusted through the test CA, reaches the upstream', async (t) => {
    t.match(sidecar.url, /^https:\/\/127\.0\.0\.1:\d+$/, 'the started line names an https URL');
    const before = upstream.requests.length;
    const reply = await get(sidecar.url, ca.pem, auth);
    t.equal(reply.status, 200);
    t.equal(reply.serial, 'A1', 'the configured certificate is served');
    t.equal(reply.socket.getProtocol(), 'TLSv1.3');
    t.equal(upstream.requests.length, before + 1);
    t.equal(upstream.requests.at(-1)?.headers['x-forwarded-proto'], 'https', 'the upstream is told the client used https');
    const denied = await get(sidecar.url, ca.pem, {});
    t.equal(denied.status, 401, 'denials are answered over TLS too');
    t.equal(upstream.requests.length, before + 1, 'the denied request never reached the upstream');
    await t.rejects(get(sidecar.url, first.cert, auth), 'a client that does not trust the CA refuses the handshake');
  });

  t.test('a certificate rotated on disk is served to the next connection; open connections stay', async (t) => {
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    t.teardown(() => keepAlive.destroy());
    const open = await get(sidecar.url, ca.pem, auth, keepAlive);
    t.equal(open.serial, 'A1');
    const next = ca.issue('B2');
    // Key first, then certificate: a reader between the two sees a mismatch and keeps A1.
    replaceFile(keyFile, next.key);
    replaceFile(certFile, next.cert);
    const reloaded = await sidecar.waitForLog('tls certificate reloaded', 5000);
    t.equal(reloaded['serial'], 'B2');
    t.equal(reloaded['trigger'], 'file change');
    const fresh = await get(sidecar.url, ca.pem, auth);
    t.equal(fresh.serial, 'B2', 'a new connection gets the rotated certificate, without a restart');
    t.not(fresh.socket.getPeerCertificate().fingerprint256, open.socket.getPeerCertificate().fingerprint256);
    const reused = await get(sidecar.url, ca.pem, auth, keepAlive);
    t.equal(reused.socket, open.socket, 'the connection opened before the rotation is still open');
    t.equal(reused.status, 200);
    t.equal(sidecar.proc.exitCode, null, 'no restart');
  });

  t.test('a bad pair on disk keeps the last good certificate and is logged once; SIGHUP reloads', async (t) => {
    const rejectedMsg = 'tls certificate reload rejected; still serving the last good certificate';
    const before = sidecar.logs(rejectedMsg).length;
    const stray = ca.strayKey();
    replaceFile(keyFile, stray);
    const rejected = await sidecar.waitForLogs(rejectedMsg, before + 1, 5000);
    t.match(String(rejected.at(-1)?.['error']), `${keyFile}: the private key does not match the certificate in ${certFile}`);
    replaceFile(keyFile, stray); // the same broken content again: not logged again
    await new Promise((r) => setTimeout(r, 800));
    t.equal(sidecar.logs(rejectedMsg).length, before + 1, 'logged once for one content');
    t.equal((await get(sidecar.url, ca.pem, auth)).serial, 'B2', 'the last good certificate is still served');

    // Fixed by hand, then SIGHUP: the watcher or the signal, whichever comes first, serves it.
    const third = ca.issue('C3');
    replaceFile(keyFile, third.key);
    replaceFile(certFile, third.cert);
    sidecar.proc.kill('SIGHUP');
    await sidecar.waitForLogs('tls certificate reloaded', 2, 5000);
    t.equal((await get(sidecar.url, ca.pem, auth)).serial, 'C3');
  });

  t.test('an unreadable or mismatched pair is a config error naming the file', async (t) => {
    const mismatched = join(dir, 'mismatched.yaml');
    const stray = join(dir, 'stray.key');
    writeFileSync(stray, ca.strayKey());
    writeFileSync(mismatched, yaml().replace(`key_file: ${keyFile}`, `key_file: ${stray}`));
    const check = spawnSync(process.execPath, [CLI, 'check', '--config', mismatched], { encoding: 'utf8' });
    t.equal(check.status, 1, 'check fails');
    t.match(check.stderr, new RegExp(`mismatched\\.yaml:\\d+:\\d+: tls\\.key_file: ${stray}: the private key does not match the certificate in ${certFile}`));
    const serve = spawnSync(process.execPath, [CLI, 'serve', '--config', mismatched], { encoding: 'utf8', timeout: 10_000 });
    t.equal(serve.status, 1, 'serve refuses to start');
    t.match(serve.stderr, `tls.key_file: ${stray}: the private key does not match`);

    const missing = join(dir, 'missing.yaml');
    writeFileSync(missing, yaml().replace(`cert_file: ${certFile}`, `cert_file: ${join(dir, 'nope.crt')}`));
    const checkMissing = spawnSync(process.execPath, [CLI, 'check', '--config', missing], { encoding: 'utf8' });
    t.equal(checkMissing.status, 1);
    t.match(checkMissing.stderr, `tls.cert_file: ${join(dir, 'nope.crt')}: file not found`);
  });
});
