#!/usr/bin/env node
/**
 * Proves deploy/prometheus and deploy/grafana against a real Prometheus
 * scraping a real scopegate, all on 127.0.0.1:
 *
 *   1. promtool check rules + promtool test rules (Prometheus from Debian's
 *      `prometheus` package, apt-get installed when missing);
 *   2. a live `scopegate serve` (dist/ built first when missing) in front of an
 *      echo upstream (with a slow path → 504 and a resetting path → 502), with
 *      two issuers: one whose JWKS is served, one whose JWKS answers 500
 *      (→ JWKS failures, keys_unavailable 503s, an issuer with 0 keys);
 *   3. bounded load: allowed, 401 (missing and invalid token), 403, 404, 405,
 *      502, 503, 504 — at most MAX_REQUESTS requests and LOAD_MAX_MS ms;
 *   4. a config reload that succeeds and one that fails (when this build
 *      exports scopegate_config_reloads_total);
 *   5. Prometheus (1 s scrape and rule evaluation, its own temp TSDB) loads
 *      deploy/prometheus/scopegate-rules.yaml; every rule must evaluate
 *      without error, every recording rule must produce a series, and the
 *      alerts this run provokes must be pending or firing;
 *   6. every target of every dashboard panel, with $__rate_interval, $__range
 *      and the template variables substituted, is queried through the HTTP API
 *      and must return at least one series.
 *
 * Prints a panel → series table; exits 1 on any failure. Cleans up every
 * process and temp dir it started.
 *
 *   node scripts/ops/prove-dashboards.mjs [--allow-pending]
 *
 * --allow-pending (or SCOPEGATE_PROVE_ALLOW_PENDING=1): a panel whose metric
 * this build does not export at all is reported PENDING instead of failing.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigner } from 'fast-jwt';
import { REPO, cleanup, ensureDebianTool, freePort, log, run, sleep, spawnTracked, trackTempDir } from './lib.mjs';

const DASHBOARD = join(REPO, 'deploy/grafana/scopegate-dashboard.json');
const RULES = join(REPO, 'deploy/prometheus/scopegate-rules.yaml');
const RULE_TESTS = join(REPO, 'deploy/prometheus/scopegate-rules.test.yaml');
const CLI = join(REPO, 'dist/cli.js');

/** Load bounds: the whole run sends at most this many requests, for at most this long. */
const MAX_REQUESTS = 20_000;
const LOAD_MAX_MS = 120_000;
/** Pause between load rounds (one round ≈ 12 requests) → roughly 60 requests/s. */
const ROUND_PAUSE_MS = 200;
/**
 * scopegate's upstream timeout for this run; the echo upstream's /api/slow waits far longer → 504.
 * Far longer because undici enforces headersTimeout with coarse timers: measured here, a 300 ms
 * timeout fired after ~800 ms and a 1500 ms one after ~2000 ms.
 */
const UPSTREAM_TIMEOUT_MS = 300;
const SLOW_MS = 3_000;
/** Scrapes to wait for after load starts before querying (scrape interval 1 s). */
const WARMUP_SCRAPES = 12;
/** What Grafana would put for $__rate_interval with a 1 s scrape and a short range. */
const RATE_INTERVAL = '20s';
const JOB = 'scopegate';
const POD = 'scopegate-proof-0';
const NAMESPACE = 'proof';
const AUDIENCE = 'https://api.example.com';

const allowPending = process.argv.includes('--allow-pending') || process.env.SCOPEGATE_PROVE_ALLOW_PENDING === '1';
const failures = [];
let passed = 0;
const pass = () => void passed++;
const fail = (msg) => {
  failures.push(msg);
  log(`FAIL ${msg}`);
};

async function listen(server) {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${server.address().port}`;
}

function closeServer(server) {
  server.closeAllConnections?.();
  return new Promise((r) => server.close(() => r()));
}

async function getJson(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = await res.json();
  if (!res.ok || body.status !== 'success') throw new Error(`${url} → ${res.status} ${JSON.stringify(body).slice(0, 500)}`);
  return body.data;
}

async function waitFor(what, fn, timeoutMs = 20_000, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

function pad(s, n) {
  s = String(s);
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

async function main() {
  // ---- 1. promtool ----
  const promtool = ensureDebianTool('promtool', 'prometheus');
  const prometheus = ensureDebianTool('prometheus', 'prometheus');
  log(run(prometheus, ['--version']).stdout.split('\n')[0]);
  for (const args of [['check', 'rules', RULES], ['test', 'rules', RULE_TESTS]]) {
    const r = run(promtool, args, { allowFail: true });
    process.stdout.write(`$ promtool ${args.join(' ').replace(`${REPO}/`, '')}\n${r.stdout}${r.stderr}`);
    if (r.status !== 0) fail(`promtool ${args[0]} rules exited ${r.status}`);
    else pass();
  }

  // ---- 2. a live scopegate ----
  if (!existsSync(CLI)) {
    log('dist/cli.js missing: npm run build');
    run('npm', ['run', 'build'], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const dir = trackTempDir(mkdtempSync(join(tmpdir(), 'scopegate-prove-')));

  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `proof-${randomUUID().slice(0, 8)}`;
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] });
  const issuerServer = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    else res.writeHead(404).end();
  });
  // The second issuer's JWKS endpoint is "down": every fetch gets a 500.
  const downIssuerServer = createServer((_req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('jwks unavailable'));
  const upstreamServer = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/api/slow')) {
        const t = setTimeout(() => res.writeHead(200).end('late'), SLOW_MS);
        res.on('close', () => clearTimeout(t));
      } else if (req.url?.startsWith('/api/reset')) {
        req.socket.destroy();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      }
    });
  });
  const servers = [issuerServer, downIssuerServer, upstreamServer];
  const issuerUrl = `${await listen(issuerServer)}/`;
  const downIssuerUrl = `${await listen(downIssuerServer)}/`;
  const upstreamUrl = await listen(upstreamServer);

  const routes = [
    'GET /api/health: { auth: none }',
    'GET /api/me: { auth: token }',
    'GET /api/orgs: org:read',
    'GET /api/orgs/:orgId/projects: projects:read',
    'POST /api/projects: projects:write',
    'GET /api/slow: { auth: token }',
    'GET /api/reset: { auth: token }',
  ];
  const configYaml = (extraRoutes = []) => `version: 1
listen: 127.0.0.1:0
admin_listen: 127.0.0.1:0
upstream:
  url: ${upstreamUrl}
  timeout_ms: ${UPSTREAM_TIMEOUT_MS}
auth:
  issuers:
    - issuer: ${JSON.stringify(issuerUrl)}
      jwks_uri: ${JSON.stringify(`${issuerUrl}.well-known/jwks.json`)}
      audiences: [${JSON.stringify(AUDIENCE)}]
      algorithms: [RS256]
    - issuer: ${JSON.stringify(downIssuerUrl)}
      jwks_uri: ${JSON.stringify(`${downIssuerUrl}.well-known/jwks.json`)}
      audiences: [${JSON.stringify(AUDIENCE)}]
      algorithms: [RS256]
  jwks:
    cooldown_s: 1
    timeout_ms: 1000
routes:
${[...routes, ...extraRoutes].map((r) => `  ${r}`).join('\n')}
`;
  const configFile = join(dir, 'scopegate.yaml');
  // Replace the file the way a ConfigMap update does: write aside, rename over.
  const writeConfig = (text) => {
    writeFileSync(`${configFile}.tmp`, text);
    renameSync(`${configFile}.tmp`, configFile);
  };
  writeConfig(configYaml());
  const sidecar = spawnTracked(process.execPath, [CLI, 'serve', '--config', configFile], { cwd: REPO });
  const started = await waitFor(
    'scopegate started',
    async () => {
      if (sidecar.exitCode !== null) throw new Error(`scopegate exited ${sidecar.exitCode}: ${sidecar.output.join('')}`);
      for (const line of sidecar.output.join('').split('\n')) {
        try {
          const j = JSON.parse(line);
          if (j.msg === 'scopegate started') return j;
        } catch {}
      }
      return undefined;
    },
    15_000,
    100,
  );
  const proxyUrl = String(started.listen);
  const adminUrl = String(started.admin);
  const admin = new URL(adminUrl);
  log(`scopegate: proxy ${proxyUrl}, admin ${adminUrl}`);

  const signerFor = (iss) =>
    createSigner({ key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), algorithm: 'RS256', kid, iss, aud: AUDIENCE, expiresIn: 600_000 });
  const sign = signerFor(issuerUrl);
  const signDown = signerFor(downIssuerUrl);
  const reader = sign({ sub: 'reader', scope: 'org:read projects:read' });
  const downToken = signDown({ sub: 'someone', scope: 'org:read' });

  // ---- 3. bounded load, running until the queries are done ----
  let sent = 0;
  const statuses = new Map();
  let stopLoad = false;
  const loadStart = Date.now();
  async function req(method, path, token) {
    if (sent >= MAX_REQUESTS) return;
    sent++;
    try {
      const res = await fetch(`${proxyUrl}${path}`, {
        method,
        headers: token ? { authorization: `Bearer ${token}` } : {},
        signal: AbortSignal.timeout(5_000),
      });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    } catch {
      statuses.set('error', (statuses.get('error') ?? 0) + 1);
    }
  }
  const slowInFlight = new Set();
  const load = (async () => {
    let round = 0;
    while (!stopLoad && sent < MAX_REQUESTS && Date.now() - loadStart < LOAD_MAX_MS) {
      round++;
      // A fresh token now and then: verified-token cache misses beside the hits.
      const token = round % 5 === 0 ? sign({ sub: `user-${round}`, scope: 'org:read projects:read' }) : reader;
      await Promise.all([
        req('GET', '/api/orgs', token), // 200 allowed
        req('GET', `/api/orgs/${round}/projects`, token), // 200
        req('GET', '/api/me', token), // 200
        req('GET', '/api/health'), // 200, auth none
        req('GET', '/api/orgs'), // 401 missing_token
        req('GET', '/api/orgs', 'not.a.jwt'), // 401 invalid_token
        req('POST', '/api/projects', token), // 403 insufficient_scope
        req('GET', '/api/nowhere', token), // 404 no_route
        req('DELETE', '/api/orgs', token), // 405 method_not_allowed
        req('GET', '/api/orgs', downToken), // 503 keys_unavailable (issuer whose JWKS is down)
        req('GET', '/api/reset', token), // 502 upstream reset
      ]);
      // 504 upstream timeout: not awaited by the round (it takes ~1 s), at most one in flight.
      if (slowInFlight.size === 0) {
        const p = req('GET', '/api/slow', token).finally(() => slowInFlight.delete(p));
        slowInFlight.add(p);
      }
      await sleep(ROUND_PAUSE_MS);
    }
  })();

  // ---- 5a. Prometheus, its own TSDB, 1 s scrape, our rules ----
  const promPort = await freePort();
  const promUrl = `http://127.0.0.1:${promPort}`;
  const promDir = trackTempDir(mkdtempSync(join(tmpdir(), 'scopegate-prom-')));
  const promConfig = join(promDir, 'prometheus.yml');
  writeFileSync(
    promConfig,
    `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - ${JSON.stringify(RULES)}
scrape_configs:
  - job_name: ${JOB}
    metrics_path: /metrics
    static_configs:
      - targets: ["${admin.host}"]
        labels: { pod: ${POD}, namespace: ${NAMESPACE} }
`,
  );
  const prom = spawnTracked(prometheus, [
    `--config.file=${promConfig}`,
    `--storage.tsdb.path=${join(promDir, 'data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
    '--log.level=warn',
  ]);
  await waitFor('Prometheus ready', async () => {
    if (prom.exitCode !== null) throw new Error(`prometheus exited ${prom.exitCode}: ${prom.output.join('')}`);
    const r = await fetch(`${promUrl}/-/ready`).catch(() => undefined);
    return r?.ok;
  });
  const promStart = Date.now();
  log(`Prometheus ready on ${promUrl}`);
  const query = (expr) => getJson(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);

  await waitFor('scopegate target up', async () => {
    const r = await query(`up{job="${JOB}"} == 1`);
    return r.result.length > 0;
  });

  // ---- 4. config reloads (hot reload builds only) ----
  const exported = await (await fetch(`${adminUrl}/metrics`)).text();
  const families = new Set([...exported.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
  let reloadNote = 'this build exports no scopegate_config_reloads_total: reload panels not exercised';
  if (families.has('scopegate_config_reloads_total')) {
    const reloads = async () => {
      const text = await (await fetch(`${adminUrl}/metrics`)).text();
      const get = (result) => Number(new RegExp(`^scopegate_config_reloads_total\\{[^}]*result="${result}"[^}]*\\} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
      return { success: get('success'), failure: get('failure') };
    };
    const before = await reloads();
    // One that applies (a new route), then one that fails (invalid YAML), then a good one again.
    const cause = async (text, key) => {
      const base = (await reloads())[key];
      writeConfig(text);
      try {
        await waitFor(`config reload ${key} (file watch)`, async () => (await reloads())[key] > base, 3_000);
      } catch {
        log(`no ${key} reload from the file watch within 3 s: sending SIGHUP`);
        sidecar.kill('SIGHUP');
        await waitFor(`config reload ${key} (SIGHUP)`, async () => (await reloads())[key] > base, 5_000);
      }
    };
    try {
      await cause(configYaml(['GET /api/reloaded: { auth: token }']), 'success');
      await cause('version: 1\nroutes: [this is not a route table\n', 'failure');
      // Not the same text as the first: a reload to the config already serving is 'unchanged', not counted.
      await cause(configYaml(['GET /api/reloaded: { auth: token }', 'GET /api/reloaded/again: { auth: token }']), 'success');
      const after = await reloads();
      reloadNote = `config reloads caused: success ${after.success - before.success}, failure ${after.failure - before.failure}`;
    } catch (err) {
      fail(`could not cause config reloads: ${err.message}\n${sidecar.output.join("").split("\n").filter((l) => /reload|config/.test(l)).slice(-5).join("\n")}`);
    }
  }
  log(reloadNote);

  // Let a few scrapes and rule evaluations see all of it.
  await sleep(WARMUP_SCRAPES * 1000);
  const loadElapsed = Date.now() - loadStart;

  // ---- 5b. rules: healthy, recording rules produce series, provoked alerts active ----
  const rulesData = await getJson(`${promUrl}/api/v1/rules`);
  const ruleRows = [];
  for (const g of rulesData.groups) {
    for (const r of g.rules) {
      if (r.health !== 'ok') fail(`rule ${r.name ?? r.record}: health ${r.health} ${r.lastError ?? ''}`);
      else pass();
      if (r.type === 'recording') {
        const n = (await query(r.name)).result.length;
        ruleRows.push([`record ${r.name}`, n, n > 0 ? 'ok' : 'NO DATA']);
        if (n === 0) fail(`recording rule ${r.name} produced no series`);
        else pass();
      } else {
        ruleRows.push([`alert ${r.name}`, r.alerts?.length ?? 0, r.state]);
      }
    }
  }
  // Alerts this run provokes on purpose (pending while `for` runs, or firing).
  const provoked = ['ScopegateNotReady', 'ScopegateJWKSRefreshFailing', 'ScopegateHigh5xxRatio'];
  if (families.has('scopegate_config_reloads_total')) provoked.push('ScopegateConfigReloadFailed');
  const active = new Map((await getJson(`${promUrl}/api/v1/alerts`)).alerts.map((a) => [a.labels.alertname, a.state]));
  for (const name of provoked) {
    if (!active.has(name)) fail(`alert ${name} was provoked but is neither pending nor firing`);
    else pass();
  }

  // ---- 6. every dashboard panel target ----
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'));
  const rangeS = Math.max(60, Math.ceil((Date.now() - promStart) / 1000));
  const substitute = (expr) =>
    expr
      .replaceAll('$__rate_interval', RATE_INTERVAL)
      .replaceAll('$__interval', '1s')
      .replaceAll('$__range', `${rangeS}s`)
      .replaceAll('$job', JOB)
      .replaceAll('$namespace', '.*')
      .replaceAll('$pod', '.*');
  const panels = [];
  const walk = (list) => {
    for (const p of list ?? []) {
      if (p.type === 'row') walk(p.panels);
      else panels.push(p);
    }
  };
  walk(dashboard.panels);
  // Structure: what Grafana needs to import it and what the panels promise.
  const structural = [
    ['a `datasource` variable of type datasource (prometheus)', dashboard.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource' && v.query === 'prometheus')],
    ['`job` and `pod` variables', ['job', 'pod'].every((n) => dashboard.templating.list.some((v) => v.name === n))],
    ['unique panel ids', new Set(dashboard.panels.map((p) => p.id)).size === dashboard.panels.length],
    ['every panel and target uses ${datasource}', panels.every((p) => p.datasource?.uid === '${datasource}' && p.targets.every((t) => t.datasource?.uid === '${datasource}'))],
    ['every target has an expr and a unique refId', panels.every((p) => p.targets.length > 0 && p.targets.every((t) => t.expr) && new Set(p.targets.map((t) => t.refId)).size === p.targets.length)],
    ['every target selects job, namespace and pod', panels.every((p) => p.targets.every((t) => ['$job', '$namespace', '$pod'].every((v) => t.expr.includes(v))))],
    [
      'no overlapping panels',
      dashboard.panels.every((a, i) =>
        dashboard.panels.every((b, j) => j <= i || a.gridPos.x + a.gridPos.w <= b.gridPos.x || b.gridPos.x + b.gridPos.w <= a.gridPos.x || a.gridPos.y + a.gridPos.h <= b.gridPos.y || b.gridPos.y + b.gridPos.h <= a.gridPos.y),
      ),
    ],
  ];
  for (const [what, ok] of structural) {
    if (!ok) fail(`dashboard: ${what}`);
    else pass();
  }
  // Template variable queries too: label_values(metric{…}, label) → series of metric{…}.
  const varRows = [];
  for (const v of dashboard.templating.list.filter((t) => t.type === 'query')) {
    const m = /^label_values\((.*),\s*(\w+)\)$/.exec(v.definition);
    if (!m) {
      fail(`variable ${v.name}: unsupported query ${v.definition}`);
      continue;
    }
    const r = await query(`count by (${m[2]}) (${substitute(m[1])})`);
    const values = r.result.map((s) => s.metric[m[2]] ?? '(none)');
    varRows.push([`$${v.name}`, values.length, values.join(', ')]);
    if (values.length === 0 && v.name !== 'namespace') fail(`variable ${v.name} has no values`);
    else pass();
  }

  const rows = [];
  for (const p of panels) {
    for (const t of p.targets) {
      const expr = substitute(t.expr);
      const metrics = [...new Set(expr.match(/\b(scopegate_[a-z_]+|process_[a-z_]+|nodejs_[a-z_]+)/g) ?? [])].map((n) =>
        n.replace(/_(bucket|count|sum)$/, ''),
      );
      let result;
      try {
        result = (await query(expr)).result;
      } catch (err) {
        rows.push([p.title, t.refId, 'ERROR', err.message.slice(0, 80)]);
        fail(`panel "${p.title}" ${t.refId}: ${err.message}`);
        continue;
      }
      const finite = result.filter((s) => Number.isFinite(Number(s.value[1]))).length;
      if (result.length > 0) {
        pass();
        rows.push([p.title, t.refId, result.length, `${finite} finite`]);
        continue;
      }
      const missing = metrics.filter((n) => !families.has(n));
      if (missing.length > 0 && allowPending) {
        rows.push([p.title, t.refId, 'PENDING', `not exported by this build: ${missing.join(', ')}`]);
      } else {
        rows.push([p.title, t.refId, 0, missing.length > 0 ? `not exported by this build: ${missing.join(', ')}` : 'NO DATA']);
        fail(`panel "${p.title}" ${t.refId}: empty result for ${expr}`);
      }
    }
  }

  stopLoad = true;
  await load;
  await Promise.all(slowInFlight);
  for (const status of [200, 401, 403, 404, 405, 502, 503, 504]) {
    if (!statuses.has(status)) fail(`the load caused no ${status}`);
    else pass();
  }

  // ---- report ----
  const w = Math.max(...rows.map((r) => r[0].length), ...ruleRows.map((r) => r[0].length)) + 2;
  let out = '\n';
  out += `load: ${sent} requests in ${(loadElapsed / 1000).toFixed(1)} s; status counts ${JSON.stringify(Object.fromEntries([...statuses].sort()))}\n`;
  out += `${reloadNote}\n\n`;
  out += `${pad('dashboard panel', w)} ${pad('ref', 4)} ${pad('series', 8)} note\n${'-'.repeat(w + 40)}\n`;
  for (const r of rows) out += `${pad(r[0], w)} ${pad(r[1], 4)} ${pad(r[2], 8)} ${r[3]}\n`;
  out += `\n${pad('template variable', w)} ${pad('values', 13)} \n${'-'.repeat(w + 40)}\n`;
  for (const r of varRows) out += `${pad(r[0], w)} ${pad(r[1], 13)} ${r[2]}\n`;
  out += `\n${pad('rule (live Prometheus)', w)} ${pad('series/alerts', 13)} state\n${'-'.repeat(w + 40)}\n`;
  for (const r of ruleRows) out += `${pad(r[0], w)} ${pad(r[1], 13)} ${r[2]}\n`;
  const targets = rows.length;
  const withData = rows.filter((r) => typeof r[2] === 'number' && r[2] > 0).length;
  out += `\n${withData}/${targets} panel targets returned data; ${failures.length} failure(s)\n`;
  process.stdout.write(out);

  await Promise.all(servers.map(closeServer));
}

let code = 0;
try {
  await main();
} catch (err) {
  fail(err instanceof Error ? err.stack ?? err.message : String(err));
} finally {
  await cleanup();
}
if (failures.length > 0) {
  process.stdout.write(`\nFAILED:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
  code = 1;
} else {
  process.stdout.write('prove-dashboards: all checks passed\n');
}
process.stdout.write(`prove-dashboards: ${passed} passed, ${failures.length} failed\n`);
process.exit(code);
