#!/usr/bin/env node
/**
 * Where the time goes, per request: scopegate vs the bare undici proxy under wrk (127.0.0.1 only,
 * bounded), each in its own process under `node --cpu-prof`. Prints requests/s, CPU µs per request
 * (/proc utime+stime) and each profile's self time by category, counted only inside the measured
 * runs (start-up, config compile and warm-up are left out), scaled to µs per request.
 *   node bench/profile.mjs [--seconds=8] [--rounds=2] [--out=DIR]   (after npm run build; needs wrk)
 * The profiler itself adds CPU per request: compare the two columns, not with bench/run.mjs.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scopegateYaml } from './lib/config.mjs';
import { loadGithubRoutes } from './lib/github-routes.mjs';
import { cpuSeconds, freePort, httpGet, killAll, runWrk, startProcess } from './lib/procs.mjs';
import { generateKey, mint, startJwksServer } from './lib/tokens.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const arg = (name, dflt) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const seconds = Number(arg('seconds', 8));
const rounds = Number(arg('rounds', 2));
const out = arg('out', mkdtempSync(join(tmpdir(), 'scopegate-profile-')));
mkdirSync(out, { recursive: true });

/** Category of a profile node's self time. */
function category({ url, functionName: fn }) {
  if (fn === '(idle)') return undefined;
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)') return 'V8 / libuv (program)';
  if (url.includes('/dist/')) return `scopegate ${url.split('/dist/')[1].split('/')[0].replace('.js', '')}/`;
  if (url.includes('node_modules/undici')) return 'undici';
  if (/node_modules\/(pino|sonic-boom|quick-format|fast-redact)/.test(url)) return 'pino';
  if (url.includes('prom-client')) return 'prom-client';
  if (url.includes('bench/servers')) return 'bare proxy script';
  if (url === '' && fn !== '') return `native: ${/^(writev|writeLatin1String|writeString|writeBuffer|utf8Slice|latin1Slice)$/.test(fn) ? fn : 'other'}`;
  if (/_http_|node:http/.test(url)) return 'node http';
  if (/net|stream|buffer/.test(url)) return 'node net/stream';
  return 'node other / wasm (llhttp)';
}

/** Self time by category inside `windows` ([from, to] ms since the profile started). */
function selfTime(dir, windows) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const cats = new Map();
  let at = 0;
  let busy = 0;
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] ?? 0;
    if (!windows.some(([a, b]) => at / 1000 >= a && at / 1000 <= b)) continue;
    const c = category(byId.get(p.samples[i]).callFrame);
    if (c === undefined) continue;
    cats.set(c, (cats.get(c) ?? 0) + (p.timeDeltas[i] ?? 0));
    busy += p.timeDeltas[i] ?? 0;
  }
  return { cats, busy };
}

const key = generateKey('RS256');
const jwks = await startJwksServer([key]);
try {
  const { routes } = loadGithubRoutes();
  const upPort = await freePort();
  await startProcess('upstream', process.execPath, [here('servers/upstream.mjs'), String(upPort)], { ready: async () => (await httpGet(`http://127.0.0.1:${upPort}/`)).status === 200 });
  const targets = [];
  const barePort = await freePort();
  let t0 = Date.now();
  const bare = await startProcess('bare', process.execPath, ['--cpu-prof', `--cpu-prof-dir=${join(out, 'bare')}`, here('servers/bare-proxy.mjs'), String(barePort), `http://127.0.0.1:${upPort}`], { ready: async () => (await httpGet(`http://127.0.0.1:${barePort}/`)).status > 0 });
  targets.push({ name: 'bare http + undici', proc: bare, port: barePort, spawned: t0, dir: join(out, 'bare') });
  const port = await freePort();
  const adminPort = await freePort();
  writeFileSync(join(out, 'scopegate.yaml'), scopegateYaml({ routes, jwksUri: jwks.jwksUri, upstream: `http://127.0.0.1:${upPort}`, listen: `127.0.0.1:${port}`, adminListen: `127.0.0.1:${adminPort}` }));
  t0 = Date.now();
  const sg = await startProcess('scopegate', process.execPath, ['--cpu-prof', `--cpu-prof-dir=${join(out, 'scopegate')}`, here('../dist/cli.js'), 'serve', '--config', join(out, 'scopegate.yaml')], { ready: async () => (await httpGet(`http://127.0.0.1:${adminPort}/readyz`)).status === 200 });
  targets.push({ name: 'scopegate', proc: sg, port, spawned: t0, dir: join(out, 'scopegate') });

  const token = mint(key);
  const paths = ['issues', 'pulls', 'commits', 'branches', 'releases', 'tags', 'contributors', 'issues/1'].map((p) => `/repos/octo/hello/${p}`);
  const reqFile = join(out, 'requests.txt');
  writeFileSync(reqFile, paths.map((p) => `GET ${p} ${token}`).join('\n') + '\n');
  const run = (t, secs) => runWrk({ url: `http://127.0.0.1:${t.port}`, reqFile, luaFile: here('lib/wrk.lua'), seconds: secs, connections: 50 });
  for (const t of targets) {
    await run(t, 2); // warm-up, not counted
    Object.assign(t, { requests: 0, cpu: 0, rps: [], windows: [] });
  }
  for (let r = 0; r < rounds; r++) {
    for (const t of targets) {
      const c0 = cpuSeconds(t.proc.pid);
      const from = Date.now() - t.spawned;
      const w = await run(t, seconds);
      // 300 ms margins: wrk's connect and drain are not steady state.
      t.windows.push([from + 300, Date.now() - t.spawned - 300]);
      t.cpu += cpuSeconds(t.proc.pid) - c0;
      t.requests += w.requests;
      t.rps.push(Math.round(w.rps));
      if (w.non2xx > 0 || w.errors > 0) console.log(`${t.name}: ${w.non2xx} non-2xx, ${w.errors} errors`);
    }
  }
  for (const t of targets) await t.proc.stop(); // SIGTERM: both write their profile on exit
  const rows = targets.map((t) => ({ ...t, perReq: (1e6 * t.cpu) / t.requests, ...selfTime(t.dir, t.windows) }));
  console.log(`profiles in ${out}; ${rounds} × ${seconds} s per target, 50 connections\n`);
  for (const r of rows) console.log(`${r.name.padEnd(20)} req/s ${r.rps.join(' / ')}   CPU ${r.perReq.toFixed(1)} µs/request`);
  const names = [...new Set(rows.flatMap((r) => [...r.cats.keys()]))];
  const us = (r, c) => ((r.cats.get(c) ?? 0) / r.busy) * r.perReq;
  names.sort((a, b) => us(rows[1], b) + us(rows[0], b) - us(rows[1], a) - us(rows[0], a));
  console.log(`\n| ${'category (self time)'.padEnd(28)} | ${rows.map((r) => `${r.name} µs/req`).join(' | ')} |`);
  console.log(`| ${'-'.repeat(28)} | ${rows.map((r) => '-'.repeat(r.name.length + 7)).join(' | ')} |`);
  for (const c of names) console.log(`| ${c.padEnd(28)} | ${rows.map((r) => us(r, c).toFixed(1).padStart(r.name.length + 7)).join(' | ')} |`);
} finally {
  killAll();
  await jwks.close();
}
