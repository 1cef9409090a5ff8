/**
 * 2. Decision: scopegate's decide() alone (no I/O) vs a find-my-way + fast-jwt pipeline,
 * with a cached token and with a fresh token per request (RS256, ES256), and the crypto
 * floor: crypto.verify alone on the same tokens.
 */
import { verify as cryptoVerify } from 'node:crypto';
import { loadConfigText } from '../../dist/config/load.js';
import { createTokenVerifier } from '../../dist/auth/verify.js';
import { compilePolicies, createDecider } from '../../dist/policy/decide.js';
import { createPipeline } from '../adapters/decision/fastjwt-fmw.mjs';
import { scopegateYaml } from '../lib/config.mjs';
import { buildWorkload, loadGithubRoutes } from '../lib/github-routes.mjs';
import { alternate, makeLoop, median } from '../lib/measure.mjs';
import { measureDpopDecision } from '../lib/dpop-decision.mjs';
import { mdTable, num, ratio, target } from '../lib/report.mjs';
import { AUDIENCE, GRANTED, generateKey, mint, mintMany, startJwksServer, tamper } from '../lib/tokens.mjs';

/** A fresh string with the same characters: what the HTTP parser hands over for every request. */
const freshCopy = (s) => Buffer.from(s, 'latin1').toString('latin1');
const headersFor = (token) => ['Host', 'api.bench.example', 'User-Agent', 'bench', 'Authorization', `Bearer ${token}`];

export async function runDecision({ quick, log }) {
  const failures = [];
  const { routes } = loadGithubRoutes();
  const keys = { RS256: generateKey('RS256'), ES256: generateKey('ES256') };
  const jwks = await startJwksServer([keys.RS256, keys.ES256]);
  try {
    const loaded = loadConfigText(scopegateYaml({ routes, jwksUri: jwks.jwksUri }), 'bench-decision.yaml');
    if (!loaded.config) throw new Error(`bench config invalid: ${JSON.stringify(loaded.issues.slice(0, 3))}`);
    const config = loaded.config;
    const compiled = compilePolicies(config);
    const newScopegate = async () => {
      const verifier = createTokenVerifier(config.auth);
      await verifier.start();
      if (!verifier.ready()) throw new Error('scopegate verifier did not load the bench JWKS');
      const d = createDecider(config, verifier, compiled);
      const decide = (m, t, h) => {
        const r = d.decide(m, t, h);
        if (r instanceof Promise) throw new Error('decide() went async in the bench (JWKS fetch on the hot path?)');
        return r.allow ? 200 : r.status;
      };
      return { decide, close: () => verifier.close() };
    };

    // Requests: router-workload hits whose route scope the bench tokens grant (so every one is an allow).
    const granted = new Set(GRANTED);
    const scopeOf = new Map(routes.map((r) => [`${r.method} ${r.template}`, r.scope]));
    const hits = buildWorkload(routes, 3000, 7).filter((q) => q.expect && granted.has(scopeOf.get(`${q.method} ${q.expect.template}`)));
    const requests = hits.slice(0, quick ? 200 : 1000);

    // ---- correctness: both deciders, same verdicts on the same cases ----
    const rsTok = mint(keys.RS256);
    const cases = [
      ['valid RS256', 'GET', '/repos/o/r/issues', mint(keys.RS256), 200],
      ['valid ES256', 'GET', '/repos/o/r/issues', mint(keys.ES256), 200],
      ['tampered signature', 'GET', '/repos/o/r/issues', tamper(rsTok), 401],
      ['expired', 'GET', '/repos/o/r/issues', mint(keys.RS256, { exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 }), 401],
      ['wrong audience', 'GET', '/repos/o/r/issues', mint(keys.RS256, { aud: `${AUDIENCE}/other` }), 401],
      ['wrong issuer', 'GET', '/repos/o/r/issues', mint(keys.RS256, { iss: 'https://evil.example/' }), 401],
      ['missing scope', 'DELETE', '/orgs/acme', mint(keys.RS256), 403],
      ['no route', 'GET', '/nope/at/all', mint(keys.RS256), 404],
    ];
    const sgCheck = await newScopegate();
    const peersCheck = { RS256: createPipeline({ routes, key: keys.RS256, cache: true }), ES256: createPipeline({ routes, key: keys.ES256, cache: true }) };
    for (const [name, m, p, tok, want] of cases) {
      const a = sgCheck.decide(m, p, headersFor(tok));
      // The one-key peer sees an ES256 token only on its ES256 pipeline.
      const b = (name === 'valid ES256' ? peersCheck.ES256 : peersCheck.RS256)(m, p, headersFor(tok));
      if (a !== want) failures.push(`decision scopegate: ${name}: expected ${want}, got ${a}`);
      if (b !== want) failures.push(`decision fast-jwt+find-my-way: ${name}: expected ${want}, got ${b}`);
    }
    for (const q of requests) {
      if (sgCheck.decide(q.method, q.path, headersFor(rsTok)) !== 200) failures.push(`decision scopegate: ${q.method} ${q.path} not allowed`);
      if (peersCheck.RS256(q.method, q.path, headersFor(rsTok)) !== 200) failures.push(`decision peer: ${q.method} ${q.path} not allowed`);
      if (failures.length > 20) break;
    }
    await sgCheck.close();
    log(`  decision correctness: ${failures.length === 0 ? 'ok' : `${failures.length} failures`} (${cases.length} verdict cases + ${requests.length} allows, both deciders)`);
    if (failures.length > 0) return { title: '2. Decision', text: '(skipped: correctness failed)', targets: [], failures, data: {} };

    // ---- cached token: same token value, a fresh string per request ----
    const methods = requests.map((q) => q.method);
    const paths = requests.map((q) => q.path);
    const rows = [];
    const data = {};
    const cached = {};
    for (const alg of ['RS256', 'ES256']) {
      const tok = mint(keys[alg]);
      const hdrs = requests.map(() => headersFor(freshCopy(tok)));
      const sg = await newScopegate();
      const peer = createPipeline({ routes, key: keys[alg], cache: true });
      const sgDecide = sg.decide;
      const res = alternate(
        [
          { name: 'scopegate decide()', loop: makeLoop((i, h) => sgDecide(methods[i], paths[i], h) === 200, requests.map((_, i) => i), hdrs), opsPerIter: requests.length },
          { name: 'fast-jwt + find-my-way', loop: makeLoop((i, h) => peer(methods[i], paths[i], h) === 200, requests.map((_, i) => i), hdrs), opsPerIter: requests.length },
        ],
        quick ? { rounds: 3, roundMs: 10, warmupMs: 20 } : { rounds: 9, roundMs: 100, warmupMs: 200 },
      );
      await sg.close();
      const a = res.get('scopegate decide()');
      const b = res.get('fast-jwt + find-my-way');
      cached[alg] = a;
      rows.push([`cached ${alg}`, 'scopegate decide()', num(a.opsPerSec), num(a.nsPerOp, 0), ratio(b.nsPerOp / a.nsPerOp)]);
      rows.push([`cached ${alg}`, 'fast-jwt + find-my-way (fast-jwt cache on)', num(b.opsPerSec), num(b.nsPerOp, 0), '1.00×']);
      data[`cached ${alg}`] = { scopegate: a.nsPerOp, peer: b.nsPerOp };
    }

    // ---- fresh token every request: every contender gets a cold cache each round ----
    const n = quick ? 60 : 1500;
    const rounds = quick ? 2 : 5;
    const fresh = {};
    for (const alg of ['RS256', 'ES256']) {
      const t0 = Date.now();
      const tokens = mintMany(keys[alg], n);
      log(`  minted ${n} ${alg} tokens in ${Date.now() - t0} ms`);
      const hdrs = tokens.map((t) => headersFor(t));
      const reqAt = (i) => requests[i % requests.length];
      const signed = tokens.map((t) => {
        const dot = t.lastIndexOf('.');
        return { data: Buffer.from(t.slice(0, dot)), sig: Buffer.from(t.slice(dot + 1), 'base64url') };
      });
      const floorKey = alg === 'RS256' ? keys[alg].publicKey : { key: keys[alg].publicKey, dsaEncoding: 'ieee-p1363' };
      const samples = { sg: [], peer: [], floor: [] };
      const time = (fn) => {
        const s = process.hrtime.bigint();
        const ok = fn();
        const ns = Number(process.hrtime.bigint() - s) / n;
        if (ok !== n) failures.push(`decision fresh ${alg}: only ${ok}/${n} allowed`);
        return ns;
      };
      for (let r = 0; r < rounds; r++) {
        const sg = await newScopegate();
        const peer = createPipeline({ routes, key: keys[alg], cache: true });
        samples.sg.push(time(() => { let ok = 0; for (let i = 0; i < n; i++) { const q = reqAt(i); if (sg.decide(q.method, q.path, hdrs[i]) === 200) ok++; } return ok; }));
        samples.peer.push(time(() => { let ok = 0; for (let i = 0; i < n; i++) { const q = reqAt(i); if (peer(q.method, q.path, hdrs[i]) === 200) ok++; } return ok; }));
        samples.floor.push(time(() => { let ok = 0; for (let i = 0; i < n; i++) { if (cryptoVerify('sha256', signed[i].data, floorKey, signed[i].sig)) ok++; } return ok; }));
        await sg.close();
      }
      const a = median(samples.sg);
      const b = median(samples.peer);
      const f = median(samples.floor);
      fresh[alg] = { sg: a, floor: f };
      rows.push([`fresh ${alg}`, 'scopegate decide()', num(1e9 / a), num(a, 0), ratio(b / a)]);
      rows.push([`fresh ${alg}`, 'fast-jwt + find-my-way', num(1e9 / b), num(b, 0), '1.00×']);
      rows.push([`fresh ${alg}`, 'crypto.verify alone (floor)', num(1e9 / f), num(f, 0), ratio(b / f)]);
      rows.push([`fresh ${alg}`, '→ scopegate / floor', '', '', `${(a / f).toFixed(2)}× the floor's time`]);
      data[`fresh ${alg}`] = { scopegate: a, peer: b, floor: f };
    }
    // ---- DPoP: cached token + a fresh proof per request, beside the plain cached decision ----
    const dpop = await measureDpopDecision({ routes, jwksUri: jwks.jwksUri, key: keys.RS256, quick, failures });
    const dpopRows = [
      ['cached RS256, Bearer', num(1e6 / dpop.plain.wall), dpop.plain.cpu.toFixed(2), dpop.plain.wall.toFixed(2), '1.00×'],
      ['cached RS256 + fresh ES256 DPoP proof', num(1e6 / dpop.dpop.wall), dpop.dpop.cpu.toFixed(2), dpop.dpop.wall.toFixed(2), ratio(dpop.dpop.cpu / dpop.plain.cpu)],
    ];
    data.dpop = dpop;
    const text =
      `${requests.length} allowed requests on the GitHub table (GET/POST/… on repos, orgs, users, gists …), headers as Node's rawHeaders; ` +
      `"cached": one token value, a fresh string per request (as the HTTP parser hands it over); "fresh": ${n} distinct tokens, each used once, cold caches every round (median of ${rounds}).\n` +
      `Speed-up column: peer time / contender time (>1 = faster than the fast-jwt + find-my-way pipeline).\n\n` +
      mdTable(['case', 'decider', 'decisions/s', 'ns/op', 'speed-up vs peer'], rows) +
      `\n\nDPoP (RFC 9449): one GET route, the access token cached after its first verification; every DPoP request carries a new proof (new jti), which jose verifies (EmbeddedJWK) before ath, thumbprint and the replay cache. ` +
      `Awaited one at a time, ${dpop.n} decisions per round, median of ${dpop.rounds} rounds; CPU µs counts every thread of the process.\n\n` +
      mdTable(['case', 'decisions/s (wall)', 'CPU µs/op', 'wall µs/op', 'CPU × plain'], dpopRows);
    const targets = [
      target('decide() cached ≤ 1 µs median (RS256 token)', cached.RS256.nsPerOp <= 1000, `${num(cached.RS256.nsPerOp, 0)} ns`),
      target('verification of a fresh RS256 token ≤ 1.3× crypto.verify', fresh.RS256.sg <= 1.3 * fresh.RS256.floor, `${(fresh.RS256.sg / fresh.RS256.floor).toFixed(2)}× (whole decide(), route + parse + verify + cache insert)`),
      target('verification of a fresh ES256 token ≤ 1.3× crypto.verify', fresh.ES256.sg <= 1.3 * fresh.ES256.floor, `${(fresh.ES256.sg / fresh.ES256.floor).toFixed(2)}×`),
    ];
    return { title: '2. Decision', text, targets, failures, data };
  } finally {
    await jwks.close();
  }
}
