/**
 * Hot reload of the real process: a valid change applies under load without a
 * dropped request, an invalid one is rejected with file:line:col while the last
 * good config keeps serving, and a Kubernetes-style symlink swap is detected.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startJwksServer } from '../helpers/jwks-server.js';
import { generateKey, jwkOf } from '../helpers/keys.js';
import { claims, signToken } from '../helpers/tokens.js';
import { testConfigYaml } from '../helpers/config.js';
import { startSidecar, type Sidecar } from '../helpers/sidecar.js';
import { startUpstream } from '../helpers/upstream.js';
import { send } from '../helpers/http.js';

const ISSUER = 'https://idp.reload.test/';
const AUD = 'https://api.example.com';

t.test('hot reload', async (t) => {
  const key = generateKey('p256');
  const jwks = await startJwksServer({ keys: [jwkOf(key)] });
  const upstream = await startUpstream();
  t.teardown(async () => {
    await upstream.close();
    await jwks.close();
  });
  const yaml = (routes: string[]) => testConfigYaml({ issuer: ISSUER, jwksUri: jwks.jwksUri, upstream: upstream.url, routes });
  const token = (scope: string) => signToken(key, claims(ISSUER, AUD, { scope }));
  const both = token('org:read admin');
  const readerOnly = token('org:read');
  const get = (s: Sidecar, path: string, tok?: string) => send(s.url, path, { headers: tok === undefined ? {} : { authorization: `Bearer ${tok}` } });
  const metric = async (s: Sidecar, pattern: RegExp) => pattern.exec((await send(s.adminUrl, '/metrics')).body)?.[1];

  t.test('a valid change applies under load without dropping a request', async (t) => {
    const sidecar = await startSidecar(yaml(['GET /orgs: org:read']));
    t.teardown(() => sidecar.stop());
    await sidecar.waitForLog('signing keys loaded');
    const hashBefore = await metric(sidecar, /scopegate_config_info\{hash="([0-9a-f]+)"\} 1/);
    t.equal((await get(sidecar, '/orgs', readerOnly)).status, 200);

    const statuses = new Map<number | string, number>();
    let stop = false;
    const CLIENTS = 8;
    const loop = async () => {
      while (!stop) {
        const status = await get(sidecar, '/orgs', both).then((r) => r.status, (e: Error) => e.message);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    };
    const clients = Array.from({ length: CLIENTS }, loop);
    await new Promise((r) => setTimeout(r, 400));
    writeFileSync(sidecar.configFile, yaml(['GET /orgs: admin', 'GET /new: { auth: none }']));
    const reloaded = await sidecar.waitForLog('config reloaded', 5000);
    await new Promise((r) => setTimeout(r, 400));
    stop = true;
    await Promise.all(clients);

    t.same([...statuses.keys()], [200], `every request under load answered 200 (${[...statuses.values()].join()} requests)`);
    t.ok((statuses.get(200) ?? 0) > 20, 'the load really ran');
    t.equal(reloaded['trigger'], 'file change');
    t.equal((await get(sidecar, '/orgs', readerOnly)).status, 403, 'the new requirement is enforced');
    t.equal((await get(sidecar, '/new')).status, 200, 'the new route is served');
    t.equal(await metric(sidecar, /scopegate_config_reloads_total\{result="success"\} (\d+)/), '1');
    const hashAfter = await metric(sidecar, /scopegate_config_info\{hash="([0-9a-f]+)"\} 1/);
    t.not(hashAfter, hashBefore, 'config_info follows the active config');
    t.equal(jwks.requests, 1, 'the unchanged issuer kept its keys: no JWKS refetch');
  });

  t.test('an invalid change is rejected with positions and the last good config keeps serving', async (t) => {
    const sidecar = await startSidecar(yaml(['GET /orgs: org:read']));
    t.teardown(() => sidecar.stop());
    await sidecar.waitForLog('signing keys loaded');
    const broken = yaml(['GET /orgs: org:read', 'FETCH /x: a']).replace('auth:\n', 'auth:\n  colour: blue\n');
    writeFileSync(sidecar.configFile, broken);
    const rejected = await sidecar.waitForLog('config reload rejected; still serving the last good config', 5000);
    const errors = rejected['errors'] as string[];
    t.equal(errors.length, 2, 'both errors reported');
    t.match(errors.join('\n'), /scopegate\.yaml:\d+:\d+: auth\.colour: unknown key/);
    t.match(errors.join('\n'), /scopegate\.yaml:\d+:\d+: routes\."FETCH \/x": unknown method FETCH/);
    t.equal((await get(sidecar, '/orgs', readerOnly)).status, 200, 'still serving the old config');
    t.equal(await metric(sidecar, /scopegate_config_reloads_total\{result="failure"\} (\d+)/), '1');
    t.equal((await send(sidecar.adminUrl, '/readyz')).status, 200, 'still ready');

    // SIGHUP re-reads the file: fixed now, it applies.
    writeFileSync(sidecar.configFile, yaml(['GET /orgs: admin']));
    sidecar.proc.kill('SIGHUP');
    await sidecar.waitForLog('config reloaded', 5000);
    t.equal((await get(sidecar, '/orgs', readerOnly)).status, 403);
  });

  t.test('a Kubernetes ConfigMap symlink swap is detected', async (t) => {
    // The layout kubelet writes: scopegate.yaml → ..data/scopegate.yaml, ..data → ..<timestamp>/
    const mount = mkdtempSync(join(tmpdir(), 'scopegate-cm-'));
    t.teardown(() => rmSync(mount, { recursive: true, force: true }));
    const version = (name: string, routes: string[]) => {
      mkdirSync(join(mount, name));
      writeFileSync(join(mount, name, 'scopegate.yaml'), yaml(routes));
    };
    version('..2026_11_24_01', ['GET /orgs: org:read']);
    symlinkSync('..2026_11_24_01', join(mount, '..data'));
    symlinkSync('..data/scopegate.yaml', join(mount, 'scopegate.yaml'));
    const sidecar = await startSidecar('', { configPath: join(mount, 'scopegate.yaml') });
    t.teardown(() => sidecar.stop());
    await sidecar.waitForLog('signing keys loaded');
    t.equal((await get(sidecar, '/orgs', readerOnly)).status, 200);

    version('..2026_11_24_02', ['GET /orgs: admin']);
    symlinkSync('..2026_11_24_02', join(mount, '..data_tmp'));
    renameSync(join(mount, '..data_tmp'), join(mount, '..data')); // atomic swap, as kubelet does
    rmSync(join(mount, '..2026_11_24_01'), { recursive: true });
    await sidecar.waitForLog('config reloaded', 5000);
    t.equal((await get(sidecar, '/orgs', readerOnly)).status, 403, 'the swapped-in config is active');
  });
});
