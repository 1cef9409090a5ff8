/**
 * 4. Memory: RSS of `scopegate serve` just started with the bundled config (config/scopegate.yaml,
 * ports and issuer moved to the bench's own), and of a scopegate process after N distinct tokens
 * were verified and cached (token_cache_size ≥ N). ES256 tokens: minting 100k RS256 tokens would
 * take ~30 s of the run on this machine; an RS256 token is ~260 bytes longer (its signature), see README.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { scopegateYaml } from '../lib/config.mjs';
import { loadGithubRoutes } from '../lib/github-routes.mjs';
import { freePort, httpGet, rssBytes, startProcess } from '../lib/procs.mjs';
import { mdTable, num, target } from '../lib/report.mjs';
import { generateKey, mintMany, startJwksServer } from '../lib/tokens.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

function metric(text, name) {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** RSS of `serve` with the bundled config, once ready and idle for a second: the median of `runs` starts. */
async function bundledStartRss(dir, jwksUri, runs) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const port = await freePort();
    const adminPort = await freePort();
    const yaml = readFileSync(here('../../config/scopegate.yaml'), 'utf8')
      .replace('127.0.0.1:8080', `127.0.0.1:${port}`)
      .replace('127.0.0.1:9090', `127.0.0.1:${adminPort}`)
      .replaceAll('http://127.0.0.1:8788/.well-known/jwks.json', jwksUri);
    const cfg = join(dir, 'bundled.yaml');
    writeFileSync(cfg, yaml);
    const sg = await startProcess('scopegate (bundled config)', process.execPath, [here('../../dist/cli.js'), 'serve', '--config', cfg], { ready: async () => (await httpGet(`http://127.0.0.1:${adminPort}/healthz`)).status === 200 });
    try {
      await new Promise((r) => setTimeout(r, 1000));
      samples.push(rssBytes(sg.pid));
    } finally {
      await sg.stop();
    }
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

export async function runMemory({ quick, log }) {
  const failures = [];
  const n = quick ? 500 : 100_000;
  const dir = mkdtempSync(join(tmpdir(), 'scopegate-bench-mem-'));
  const key = generateKey('ES256');
  const jwks = await startJwksServer([key]);
  const { routes } = loadGithubRoutes();
  const started = [];
  try {
    const t0 = Date.now();
    const tokens = mintMany(key, n);
    log(`  minted ${num(n)} ES256 tokens (${tokens[0].length} chars each) in ${Date.now() - t0} ms`);
    const upPort = await freePort();
    const up = await startProcess('upstream', process.execPath, [here('../servers/upstream.mjs'), String(upPort)], { ready: async () => (await httpGet(`http://127.0.0.1:${upPort}/`)).status === 200 });
    started.push(up);
    const port = await freePort();
    const adminPort = await freePort();
    const cfg = join(dir, 'mem.yaml');
    writeFileSync(cfg, scopegateYaml({ routes, jwksUri: jwks.jwksUri, upstream: `http://127.0.0.1:${upPort}`, listen: `127.0.0.1:${port}`, adminListen: `127.0.0.1:${adminPort}`, tokenCacheSize: n, algorithms: ['ES256'] }));
    const sg = await startProcess('scopegate', process.execPath, [here('../../dist/cli.js'), 'serve', '--config', cfg], { ready: async () => (await httpGet(`http://127.0.0.1:${adminPort}/readyz`)).status === 200 });
    started.push(sg);
    const rssStart = rssBytes(sg.pid);
    // The bundled config's issuer is a placeholder: pointed at this JWKS server (its keys load, its tokens are never sent).
    const rssBundled = await bundledStartRss(dir, jwks.jwksUri, quick ? 1 : 3);

    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 50 });
    let next = 0;
    let bad = 0;
    const t1 = Date.now();
    const worker = async () => {
      while (next < n) {
        const i = next++;
        const res = await pool.request({ method: 'GET', path: '/repos/octo/hello/issues', headers: { authorization: `Bearer ${tokens[i]}` } });
        await res.body.dump();
        if (res.statusCode !== 200) bad++;
      }
    };
    await Promise.all(Array.from({ length: 50 }, worker));
    await pool.close();
    const secs = (Date.now() - t1) / 1000;
    if (bad > 0) failures.push(`memory: ${bad}/${n} requests not answered 200`);
    // Let the access log drain and any idle GC happen, then read.
    await new Promise((r) => setTimeout(r, 1000));
    const rssEnd = rssBytes(sg.pid);
    const metrics = (await httpGet(`http://127.0.0.1:${adminPort}/metrics`)).body;
    const heapUsed = metric(metrics, 'nodejs_heap_size_used_bytes');
    const cacheLines = metrics.split('\n').filter((l) => /^scopegate_token_cache\w*/.test(l));
    log(`  sent ${num(n)} distinct tokens in ${secs.toFixed(1)} s (${num(n / secs)} req/s); ${cacheLines.join('; ')}`);
    const MB = 1024 * 1024;
    const rows = [
      [`RSS after start, bundled config (median of ${quick ? 1 : 3} starts)`, `${(rssBundled / MB).toFixed(1)} MB`],
      ['RSS after start, GitHub table (routes loaded, keys fetched)', `${(rssStart / MB).toFixed(1)} MB`],
      [`RSS after ${num(n)} distinct tokens verified and cached`, `${(rssEnd / MB).toFixed(1)} MB`],
      ['V8 heap used (nodejs_heap_size_used_bytes)', `${(heapUsed / MB).toFixed(1)} MB`],
      ['growth per cached token (RSS)', `${num((rssEnd - rssStart) / n)} bytes`],
    ];
    const text = `token_cache_size: ${num(n)}; ${num(n)} distinct ES256 tokens (${tokens[0].length} chars) sent once each over 50 connections.\n\n${mdTable(['measure', 'value'], rows)}`;
    const perToken = (rssEnd - rssStart) / n;
    const targets = quick
      ? []
      : [
          target('RSS ≤ 70 MB after start with the bundled config', rssBundled <= 70 * MB, `${(rssBundled / MB).toFixed(1)} MB`),
          target('≤ 1.2 KB RSS per cached token', perToken <= 1200, `${num(perToken)} bytes`),
        ];
    return { title: '4. Memory', text, targets, failures, data: { n, rssBundled, rssStart, rssEnd, heapUsed } };
  } finally {
    for (const s of started.reverse()) await s.stop().catch(() => {});
    await jwks.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
