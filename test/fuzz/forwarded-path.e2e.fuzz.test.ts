/**
 * Fuzz, end to end: for every target the real `scopegate serve` forwards, the
 * upstream receives exactly the canonical path (what decide() matched) plus the
 * untouched query; for every target it refuses, the upstream receives nothing.
 * Raw sockets, so the target bytes are exactly the generated ones.
 *
 * Smaller budget than the in-process properties (each case is a real request):
 * FUZZ_E2E_RUNS, default 1000 (a long run derives it: FUZZ_RUNS / 100).
 */
import t from 'tap';
import fc from 'fast-check';
import { canonicalizeTarget } from '../../src/routes/normalize.js';
import { PathError } from '../../src/errors.js';
import { startWorld, get } from '../security/fixture.js';
import { SEED } from './runs.js';

const RUNS_E2E = Number(process.env.FUZZ_E2E_RUNS ?? Math.max(1000, Math.floor(Number(process.env.FUZZ_RUNS ?? 0) / 100)));

const PIECES = ['public', 'admin', 'a', 'x', '.', '..', '%2e', '%2E', '%2e%2e', '%2f', '%5C', '%3b', ';', '\\', '%41', '%61dmin', '%25', '%252f', '%C3%A9', '%c0%ae', '%00', '%', '~', ':', '@', '!', '*', "'", '(', '+', ',', '=', '$', '&', '"', '{', '|'];
const BENIGN = ['a', 'x', 'public', 'admin', '.', '..', '%2e', '%2E%2E', '%41', '%7e', 'a%20b', '%3A', '~', "a'b", 'a*b', '@', '%C3%A9', '1'];
const target = fc.tuple(
  fc.constantFrom('/public/', '/public/', '/', '//', '/admin/', '/api/items/'),
  fc.array(fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...PIECES) }, { weight: 3, arbitrary: fc.constantFrom(...BENIGN) }).map((p) => p + '/'), { maxLength: 6 }).map((segs) => segs.join('').replace(/\/$/, '')),
  fc.constantFrom('', '', '?a=1', '?x=/../admin', '?access_token=1', '#f', '?q=%2F;b'),
).map(([lead, parts, q]) => lead + parts + q);

t.test(`upstream path == canonical path for every forwarded target (${RUNS_E2E} runs)`, async (t) => {
  const w = await startWorld();
  t.teardown(() => w.close());
  let forwarded = 0;
  const started = Date.now();
  await fc.assert(
    fc.asyncProperty(target, async (tgt) => {
      const r = await w.probe(get(tgt));
      const c = canonicalizeTarget(tgt);
      if (r.first?.status === 200) {
        forwarded++;
        if (c instanceof PathError) throw new Error(`forwarded a target the canonicalizer refuses: ${tgt}`);
        if (r.delta.length !== 1) throw new Error(`expected one upstream request for ${tgt}, got ${r.delta.length}`);
        if (r.delta[0]?.url !== c.path + c.query) throw new Error(`${tgt}: upstream got ${r.delta[0]?.url}, canonical is ${c.path + c.query}`);
      } else if (r.delta.length !== 0) {
        throw new Error(`${tgt}: answered ${r.first?.status} but the upstream saw ${r.delta.length} request(s)`);
      }
      return true;
    }),
    SEED === undefined ? { numRuns: RUNS_E2E } : { numRuns: RUNS_E2E, seed: SEED },
  );
  t.ok(forwarded > 0, `positive control: ${forwarded} forwarded`);
  t.comment(`${RUNS_E2E} e2e runs in ${Date.now() - started} ms, ${forwarded} forwarded`);
});
