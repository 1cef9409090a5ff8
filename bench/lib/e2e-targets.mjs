/**
 * The end-to-end section's targets: how each is started, where it listens, which requests it
 * gets and which processes its CPU is read from (every process of the target, descendants
 * included: a cluster primary and its workers, nginx beside scopegate's authz listener).
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { scopegateYaml } from './config.mjs';
import { haproxyConfig, haproxyVersion, nginxCommand, nginxVersion } from './peers.mjs';
import { freePort, httpGet, startProcess } from './procs.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const CLI = here('../../dist/cli.js');
const node = process.execPath;

/**
 * @param {{ dir: string, routes: unknown[], jwksUri: string, up: { pid: number }, upstreamUrl: string, upstreamPort: number, pemFile: string, routesFile: string,
 *   repeated: string, reqs: { repeated: object, distinctRS: object, distinctES: object }, cacheSize: number, poolSize: number, notes: string[] }} c
 */
export async function e2eTargets(c) {
  const targets = [];
  const ready = (url, token) => async () => (await httpGet(url, token === undefined ? {} : { authorization: `Bearer ${token}` })).status === 200;
  const scopegate = async (file, extra = {}) => {
    const port = await freePort();
    const adminPort = await freePort();
    const cfg = join(c.dir, `${file}.yaml`);
    writeFileSync(cfg, scopegateYaml({ routes: c.routes, jwksUri: c.jwksUri, upstream: c.upstreamUrl, listen: `127.0.0.1:${port}`, adminListen: `127.0.0.1:${adminPort}`, algorithms: ['RS256', 'ES256'], ...extra }));
    return { url: `http://127.0.0.1:${port}`, start: () => startProcess(file, node, [CLI, 'serve', '--config', cfg], { ready: ready(`http://127.0.0.1:${adminPort}/readyz`) }) };
  };

  targets.push({ name: 'upstream direct (the limit)', kind: 'upstream', url: c.upstreamUrl, reqs: c.reqs.repeated, start: async () => c.up });
  const barePort = await freePort();
  targets.push({
    name: 'bare http + undici Pool.stream (no auth)',
    kind: 'bare',
    url: `http://127.0.0.1:${barePort}`,
    reqs: c.reqs.repeated,
    start: () => startProcess('bare-proxy', node, [here('../servers/bare-proxy.mjs'), String(barePort), c.upstreamUrl], { ready: ready(`http://127.0.0.1:${barePort}/`) }),
  });
  const one = await scopegate('scopegate');
  targets.push({ name: 'scopegate, repeated token', kind: 'scopegate', ...one, reqs: c.reqs.repeated });
  // One process for both distinct pools: the same cache size, each pool larger than the cache.
  const distinct = await scopegate('scopegate-distinct', { tokenCacheSize: c.cacheSize });
  let distinctServer;
  const startDistinct = async () => (distinctServer ??= await distinct.start());
  targets.push({ name: `scopegate, all-distinct RS256 tokens (cache ${c.cacheSize}, pool ${c.poolSize})`, kind: 'distinct-rs', url: distinct.url, reqs: c.reqs.distinctRS, start: startDistinct });
  targets.push({ name: `scopegate, all-distinct ES256 tokens (cache ${c.cacheSize}, pool ${c.poolSize})`, kind: 'distinct-es', url: distinct.url, reqs: c.reqs.distinctES, start: startDistinct });
  const two = await scopegate('scopegate-workers2', { workers: 2 });
  targets.push({ name: 'scopegate workers: 2, repeated token', kind: 'workers2', ...two, reqs: c.reqs.repeated });

  const fastifyPort = await freePort();
  targets.push({
    name: 'fastify + @fastify/http-proxy + fast-jwt, repeated token',
    kind: 'fastify',
    url: `http://127.0.0.1:${fastifyPort}`,
    reqs: c.reqs.repeated,
    start: () => startProcess('fastify', node, [here('../servers/fastify-proxy.mjs'), String(fastifyPort), c.upstreamUrl, c.pemFile, 'RS256', c.routesFile], { ready: ready(`http://127.0.0.1:${fastifyPort}/repos/a/b`, c.repeated) }),
  });
  targets.push(...(await haproxyTargets(c, ready)));
  targets.push(...(await nginxTargets(c, ready)));
  return targets;
}

async function haproxyTargets(c, ready) {
  const hv = haproxyVersion();
  if (!hv) {
    c.notes.push('HAProxy not installed: skipped (install with `apt-get update && apt-get install -y haproxy`; 2.6+ has jwt_verify).');
    return [];
  }
  if (hv.major < 2 || (hv.major === 2 && hv.minor < 6)) {
    c.notes.push(`HAProxy ${hv.major}.${hv.minor} found: skipped (need 2.6+ for jwt_verify RS256).`);
    return [];
  }
  c.notes.push('HAProxy: one scope ACL for every path (no route table); no JWKS (key file), no verified-token cache. nbthread 1 beside the single-process Node proxies, nbthread 2 beside scopegate `workers: 2`.');
  const out = [];
  for (const threads of [1, 2]) {
    const port = await freePort();
    const cfg = join(c.dir, `haproxy-${threads}.cfg`);
    writeFileSync(cfg, haproxyConfig({ port, upstreamPort: c.upstreamPort, pemFile: c.pemFile, threads }));
    out.push({
      name: `HAProxy ${hv.major}.${hv.minor} jwt_verify RS256 nbthread ${threads}, repeated token`,
      kind: `haproxy${threads}`,
      url: `http://127.0.0.1:${port}`,
      reqs: c.reqs.repeated,
      start: () => startProcess(`haproxy-${threads}`, 'haproxy', ['-db', '-f', cfg], { ready: ready(`http://127.0.0.1:${port}/repos/a/b`, c.repeated) }),
    });
  }
  return out;
}

/** nginx `auth_request` → scopegate's authz listener (authz-only config), both processes' CPU counted. */
async function nginxTargets(c, ready) {
  if (!nginxVersion()) {
    c.notes.push('nginx not installed: the auth_request row is skipped (`apt-get install -y nginx`).');
    return [];
  }
  c.notes.push("nginx + auth_request: deploy/authz/nginx.conf as shipped (ports replaced; one nginx process, master_process off; no keep-alive to the API, nginx's default), scopegate with only `authz_listen`; CPU/req is nginx's plus scopegate's.");
  const port = await freePort();
  const authzPort = await freePort();
  const adminPort = await freePort();
  const cfg = join(c.dir, 'scopegate-authz.yaml');
  writeFileSync(cfg, scopegateYaml({ routes: c.routes, jwksUri: c.jwksUri, authzListen: `127.0.0.1:${authzPort}`, adminListen: `127.0.0.1:${adminPort}`, algorithms: ['RS256', 'ES256'] }));
  const [cmd, args] = nginxCommand({ dir: join(c.dir, 'nginx'), port, authzPort, upstreamPort: c.upstreamPort });
  return [
    {
      name: 'nginx auth_request → scopegate authz listener, repeated token',
      kind: 'nginx-authz',
      url: `http://127.0.0.1:${port}`,
      reqs: c.reqs.repeated,
      async start() {
        const authz = await startProcess('scopegate-authz', node, [CLI, 'serve', '--config', cfg], { ready: ready(`http://127.0.0.1:${adminPort}/readyz`) });
        const nginx = await startProcess('nginx', cmd, args, { ready: ready(`http://127.0.0.1:${port}/repos/a/b`, c.repeated) }).catch(async (err) => {
          await authz.stop();
          throw err;
        });
        return { name: 'nginx+authz', pid: nginx.pid, pids: [nginx.pid, authz.pid], stop: async () => { await nginx.stop(); await authz.stop(); } };
      },
    },
  ];
}
