/** FastHistogram exposes exactly what prom-client's Histogram would for the same observations. */
import t from 'tap';
import { Histogram, Registry } from 'prom-client';
import { FastHistogram } from '../../../src/telemetry/histogram.js';

t.test('same exposition text as prom-client for the same observations', async (t) => {
  const buckets = [0.000005, 0.001, 0.01, 0.1, 1];
  const ours = new Registry();
  const theirs = new Registry();
  const fast = new FastHistogram({ name: 'x_seconds', help: 'h', labelNames: ['method', 'route'], buckets, registers: [ours] });
  const reference = new Histogram({ name: 'x_seconds', help: 'h', labelNames: ['method', 'route'] as const, buckets, registers: [theirs] });
  const observations: Array<[string, string, number]> = [
    ['GET', '/a', 0.000005], // exactly on a bound: counted in that bucket (le is inclusive)
    ['GET', '/a', 0.0004],
    ['GET', '/a', 5], // past every bound: +Inf only
    ['POST', '/b/:id', 0.05],
    ['GET', '/a', 0],
  ];
  for (const [m, r, v] of observations) {
    fast.series(m, r).observe(v);
    reference.labels(m, r).observe(v);
  }
  t.equal(await ours.metrics(), await theirs.metrics());
});

t.test('a series is created once and reset clears it', async (t) => {
  const registry = new Registry();
  const h = new FastHistogram({ name: 'y', help: 'h', labelNames: ['a'], buckets: [1], registers: [registry] });
  t.equal(h.series('v'), h.series('v'), 'the same object for the same labels');
  h.series('v').observe(2);
  t.match(await registry.metrics(), /y_count\{a="v"\} 1/);
  registry.resetMetrics();
  t.notMatch(await registry.metrics(), /y_count/);
});
