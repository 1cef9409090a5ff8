/**
 * µs per DPoP proof verification (src/auth/dpop.ts), one fresh proof per call, for
 * ES256, EdDSA and RS256, beside its parts: jose's jwtVerify with EmbeddedJWK alone,
 * calculateJwkThumbprint alone, and the node:crypto signature floor on the same bytes.
 * Sequential awaits, so this is latency on an idle loop, not throughput.
 *
 *   npm run build && node bench/dpop-proof.mjs [N]
 */
import { createPublicKey, verify as cryptoVerify, randomUUID, createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { createDpopVerifier } from '../dist/auth/dpop.js';
import { median } from './lib/measure.mjs';

const N = Number(process.argv[2] ?? 2000);
const ROUNDS = 5;
const HTU = 'https://api.example.com/orders/42';
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.' + 'a'.repeat(600) + '.c2ln';
const ath = createHash('sha256').update(TOKEN).digest('base64url');

async function mint(alg, count) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const jkt = await calculateJwkThumbprint(jwk);
  const proofs = [];
  for (let i = 0; i < count; i++) {
    proofs.push(await new SignJWT({ jti: randomUUID(), htm: 'GET', htu: HTU, iat: Math.floor(Date.now() / 1000), ath })
      .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk }).sign(privateKey));
  }
  return { jwk, jkt, proofs };
}

/**
 * `fn(proof)` over ROUNDS rounds of `proofs`: median wall µs per call, and median CPU
 * µs per call (user + system, every thread of the process, so the libuv pool threads
 * WebCrypto runs on count too). On a shared, loaded machine the CPU figure is the cost;
 * the wall figure adds the waits for a core.
 */
async function time(proofs, fn) {
  const wall = [];
  const cpu = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (const p of proofs) await fn(p, r);
    wall.push(Number(process.hrtime.bigint() - t0) / 1e3 / proofs.length);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / proofs.length);
  }
  return { wall: median(wall), cpu: median(cpu) };
}
const fmt = (m) => `${m.cpu.toFixed(1)} (${m.wall.toFixed(0)})`;

const rows = [];
for (const alg of ['ES256', 'EdDSA', 'RS256']) {
  const { jwk, jkt, proofs } = await mint(alg, N);
  // A fresh verifier per round: every proof is new to its replay cache.
  const verifiers = Array.from({ length: ROUNDS }, () => createDpopVerifier({
    origins: ['https://api.example.com'], algorithms: [alg], maxAgeS: 300, clockSkewS: 30, replayCacheSize: N * 2,
  }));
  const request = (p) => ({ proofs: [p], method: 'GET', path: '/orders/42', accessToken: TOKEN, jkt });
  // Warm-up round on a throwaway verifier.
  const warm = createDpopVerifier({ origins: ['https://api.example.com'], algorithms: [alg], maxAgeS: 300, clockSkewS: 30, replayCacheSize: N * 2 });
  for (const p of proofs) if (!(await warm.verify(request(p))).ok) throw new Error(`${alg}: proof refused`);

  const full = await time(proofs, (p, r) => verifiers[r].verify(request(p)));
  const joseOnly = await time(proofs, (p) => jwtVerify(p, EmbeddedJWK, { algorithms: [alg] }));
  const thumb = await time(proofs, () => calculateJwkThumbprint(jwk));
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const split = proofs.map((p) => { const i = p.lastIndexOf('.'); return [Buffer.from(p.slice(0, i)), Buffer.from(p.slice(i + 1), 'base64url')]; });
  const hash = alg === 'EdDSA' ? null : 'sha256';
  const keyInput = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key;
  let i = 0;
  const floor = await time(proofs, () => { const [d, s] = split[i++ % split.length]; return cryptoVerify(hash, d, keyInput, s); });
  rows.push({ alg, full, joseOnly, thumb, floor });
}

console.log(`node ${process.version}, ${N} proofs per round, median of ${ROUNDS} rounds; CPU µs per proof (wall µs)\n`);
console.log('| alg | verify() (all checks) | jose jwtVerify + EmbeddedJWK | calculateJwkThumbprint | node:crypto verify (floor) |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.alg} | ${fmt(r.full)} | ${fmt(r.joseOnly)} | ${fmt(r.thumb)} | ${fmt(r.floor)} |`);
