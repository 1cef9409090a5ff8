/**
 * 3. End to end: the same upstream (own process), the same routes and tokens, 50 connections,
 * bounded runs repeated in A B C … A B C … order, median reported; CPU per request of the
 * proxy process from /proc/<pid>/stat. Every target passes a correctness check first.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scopegateYaml } from '../lib/config.mjs';
import { loadGithubRoutes } from '../lib/github-routes.mjs';
import { median } from '../lib/measure.mjs';
import { cpuSeconds, freePort, hasCommand, httpGet, runAutocannon, runWrk, startProcess } from '../lib/procs.mjs';
import { mdTable, num, ratio, target } from '../lib/report.mjs';
import { AUDIENCE, ISSUER, generateKey, mint, mintMany, startJwksServer, tamper } from '../lib/tokens.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const CLI = here('../../dist/cli.js');
const CONNECTIONS = 50;

/** Allowed GETs on the repos subtree (scope repos:read), static-ish and param-heavy. */
const PATHS = [
  '/repos/octo/hello/issues',
  '/repos/octo/hello/pulls/42',
  '/repos/octo/hello/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e/status',
  '/repos/octo/hello/contents/README.md',
  '/repos/octo/hello/branches/main/protection',
  '/repos/octo/hello/issues/1347/comments',
  '/repos/octo/hello/releases/latest',
  '/repos/octo/hello',
];

function haproxyVersion() {
  try {
    const out = execFileSync('haproxy', ['-v'], { encoding: 'utf8' });
    const m = /version (\d+)\.(\d+)/.exec(out);
    return m ? { major: Number(m[1]), minor: Number(m[2]), text: out.split('\n')[0] } : undefined;
  } catch {
    return undefined;
  }
}

function haproxyConfig({ port, upstreamPort, pemFile }) {
  // One thread, like the single-threaded Node proxies. No route table: HAProxy checks one
  // scope for everything (repos:read), which is all this workload needs.
  return `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:${port}
  http-request deny deny_status 401 unless { req.hdr(authorization) -m beg "Bearer " }
  http-request set-var(txn.bearer) http_auth_bearer
  http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('$.alg')
  http-request set-var(txn.iss) var(txn.bearer),jwt_payload_query('$.iss')
  http-request set-var(txn.aud) var(txn.bearer),jwt_payload_query('$.aud')
  http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('$.exp','int')
  http-request set-var(txn.scope) var(txn.bearer),jwt_payload_query('$.scope')
  http-request set-var(txn.now) date()
  http-request deny deny_status 401 unless { var(txn.alg) -m str RS256 }
  http-request deny deny_status 401 unless { var(txn.iss) -m str ${ISSUER} }
  http-request deny deny_status 401 unless { var(txn.aud) -m str ${AUDIENCE} }
  http-request deny deny_status 401 if { var(txn.exp),sub(txn.now) -m int lt 0 }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_verify(txn.alg,"${pemFile}") -m int 1 }
  http-request deny deny_status 403 unless { var(txn.scope) -m reg (^|\\ )repos:read(\\ |$) }
  default_backend be
backend be
  http-reuse always
  server up 127.0.0.1:${upstreamPort} maxconn 128
`;
}

export async function runE2e({ quick, log }) {
  const failures = [];
  const notes = [];
  const seconds = quick ? 1 : 8;
  const reps = quick ? 1 : 2;
  const useWrk = hasCommand('wrk');
  const loadgen = useWrk ? 'wrk (-t1, Lua script cycling prebuilt requests)' : 'autocannon (programmatic, in the bench process)';
  if (!useWrk) notes.push('wrk not found (`apt-get install wrk`): using autocannon, whose own CPU caps it near ~30k rps on 2 cores.');
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-bench-'));
  const { routes } = loadGithubRoutes();
  const key = generateKey('RS256');
  const jwks = await startJwksServer([key]);
  const started = [];
  try {
    const pemFile = join(dir, 'pub.pem');
    writeFileSync(pemFile, key.publicPem);
    const routesFile = join(dir, 'routes.json');
    writeFileSync(routesFile, JSON.stringify(routes));
    const luaFile = here('../lib/wrk.lua');

    // Tokens. "distinct": a pool larger than scopegate's token cache, cycled, so every request misses the cache.
    const cacheSize = quick ? 100 : 10_000;
    const poolSize = quick ? 300 : 12_000;
    const repeated = mint(key);
    const t0 = Date.now();
    const distinct = mintMany(key, poolSize);
    log(`  minted ${poolSize} distinct RS256 tokens in ${Date.now() - t0} ms`);
    const reqFile = (name, tokens) => {
      const lines = tokens.map((t, i) => `GET ${PATHS[i % PATHS.length]} ${t}`);
      const f = join(dir, `${name}.txt`);
      writeFileSync(f, `${lines.join('\n')}\n`);
      return { file: f, reqs: tokens.map((t, i) => ({ method: 'GET', path: PATHS[i % PATHS.length], token: t })) };
    };
    const repeatedReqs = reqFile('repeated', PATHS.map(() => repeated));
    const distinctReqs = reqFile('distinct', distinct);

    // ---- servers, each in its own process ----
    const upstreamPort = await freePort();
    const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
    const node = process.execPath;
    const up = await startProcess('upstream', node, [here('../servers/upstream.mjs'), String(upstreamPort)], { ready: async () => (await httpGet(`${upstreamUrl}/`)).status === 200 });
    started.push(up);

    const targets = [];
    const add = async (t) => {
      try {
        const s = await t.start();
        started.push(s);
        targets.push({ ...t, server: s });
      } catch (err) {
        failures.push(`e2e ${t.name}: failed to start: ${err.message}`);
      }
    };
    await add({ name: 'upstream direct (the limit)', kind: 'upstream', url: upstreamUrl, reqs: repeatedReqs, start: async () => up });
    const barePort = await freePort();
    await add({
      name: 'bare http + undici Pool.stream (no auth)',
      kind: 'bare',
      url: `http://127.0.0.1:${barePort}`,
      reqs: repeatedReqs,
      start: () => startProcess('bare-proxy', node, [here('../servers/bare-proxy.mjs'), String(barePort), upstreamUrl], { ready: async () => (await httpGet(`http://127.0.0.1:${barePort}/`)).status === 200 }),
    });
    const scopegate = async (name, tokenCacheSize, reqs) => {
      const port = await freePort();
      const adminPort = await freePort();
      const cfg = join(dir, `${name}.yaml`);
      writeFileSync(cfg, scopegateYaml({ routes, jwksUri: jwks.jwksUri, upstream: upstreamUrl, listen: `127.0.0.1:${port}`, adminListen: `127.0.0.1:${adminPort}`, tokenCacheSize, algorithms: ['RS256'] }));
      return {
        name,
        kind: 'scopegate',
        url: `http://127.0.0.1:${port}`,
        reqs,
        start: () => startProcess(name, node, [CLI, 'serve', '--config', cfg], { ready: async () => (await httpGet(`http://127.0.0.1:${adminPort}/readyz`)).status === 200 }),
      };
    };
    await add(await scopegate('scopegate, repeated token', undefined, repeatedReqs));
    await add(await scopegate(`scopegate, all-distinct tokens (cache ${cacheSize}, pool ${poolSize})`, cacheSize, distinctReqs));
    const fastifyPort = await freePort();
    await add({
      name: 'fastify + @fastify/http-proxy + fast-jwt, repeated token',
      kind: 'fastify',
      url: `http://127.0.0.1:${fastifyPort}`,
      reqs: repeatedReqs,
      start: () =>
        startProcess('fastify', node, [here('../servers/fastify-proxy.mjs'), String(fastifyPort), upstreamUrl, pemFile, 'RS256', routesFile], {
          ready: async () => (await httpGet(`http://127.0.0.1:${fastifyPort}/repos/a/b`, { authorization: `Bearer ${repeated}` })).status === 200,
        }),
    });
    const hv = haproxyVersion();
    if (!hv) {
      notes.push('HAProxy not installed: skipped (install with `apt-get update && apt-get install -y haproxy`; 2.6+ has jwt_verify).');
    } else if (hv.major < 2 || (hv.major === 2 && hv.minor < 6)) {
      notes.push(`HAProxy ${hv.major}.${hv.minor} found: skipped (need 2.6+ for jwt_verify RS256).`);
    } else {
      const hport = await freePort();
      const hcfg = join(dir, 'haproxy.cfg');
      writeFileSync(hcfg, haproxyConfig({ port: hport, upstreamPort, pemFile }));
      await add({
        name: `HAProxy ${hv.major}.${hv.minor} jwt_verify RS256 + scope ACL, repeated token`,
        kind: 'haproxy',
        url: `http://127.0.0.1:${hport}`,
        reqs: repeatedReqs,
        start: () =>
          startProcess('haproxy', 'haproxy', ['-db', '-f', hcfg], {
            ready: async () => (await httpGet(`http://127.0.0.1:${hport}/repos/a/b`, { authorization: `Bearer ${repeated}` })).status === 200,
          }),
      });
      notes.push('HAProxy: nbthread 1 (like the single-threaded Node proxies); one scope ACL for every path (no route table); no JWKS (key file), no verified-token cache.');
    }

    // ---- correctness: every target answers right before it is measured ----
    const noScope = mint(key, { scope: 'emojis:read' });
    const expired = mint(key, { exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 });
    const measured = [];
    for (const t of targets) {
      const checks = [['valid token', repeated, 200]];
      if (t.kind !== 'upstream' && t.kind !== 'bare') {
        checks.push(['no token', null, 401], ['tampered signature', tamper(repeated), 401], ['expired', expired, 401], ['missing scope', noScope, 403], ['distinct token', distinct[1], 200]);
      }
      let ok = true;
      for (const [what, tok, want] of checks) {
        for (const p of PATHS) {
          const r = await httpGet(`${t.url}${p}`, tok ? { authorization: `Bearer ${tok}` } : {});
          const good = r.status === want && (want !== 200 || r.body.includes('bench-upstream'));
          if (!good) {
            ok = false;
            failures.push(`e2e ${t.name}: ${what} GET ${p}: expected ${want}, got ${r.status}`);
            break;
          }
        }
      }
      log(`  e2e correctness: ${t.name.padEnd(60)} ${ok ? 'ok' : 'FAILED'} (${checks.length} cases × ${PATHS.length} paths)`);
      if (ok) measured.push(t);
    }

    // ---- warm-up (JIT, pools, caches): one short unrecorded run per target ----
    const load = (t, secs) =>
      useWrk
        ? runWrk({ url: t.url, reqFile: t.reqs.file, luaFile, seconds: secs, connections: CONNECTIONS })
        : runAutocannon({ url: t.url, reqs: t.reqs.reqs, seconds: secs, connections: CONNECTIONS });
    if (!quick) for (const t of measured) await load(t, 2);

    // ---- load: A B C … A B C …, median per target ----
    const runs = new Map(measured.map((t) => [t.name, []]));
    for (let r = 0; r < reps; r++) {
      for (const t of measured) {
        const pid = t.server.pid;
        const cpu0 = cpuSeconds(pid);
        const res = await load(t, seconds);
        const cpu = cpuSeconds(pid) - cpu0;
        res.cpuUsPerReq = (cpu / Math.max(1, res.requests)) * 1e6;
        runs.get(t.name).push(res);
        log(`  e2e run ${r + 1}/${reps}: ${t.name.padEnd(60)} ${num(res.rps)} req/s, p99 ${res.p99Ms.toFixed(2)} ms, ${res.cpuUsPerReq.toFixed(1)} µs CPU/req${res.errors + res.non2xx > 0 ? `, ${res.errors} socket errors, ${res.non2xx} non-2xx` : ''}`);
        // Non-2xx under load is a wrong answer (every request here must be allowed). Socket errors are reported, not fatal.
        if (res.non2xx > 0) failures.push(`e2e ${t.name}: ${res.non2xx} non-2xx responses under load`);
      }
    }
    const summary = new Map();
    for (const [name, xs] of runs) {
      summary.set(name, {
        rps: median(xs.map((x) => x.rps)),
        p50Ms: median(xs.map((x) => x.p50Ms)),
        p99Ms: median(xs.map((x) => x.p99Ms)),
        cpuUsPerReq: median(xs.map((x) => x.cpuUsPerReq)),
        runs: xs.map((x) => Math.round(x.rps)),
      });
    }
    const find = (kind) => measured.find((t) => t.kind === kind)?.name;
    const bare = summary.get(find('bare'));
    const rows = [...summary].map(([name, s]) => [
      name,
      num(s.rps),
      s.p50Ms.toFixed(2),
      s.p99Ms.toFixed(2),
      bare ? ratio(s.rps / bare.rps) : 'n/a',
      name.startsWith('upstream') ? `(${s.cpuUsPerReq.toFixed(1)})` : s.cpuUsPerReq.toFixed(1),
      bare && !name.startsWith('upstream') ? ratio(s.cpuUsPerReq / bare.cpuUsPerReq) : '',
      s.runs.join(' / '),
    ]);
    const text =
      `Load generator: ${loadgen}; ${CONNECTIONS} connections; ${quick ? 'no warm-up' : '2 s unrecorded warm-up per target, then'} ${seconds} s per run; ${reps} run(s) per target in A B C … order, median shown. ` +
      `Workload: ${PATHS.length} GET paths on the repos subtree of the GitHub table (${routes.length} routes in scopegate's config and in the fastify stack's find-my-way), every request allowed (200 from the upstream).\n` +
      `CPU/req: the proxy process's utime+stime from /proc/<pid>/stat over the run, per request (the upstream's own figure is in parentheses). scopegate runs with its defaults (pino access log at info, to /dev/null); fastify runs with logger: false.\n` +
      (notes.length ? `${notes.map((n) => `Note: ${n}`).join('\n')}\n` : '') +
      `\n${mdTable(['target', 'req/s', 'p50 ms', 'p99 ms', '× bare proxy rps', 'CPU µs/req', 'CPU × bare', 'runs (req/s)'], rows)}`;

    const sgRep = summary.get(targets.find((t) => t.name === 'scopegate, repeated token')?.name);
    const sgDis = summary.get(measured.find((t) => t.name.startsWith('scopegate, all-distinct'))?.name);
    const fst = summary.get(find('fastify'));
    const hap = summary.get(find('haproxy'));
    const tg = [];
    if (sgRep && bare) {
      tg.push(target('scopegate repeated tokens ≥ 0.90× bare undici proxy rps', sgRep.rps >= 0.9 * bare.rps, ratio(sgRep.rps / bare.rps)));
      tg.push(target('scopegate CPU/request ≤ 1.15× bare proxy', sgRep.cpuUsPerReq <= 1.15 * bare.cpuUsPerReq, ratio(sgRep.cpuUsPerReq / bare.cpuUsPerReq)));
    }
    if (sgRep && hap) tg.push(target('scopegate repeated tokens ≥ 1.0× HAProxy rps', sgRep.rps >= hap.rps, ratio(sgRep.rps / hap.rps)));
    if (sgRep && fst) tg.push(target('scopegate repeated tokens ≥ 2.5× fastify stack rps', sgRep.rps >= 2.5 * fst.rps, ratio(sgRep.rps / fst.rps)));
    if (sgDis && bare) tg.push(target('scopegate all-distinct RS256 ≥ 0.55× bare proxy rps', sgDis.rps >= 0.55 * bare.rps, ratio(sgDis.rps / bare.rps)));
    return { title: '3. End to end', text, targets: tg, failures, data: Object.fromEntries(summary), loadgen };
  } finally {
    for (const s of started.reverse()) await s.stop().catch(() => {});
    await jwks.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
