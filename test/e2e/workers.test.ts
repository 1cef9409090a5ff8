/**
 * `workers: 2` through the real CLI: two worker processes answer on one port,
 * the primary's /metrics counts every worker's requests, SIGHUP reaches every
 * worker, a killed worker is replaced and counted, and SIGTERM drains all and
 * exits 0.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testConfigYaml } from '../helpers/config.js';
import { send } from '../helpers/http.js';
import { CLI } from '../helpers/sidecar.js';
import { startStack } from '../helpers/stack.js';

const ISSUER = 'https://idp.workers.test/';
const REQUESTS = 24;

/** One request on its own connection, so node:cluster's round-robin hands successive requests to different workers. */
function getClosed(base: string, path: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpGet(`${base}${path}`, { agent: false, headers: { authorization: `Bearer ${token}`, connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

/** Running, not just a pid: an exited worker whose new parent has not reaped it yet (a zombie) holds no port and runs nothing. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The value of the one sample of `name` whose labels include every `labels` pair, or 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

t.test('workers: 2', async (t) => {
  const stack = await startStack(t, { issuer: ISSUER, routes: ['GET /r: r:read'], extra: 'workers: 2' });
  const { sidecar, jwks } = stack;
  const metrics = async (): Promise<string> => (await send(sidecar.adminUrl, '/metrics')).body;
  const started = sidecar.logs('scopegate started')[0]!;
  const pids = started['worker_pids'] as number[];
  t.equal(started['workers'], 2, 'the primary says it runs 2 workers');
  t.equal(new Set(pids).size, 2, 'two distinct worker pids');
  t.notOk(pids.includes(sidecar.proc.pid!), 'the workers are not the primary');
  await sidecar.waitForLogs('signing keys loaded', 2);
  t.equal(jwks.requests, 2, 'each worker fetched the JWKS once');
  await until('/readyz 200', async () => ((await send(sidecar.adminUrl, '/readyz')).status === 200 ? true : undefined));

  const token = stack.token('r:read');
  const statuses = await Promise.all(Array.from({ length: REQUESTS }, () => getClosed(sidecar.url, '/r', token)));
  t.same(new Set(statuses), new Set([200]), `${REQUESTS} requests on one port, all 200`);
  t.equal(stack.upstream.requests.length, REQUESTS, 'the upstream saw every request');
  const lines = await sidecar.waitForLogs('request', REQUESTS);
  t.same(new Set(lines.map((l) => l['pid'])), new Set(pids), 'access lines come from both workers (each names its pid)');
  const text = await metrics();
  t.equal(sample(text, 'scopegate_decisions_total', { outcome: 'allow', reason: 'allowed', listener: 'proxy' }), REQUESTS, '/metrics sums every worker’s decisions');
  t.equal(sample(text, 'scopegate_request_duration_seconds_count', { route: '/r', status: '200' }), REQUESTS, '/metrics sums every worker’s requests');
  t.equal(sample(text, 'scopegate_jwks_refresh_total', { result: 'success' }), 2, 'two JWKS fetches, one per worker');
  t.equal(sample(text, 'scopegate_ready'), 1, 'scopegate_ready is 1, not summed to 2');
  t.equal(sample(text, 'scopegate_worker_restarts_total'), 0, 'no restarts yet');

  t.test('SIGHUP reaches every worker', async (t) => {
    const good = readFileSync(sidecar.configFile, 'utf8');
    // Invalid content: the file watch reports it once per worker; only SIGHUP makes each report it again.
    writeFileSync(sidecar.configFile, `${good}\nunknown_key: 1\n`);
    await sidecar.waitForLogs('config reload rejected; still serving the last good config', 2);
    sidecar.proc.kill('SIGHUP');
    const hup = await until('a SIGHUP rejection from each worker', () => {
      const found = sidecar.logs('config reload rejected; still serving the last good config').filter((l) => l['trigger'] === 'SIGHUP');
      return found.length >= 2 ? found : undefined;
    });
    t.same(new Set(hup.map((l) => l['pid'])), new Set(pids), 'both workers reloaded on the one SIGHUP');
    writeFileSync(sidecar.configFile, good.replace('GET /r: r:read', 'GET /r: r:read\n  GET /open: { auth: none }'));
    const applied = await sidecar.waitForLogs('config reloaded', 2);
    t.same(new Set(applied.map((l) => l['pid'])), new Set(pids), 'the valid change applied in both workers');
    t.equal(sample(await metrics(), 'scopegate_config_reloads_total', { result: 'success' }), 2, 'two successful reloads counted');
  });

  t.test('a killed worker is replaced and counted', async (t) => {
    process.kill(pids[0]!, 'SIGKILL');
    await sidecar.waitForLog('worker exited; starting a replacement');
    const replacement = await until('a third worker', () => {
      const w = sidecar.logs('worker started').find((l) => !pids.includes(l['pid'] as number));
      return w === undefined ? undefined : (w['pid'] as number);
    });
    await until('/readyz 200 with the replacement', async () => ((await send(sidecar.adminUrl, '/readyz')).status === 200 ? true : undefined));
    t.equal(sample(await metrics(), 'scopegate_worker_restarts_total'), 1, 'scopegate_worker_restarts_total 1');
    const after = await Promise.all(Array.from({ length: 8 }, () => getClosed(sidecar.url, '/r', token)));
    t.same(new Set(after), new Set([200]), 'still served');
    pids.splice(0, 1, replacement);
  });

  t.test('SIGTERM drains every worker and exits 0', async (t) => {
    sidecar.proc.kill('SIGTERM');
    t.equal(await sidecar.exited, 0, 'exit 0');
    t.ok(sidecar.logs('drained, exiting').length >= 3, 'every worker and the primary drained');
    t.same(pids.filter(alive), [], 'no worker left running');
  });
});

t.test('workers: 2 with the listen port taken: serve exits 1 naming the setting', async (t) => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const address = `127.0.0.1:${(taken.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-workers-'));
  const file = join(dir, 'scopegate.yaml');
  writeFileSync(file, testConfigYaml({ issuer: ISSUER, jwksUri: 'http://127.0.0.1:9/jwks', routes: ['GET /r: r:read'], listen: address, extra: 'workers: 2' }));
  const proc = spawn(process.execPath, [CLI, 'serve', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const [code] = (await once(proc, 'exit')) as [number | null];
  t.equal(code, 1, 'exit 1');
  t.match(stderr, `scopegate: cannot listen on ${address} (listen): the address is already in use`, 'the worker’s one line reaches stderr');
});

t.test('the primary killed outright: its workers exit, leaving no orphan on the port', async (t) => {
  const { sidecar } = await startStack(t, { issuer: ISSUER, routes: ['GET /r: r:read'], extra: 'workers: 2' });
  const pids = sidecar.logs('scopegate started')[0]!['worker_pids'] as number[];
  sidecar.proc.kill('SIGKILL');
  await until('both workers gone', () => (pids.some(alive) ? undefined : true), 15_000);
  t.pass('both workers exited');
});
