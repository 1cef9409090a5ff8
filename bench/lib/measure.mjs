/**
 * Timing helpers. Every contender gets its own generated loop (new Function), so no call
 * site is shared between contenders and none goes megamorphic because of the harness.
 * Rounds alternate contenders (A B C A B C …) and the median round is reported, because
 * this machine is shared and noisy: only ratios measured in the same run mean anything.
 */

/** Median of numbers (copy, sort). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/**
 * A loop `(ops) => checksum` calling `call(a[i], b[i])` over parallel arrays, generated per contender.
 * @param {(a: any, b: any) => unknown} call
 * @param {any[]} as
 * @param {any[]} bs
 */
export function makeLoop(call, as, bs) {
  // eslint-disable-next-line no-new-func
  return new Function(
    'call',
    'as',
    'bs',
    `return function loop(iters) {
      let sum = 0;
      const n = as.length;
      for (let k = 0; k < iters; k++) {
        for (let i = 0; i < n; i++) {
          if (call(as[i], bs[i])) sum++;
        }
      }
      return sum;
    };`,
  )(call, as, bs);
}

/**
 * Run contenders in alternating rounds. Each contender: { name, loop(iters) → checksum, opsPerIter }.
 * Iterations per round are calibrated per contender to ~roundMs.
 * @returns {Map<string, { nsPerOp: number, opsPerSec: number, rounds: number[] }>}
 */
export function alternate(contenders, { rounds, roundMs, warmupMs }) {
  const now = () => process.hrtime.bigint();
  const calib = new Map();
  for (const c of contenders) {
    // Warm up (lets V8 optimize) and calibrate.
    let iters = 1;
    let spent = 0n;
    const limit = BigInt(Math.round(warmupMs * 1e6));
    while (spent < limit) {
      const t0 = now();
      c.loop(iters);
      const dt = now() - t0;
      spent += dt;
      if (dt < 5_000_000n) iters *= 2;
    }
    const t0 = now();
    c.loop(iters);
    const ns = Number(now() - t0) / iters;
    calib.set(c.name, Math.max(1, Math.round((roundMs * 1e6) / Math.max(ns, 1))));
  }
  const samples = new Map(contenders.map((c) => [c.name, []]));
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    for (const c of contenders) {
      const iters = calib.get(c.name);
      const t0 = now();
      sink += c.loop(iters);
      const ns = Number(now() - t0);
      samples.get(c.name).push(ns / (iters * c.opsPerIter));
    }
  }
  if (sink === -1) console.log('');
  const out = new Map();
  for (const c of contenders) {
    const xs = samples.get(c.name);
    const ns = median(xs);
    out.set(c.name, { nsPerOp: ns, opsPerSec: 1e9 / ns, rounds: xs });
  }
  return out;
}
