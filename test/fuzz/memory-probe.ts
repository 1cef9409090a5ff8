/**
 * The measurement behind memory-bound.test.ts, run in its own plain Node process:
 * inside a tap test, tap's per-test async tracking grows the heap by itself (measured:
 * the same loop is flat at top level and grows ~11 MiB per 70k iterations inside
 * t.test, even with signing alone), which would hide or fake a leak.
 *
 * Usage: node --import @tapjs/typescript/import test/fuzz/memory-probe.ts <tokens> <cacheSize> <checkpoint>
 * Prints one JSON line: { baseline, warm, cacheAfterWarmUp, cacheAtEnd, samples: [{ n, heap, rate }], elapsedMs }.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createTokenVerifier } from '../../src/auth/verify.js';
import { createDecider } from '../../src/policy/decide.js';
import { testConfig } from '../helpers/config.js';
import { startJwksServer } from '../helpers/jwks-server.js';
import { generateKey, jwkOf } from '../helpers/keys.js';
import { signToken } from '../helpers/tokens.js';

const [tokens, cacheSize, checkpoint] = process.argv.slice(2).map(Number) as [number, number, number];
// Run by a directory-wide `tap test/fuzz` without arguments: nothing to measure (tap reports "no tests found").
if (!(tokens > 0 && cacheSize > 0 && checkpoint > 0)) process.exit(0);
const ISSUER = 'https://idp.memory.test/';
const AUD = 'https://api.example.com';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const key = generateKey('ed25519');
const jwks = await startJwksServer({ keys: [jwkOf(key)] });
const config = testConfig({ issuer: ISSUER, jwksUri: jwks.jwksUri, algorithms: ['EdDSA'], routes: ['GET /x: { auth: token }', 'GET /s: items:read'], authExtra: `  token_cache_size: ${cacheSize}` });
const verifier = createTokenVerifier(config.auth);
await verifier.start();
const decider = createDecider(config, verifier);
const now = Math.floor(Date.now() / 1000);

function run(from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const token = signToken(key, { iss: ISSUER, aud: AUD, sub: `u${i}`, scope: 'items:read', iat: now, exp: now + 3600, jti: i });
    const d = decider.decide('GET', i % 2 === 0 ? '/x' : '/s', ['Host', 'h', 'Authorization', `Bearer ${token}`]);
    if (d instanceof Promise || !d.allow) throw new Error(`token ${i} not allowed synchronously`);
  }
}

const started = Date.now();
const WARM_JIT = 2_000;
run(0, WARM_JIT); // JIT warm-up (sign, verify, decide) before the baseline
const baseline = heap();
run(WARM_JIT, WARM_JIT + cacheSize);
const warm = heap();
const cacheAfterWarmUp = verifier.cacheStats().size;
const samples: { n: number; heap: number; rate: number }[] = [];
for (let done = WARM_JIT + cacheSize; done < tokens; ) {
  const next = Math.min(tokens, done + checkpoint);
  run(done, next);
  done = next;
  samples.push({ n: done, heap: heap(), rate: Math.round(done / ((Date.now() - started) / 1000)) });
}
const cacheAtEnd = verifier.cacheStats().size;
await verifier.close();
await jwks.close();
process.stdout.write(JSON.stringify({ baseline, warm, cacheAfterWarmUp, cacheAtEnd, samples, elapsedMs: Date.now() - started }) + '\n');
