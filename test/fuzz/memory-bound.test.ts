/**
 * Memory bound: MEMORY_TOKENS distinct valid tokens through decide() keep the heap
 * bounded by the verified-token cache size (auth.token_cache_size) — measured, not guessed.
 *
 * The loop runs in a plain Node child (memory-probe.ts; why: see its header): EdDSA
 * tokens (fast to sign and verify), token_cache_size 10,000, heapUsed after a forced
 * full GC (--expose-gc set at runtime, gc() from a fresh context) once after JIT
 * warm-up (baseline), once the cache is full (warm), then every CHECKPOINT tokens.
 * The cache's footprint is warm − baseline; an unbounded cache would grow by that much
 * again per 10,000 tokens. Assertion: after warm-up the heap never grows by more than
 * half of one cache's footprint (+1 MiB of allocator noise), at every checkpoint.
 *
 * Count: MEMORY_TOKENS, default 200,000 in CI (~40 s of one core on the 2-core CI box,
 * ~5,000 tokens/s: signing is a quarter of it); `npm run fuzz` sets 1,000,000.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const TOKENS = Number(process.env.MEMORY_TOKENS ?? 200_000);
const CACHE = 10_000;
const CHECKPOINT = Math.min(100_000, Math.max(CACHE * 2, Math.floor(TOKENS / 10)));
const MiB = (n: number): string => `${(n / 1048576).toFixed(2)} MiB`;

interface ProbeResult {
  baseline: number;
  warm: number;
  cacheAfterWarmUp: number;
  cacheAtEnd: number;
  samples: { n: number; heap: number; rate: number }[];
  elapsedMs: number;
}

t.test(`${TOKENS} distinct tokens through decide(): heap bounded by the token cache (${CACHE})`, { timeout: Math.max(120_000, TOKENS / 2) }, async (t) => {
  const probe = fileURLToPath(new URL('./memory-probe.ts', import.meta.url));
  const loader = import.meta.resolve('@tapjs/typescript/import');
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [`--import=${loader}`, probe, String(TOKENS), String(CACHE), String(CHECKPOINT)], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
  const r = JSON.parse(out.trim().split('\n').pop() as string) as ProbeResult;
  const footprint = r.warm - r.baseline;
  t.equal(r.cacheAfterWarmUp, CACHE, 'cache full after warm-up');
  t.equal(r.cacheAtEnd, CACHE, 'the cache never exceeds its size');
  t.ok(footprint > 0, 'the cache footprint was measurable');
  t.comment(`baseline ${MiB(r.baseline)}; cache full ${MiB(r.warm)}: cache footprint ≈ ${MiB(footprint)} (${Math.round(footprint / CACHE)} B/entry)`);
  const bound = footprint / 2 + 1048576;
  let peak = r.warm;
  for (const s of r.samples) {
    peak = Math.max(peak, s.heap);
    t.comment(`${s.n} tokens: heapUsed ${MiB(s.heap)} (growth since warm-up ${MiB(s.heap - r.warm)}), ${s.rate} tokens/s`);
    t.ok(s.heap - r.warm < bound, `${s.n} tokens: growth ${MiB(s.heap - r.warm)} < bound ${MiB(bound)} (half a cache footprint + 1 MiB)`);
  }
  t.ok(r.samples.length > 0 && (r.samples.at(-1) as { n: number }).n === TOKENS, `all ${TOKENS} tokens decided`);
  t.comment(`${TOKENS} tokens in ${r.elapsedMs} ms; peak growth after warm-up ${MiB(peak - r.warm)}; an unbounded cache would have grown by ≈ ${MiB((footprint * (TOKENS - CACHE)) / CACHE)}`);
});
