/**
 * 3. End to end: the same upstream (own process), the same routes and tokens, 50 connections,
 * bounded runs repeated in A B C … A B C … order, median reported; CPU per request of the
 * proxy process from /proc/<pid>/stat. Every target passes a correctness check first.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { e2eTargets } from '../lib/e2e-targets.mjs';
import { loadGithubRoutes } from '../lib/github-routes.mjs';
import { median } from '../lib/measure.mjs';
import { freePort, hasCommand, httpGet, runAutocannon, runWrk, startProcess, treeCpuSeconds } from '../lib/procs.mjs';
import { info, mdTable, num, ratio, target } from '../lib/report.mjs';
import { AUDIENCE, ISSUER, generateKey, mint, mintMany, startJwksServer, tamper } from '../lib/tokens.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
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
  const esKey = generateKey('ES256');
  const jwks = await startJwksServer([key, esKey]);
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
    const distinctEs = mintMany(esKey, poolSize);
    log(`  minted ${poolSize} distinct RS256 and ${poolSize} ES256 tokens in ${Date.now() - t0} ms`);
    const reqFile = (name, tokens) => {
      const lines = tokens.map((t, i) => `GET ${PATHS[i % PATHS.length]} ${t}`);
      const f = join(dir, `${name}.txt`);
      writeFileSync(f, `${lines.join('\n')}\n`);
      return { file: f, reqs: tokens.map((t, i) => ({ method: 'GET', path: PATHS[i % PATHS.length], token: t })) };
    };
    const repeatedReqs = reqFile('repeated', PATHS.map(() => repeated));
    const distinctReqs = reqFile('distinct', distinct);
    const distinctEsReqs = reqFile('distinct-es', distinctEs);

    // ---- servers, each in its own process ----
    const upstreamPort = await freePort();
    const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
    const node = process.execPath;
    const up = await startProcess('upstream', node, [here('../servers/upstream.mjs'), String(upstreamPort)], { ready: async () => (await httpGet(`${upstreamUrl}/`)).status === 200 });
    started.push(up);

    const targets = [];
    const running = new Set();
    for (const t of await e2eTargets({ dir, routes, jwksUri: jwks.jwksUri, up, upstreamUrl, upstreamPort, pemFile, routesFile, repeated, reqs: { repeated: repeatedReqs, distinctRS: distinctReqs, distinctES: distinctEsReqs }, cacheSize, poolSize, notes })) {
      try {
        const s = await t.start();
        if (!running.has(s)) started.push(s);
        running.add(s);
        targets.push({ ...t, server: s });
      } catch (err) {
        failures.push(`e2e ${t.name}: failed to start: ${err.message}`);
      }
    }

    // ---- correctness: every target answers right before it is measured ----
    const noScope = mint(key, { scope: 'emojis:read' });
    const expired = mint(key, { exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 });
    const measured = [];
    for (const t of targets) {
      const checks = [['valid token', repeated, 200]];
      if (t.kind !== 'upstream' && t.kind !== 'bare') {
        checks.push(['no token', null, 401], ['tampered signature', tamper(repeated), 401], ['expired', expired, 401], ['missing scope', noScope, 403], ['distinct token', (t.kind === 'distinct-es' ? distinctEs : distinct)[1], 200]);
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
        const cpuOf = () => (t.server.pids ?? [t.server.pid]).reduce((sum, pid) => sum + treeCpuSeconds(pid), 0);
        const cpu0 = cpuOf();
        const res = await load(t, seconds);
        const cpu = cpuOf() - cpu0;
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
      `CPU/req: utime+stime from /proc/<pid>/stat of every process of the target (a cluster's primary and workers; nginx and scopegate's authz listener) over the run, per request (the upstream's own figure is in parentheses). scopegate runs with its defaults (pino access log at info, to /dev/null); fastify runs with logger: false.\n` +
      (notes.length ? `${notes.map((n) => `Note: ${n}`).join('\n')}\n` : '') +
      `\n${mdTable(['target', 'req/s', 'p50 ms', 'p99 ms', '× bare proxy rps', 'CPU µs/req', 'CPU × bare', 'runs (req/s)'], rows)}`;

    const sgRep = summary.get(find('scopegate'));
    const sgDis = summary.get(find('distinct-rs'));
    const sgDisEs = summary.get(find('distinct-es'));
    const sgTwo = summary.get(find('workers2'));
    const fst = summary.get(find('fastify'));
    const hap = summary.get(find('haproxy1'));
    const hap2 = summary.get(find('haproxy2'));
    const ngx = summary.get(find('nginx-authz'));
    const tg = [];
    if (sgRep && bare) {
      tg.push(target('scopegate repeated tokens ≥ 0.90× bare undici proxy rps', sgRep.rps >= 0.9 * bare.rps, ratio(sgRep.rps / bare.rps)));
      tg.push(target('scopegate CPU/request ≤ 1.15× bare proxy', sgRep.cpuUsPerReq <= 1.15 * bare.cpuUsPerReq, ratio(sgRep.cpuUsPerReq / bare.cpuUsPerReq)));
    }
    if (sgRep && hap) tg.push(target('scopegate repeated tokens ≥ 1.0× HAProxy rps', sgRep.rps >= hap.rps, ratio(sgRep.rps / hap.rps)));
    if (sgRep && fst) tg.push(target('scopegate repeated tokens ≥ 2.5× fastify stack rps', sgRep.rps >= 2.5 * fst.rps, ratio(sgRep.rps / fst.rps)));
    if (sgDis && bare) tg.push(target('scopegate all-distinct RS256 ≥ 0.55× bare proxy rps', sgDis.rps >= 0.55 * bare.rps, ratio(sgDis.rps / bare.rps)));
    if (sgDisEs && bare) tg.push(info('scopegate all-distinct ES256 vs bare proxy rps', ratio(sgDisEs.rps / bare.rps)));
    if (sgTwo && hap2) tg.push(target(`scopegate workers: 2 ≥ 1.0× HAProxy nbthread 2 rps (${availableParallelism()} CPUs, shared with wrk and the upstream)`, sgTwo.rps >= hap2.rps, ratio(sgTwo.rps / hap2.rps)));
    if (sgTwo && sgRep) tg.push(info('scopegate workers: 2 vs workers: 1 rps', ratio(sgTwo.rps / sgRep.rps)));
    if (ngx && sgRep && bare) tg.push(info('nginx auth_request + authz listener vs inline scopegate: rps, CPU/req', `${ratio(ngx.rps / sgRep.rps)} rps, ${ratio(ngx.cpuUsPerReq / sgRep.cpuUsPerReq)} CPU/req (${ratio(ngx.rps / bare.rps)} of the bare proxy's rps)`));
    return { title: '3. End to end', text, targets: tg, failures, data: Object.fromEntries(summary), loadgen };
  } finally {
    for (const s of started.reverse()) await s.stop().catch(() => {});
    await jwks.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
