/**
 * decide() before and after the JOSE library change, side by side in one process:
 * "before" is a git ref (default `main`: signatures and claims checked by hand on
 * node:crypto) built into a temporary directory, "after" is this checkout's dist/
 * (fast-jwt verifies, jose imports). Same config, same keys, same tokens, same requests.
 *
 *   npm run build && node bench/jose-before-after.mjs [--ref main] [--quick]
 *
 * Cases: a cached token (the verified-token cache answers) and a fresh token per request
 * (every decision verifies a signature), RS256 and ES256. Both builds alternate round by
 * round (which goes first alternates too); the fresh case gives each build a new verifier
 * (cold caches) every round. Reported: median CPU time per decision, ratio = after /
 * before (> 1 = after is slower).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { scopegateYaml } from './lib/config.mjs';
import { makeLoop, median } from './lib/measure.mjs';
import { mdTable, num } from './lib/report.mjs';
import { generateKey, mint, mintMany, startJwksServer } from './lib/tokens.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const ref = args.includes('--ref') ? args[args.indexOf('--ref') + 1] : 'main';

/** Build `ref`'s sources into a temporary directory (once per commit), sharing this checkout's node_modules. */
function buildBefore() {
  const sha = execFileSync('git', ['-C', root, 'rev-parse', ref], { encoding: 'utf8' }).trim();
  const dir = join(tmpdir(), `scopegate-before-${sha.slice(0, 12)}`);
  if (existsSync(join(dir, 'dist', 'auth', 'verify.js'))) return { dir, sha };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `git -C "${root}" archive ${sha} src tsconfig.json package.json | tar -x -C "${dir}"`]);
  symlinkSync(realpathSync(join(root, 'node_modules')), join(dir, 'node_modules'));
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { stdio: 'inherit' });
  return { dir, sha };
}

async function loadBuild(distDir) {
  const at = (p) => import(pathToFileURL(join(distDir, p)).href);
  const [{ loadConfigText }, { createTokenVerifier }, { compilePolicies, createDecider }] = await Promise.all([
    at('config/load.js'),
    at('auth/verify.js'),
    at('policy/decide.js'),
  ]);
  return { loadConfigText, createTokenVerifier, compilePolicies, createDecider };
}

/**
 * A small GitHub-like table (the full one needs bench/'s own install): the router is the
 * same code in both builds, only verification changed, so the table size does not matter here.
 */
const routes = [
  ['GET', '/repos/:owner/:repo', 'repos:read'],
  ['GET', '/repos/:owner/:repo/issues', 'repos:read'],
  ['GET', '/repos/:owner/:repo/issues/:number', 'repos:read'],
  ['POST', '/repos/:owner/:repo/issues', 'repos:write'],
  ['GET', '/repos/:owner/:repo/pulls/:number/files', 'repos:read'],
  ['GET', '/orgs/:org', 'orgs:read'],
  ['GET', '/orgs/:org/members', 'orgs:read'],
  ['DELETE', '/orgs/:org', 'orgs:write'],
  ['GET', '/users/:username', 'users:read'],
  ['GET', '/user', 'user:read'],
  ['GET', '/gists/:gist_id', 'gists:read'],
  ['GET', '/notifications', 'notifications:read'],
].map(([method, template, scope]) => ({ method, template, scope }));
const REQUESTS = [
  ['GET', '/repos/acme/api'],
  ['GET', '/repos/acme/api/issues'],
  ['GET', '/repos/acme/api/issues/42'],
  ['POST', '/repos/acme/api/issues'],
  ['GET', '/repos/acme/web/pulls/7/files'],
  ['GET', '/orgs/acme'],
  ['GET', '/orgs/acme/members'],
  ['GET', '/users/octocat'],
  ['GET', '/user'],
  ['GET', '/gists/aa5a315d61ae9438b18d'],
  ['GET', '/notifications'],
].map(([method, path]) => ({ method, path }));

const headersFor = (token) => ['Host', 'api.bench.example', 'User-Agent', 'bench', 'Authorization', `Bearer ${token}`];
/** A fresh string with the same characters: what the HTTP parser hands over for every request. */
const freshCopy = (s) => Buffer.from(s, 'latin1').toString('latin1');

/**
 * CPU time (user + system) of `fn` per operation, in ns. CPU time, not wall time: on a
 * shared machine wall time mostly measures the other processes; CPU time does not count
 * the time this process waits for a core (cache and frequency effects remain).
 */
function cpuNsPerOp(fn, ops) {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / ops;
}

async function deciderOf(build, config, compiled) {
  const verifier = build.createTokenVerifier(config.auth);
  await verifier.start();
  if (!verifier.ready()) throw new Error('verifier did not load the bench JWKS');
  const d = build.createDecider(config, verifier, compiled);
  const decide = (m, p, h) => {
    const r = d.decide(m, p, h);
    if (r instanceof Promise) throw new Error('decide() went async (JWKS fetch on the hot path?)');
    return r.allow ? 200 : r.status;
  };
  return { decide, close: () => verifier.close() };
}

async function main() {
  const before = buildBefore();
  const builds = { before: await loadBuild(join(before.dir, 'dist')), after: await loadBuild(join(root, 'dist')) };
  const keys = { RS256: generateKey('RS256'), ES256: generateKey('ES256') };
  const jwks = await startJwksServer([keys.RS256, keys.ES256]);
  const requests = REQUESTS;
  const setups = {};
  for (const [name, build] of Object.entries(builds)) {
    const loaded = build.loadConfigText(scopegateYaml({ routes, jwksUri: jwks.jwksUri }), 'bench-jose.yaml');
    if (!loaded.config) throw new Error(`${name}: bench config invalid: ${JSON.stringify(loaded.issues.slice(0, 3))}`);
    setups[name] = { build, config: loaded.config, compiled: build.compilePolicies(loaded.config) };
  }
  const decider = (name) => deciderOf(setups[name].build, setups[name].config, setups[name].compiled);
  const rows = [];
  try {
    for (const alg of ['RS256', 'ES256']) rows.push(await cached(alg, keys[alg], requests, decider));
    for (const alg of ['RS256', 'ES256']) rows.push(await fresh(alg, keys[alg], requests, decider));
  } finally {
    await jwks.close();
  }
  console.log(`before = ${ref} (${before.sha.slice(0, 12)}, built in ${before.dir}); after = ${root}/dist`);
  console.log(`${requests.length} allowed requests on ${routes.length} GitHub-like routes; median CPU ns per decision; ratio = after / before (> 1.00 = after slower)\n`);
  console.log(mdTable(['case', 'before ns/op', 'after ns/op', 'ratio'], rows));
}

async function cached(alg, key, requests, decider) {
  const tok = mint(key);
  const hdrs = requests.map(() => headersFor(freshCopy(tok)));
  const idx = requests.map((_, i) => i);
  const b = await decider('before');
  const a = await decider('after');
  const loopOf = (d) => makeLoop((i, h) => d.decide(requests[i].method, requests[i].path, h) === 200, idx, hdrs);
  const loops = { before: loopOf(b), after: loopOf(a) };
  const iters = quick ? 200 : 4000;
  for (const loop of Object.values(loops)) loop(iters / 4); // warm-up: let V8 optimize both
  const samples = { before: [], after: [] };
  for (let r = 0; r < (quick ? 3 : 9); r++) {
    for (const name of r % 2 === 0 ? ['before', 'after'] : ['after', 'before']) {
      samples[name].push(cpuNsPerOp(() => loops[name](iters), iters * requests.length));
    }
  }
  await b.close();
  await a.close();
  const x = median(samples.before);
  const y = median(samples.after);
  return [`cached ${alg}`, num(x, 0), num(y, 0), (y / x).toFixed(2)];
}

async function fresh(alg, key, requests, decider) {
  const n = quick ? 60 : 800;
  const rounds = quick ? 2 : 7;
  const hdrs = mintMany(key, n).map(headersFor);
  const samples = { before: [], after: [] };
  for (let r = 0; r < rounds; r++) {
    // Alternate which build goes first, so neither always runs on a warmer CPU.
    for (const name of r % 2 === 0 ? ['before', 'after'] : ['after', 'before']) {
      const d = await decider(name);
      let ok = 0;
      samples[name].push(
        cpuNsPerOp(() => {
          for (let i = 0; i < n; i++) {
            const q = requests[i % requests.length];
            if (d.decide(q.method, q.path, hdrs[i]) === 200) ok++;
          }
        }, n),
      );
      await d.close();
      if (ok !== n) throw new Error(`fresh ${alg} ${name}: only ${ok}/${n} allowed`);
    }
  }
  const x = median(samples.before);
  const y = median(samples.after);
  return [`fresh ${alg}`, num(x, 0), num(y, 0), (y / x).toFixed(2)];
}

await main();
