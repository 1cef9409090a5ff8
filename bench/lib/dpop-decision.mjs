/**
 * decide() for a DPoP request (RFC 9449) beside the plain cached decision on the same route:
 * one DPoP-bound access token (cnf.jkt), verified once and cached, and a fresh proof every
 * iteration (new jti), which is what each real DPoP request costs. Sequential awaits (a DPoP
 * decision is asynchronous: jose verifies the proof), so this is per-request cost on an idle
 * loop; CPU µs counts every thread of the process.
 */
import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createTokenVerifier } from '../../dist/auth/verify.js';
import { compilePolicies, createDecider } from '../../dist/policy/decide.js';
import { loadConfigText } from '../../dist/config/load.js';
import { scopegateYaml } from './config.mjs';
import { median } from './measure.mjs';
import { mint } from './tokens.mjs';

const ORIGIN = 'https://api.bench.example';
const PATH = '/repos/octo/hello/issues';

async function proofKey() {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { jwk, privateKey, jkt: await calculateJwkThumbprint(jwk) };
}

/** `n` proofs for GET PATH bound to `token` (ath), each with its own jti. */
async function proofsFor({ jwk, privateKey }, token, n) {
  const ath = createHash('sha256').update(token).digest('base64url');
  const proofs = [];
  for (let i = 0; i < n; i++) {
    const claims = { jti: randomUUID(), htm: 'GET', htu: `${ORIGIN}${PATH}`, iat: Math.floor(Date.now() / 1000), ath };
    proofs.push(await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).sign(privateKey));
  }
  return proofs;
}

/** Rows [case, decider, decisions/s, CPU µs/op, wall µs/op] and data, plain cached vs DPoP cached + fresh proof. */
export async function measureDpopDecision({ routes, jwksUri, key, quick, failures }) {
  const n = quick ? 50 : 1000;
  const rounds = quick ? 2 : 5;
  const yaml = scopegateYaml({ routes, jwksUri, authExtra: `  dpop:\n    origins: [${JSON.stringify(ORIGIN)}]\n` });
  const { config } = loadConfigText(yaml, 'bench-dpop.yaml');
  if (config === undefined) throw new Error('bench DPoP config invalid');
  const compiled = compilePolicies(config);
  const verifier = createTokenVerifier(config.auth);
  await verifier.start();
  try {
    const plainToken = mint(key);
    const holder = await proofKey();
    const boundToken = mint(key, { cnf: { jkt: holder.jkt } });
    const proofs = await proofsFor(holder, boundToken, n);
    const plainHeaders = ['Host', 'api.bench.example', 'Authorization', `Bearer ${plainToken}`];
    const dpopHeaders = proofs.map((p) => ['Host', 'api.bench.example', 'Authorization', `DPoP ${boundToken}`, 'DPoP', p]);
    const samples = { plain: [], dpop: [] };
    const run = async (decide, headersAt) => {
      let ok = 0;
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) if ((await decide('GET', PATH, headersAt(i))).allow) ok++;
      const wall = Number(process.hrtime.bigint() - t0) / 1e3 / n;
      const c = process.cpuUsage(c0);
      return { ok, wall, cpu: (c.user + c.system) / n };
    };
    // Warm the token cache (both tokens verified once) and the JIT before the rounds.
    await run(createDecider(config, verifier, compiled).decide, () => plainHeaders);
    await run(createDecider(config, verifier, compiled).decide, (i) => dpopHeaders[i]);
    for (let r = 0; r < rounds; r++) {
      // A new decider per round: a new DPoP replay cache, so every proof is fresh to it.
      for (const [name, headersAt] of [['plain', () => plainHeaders], ['dpop', (i) => dpopHeaders[i]]]) {
        const res = await run(createDecider(config, verifier, compiled).decide, headersAt);
        if (res.ok !== n) failures.push(`decision ${name}: only ${res.ok}/${n} allowed`);
        samples[name].push(res);
      }
    }
    const med = (xs, k) => median(xs.map((x) => x[k]));
    const plain = { cpu: med(samples.plain, 'cpu'), wall: med(samples.plain, 'wall') };
    const dpop = { cpu: med(samples.dpop, 'cpu'), wall: med(samples.dpop, 'wall') };
    return { n, rounds, plain, dpop };
  } finally {
    await verifier.close();
  }
}
