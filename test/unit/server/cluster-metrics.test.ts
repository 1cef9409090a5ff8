/** The primary's /metrics: two workers' real registries merged (sums, and the state gauges that must not be summed). */
import t from 'tap';
import { aggregateMetrics } from '../../../src/server/cluster-metrics.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';

function line(text: string, prefix: string): string | undefined {
  return text.split('\n').find((l) => l.startsWith(prefix));
}

t.test('two workers merged', async (t) => {
  const a = createMetrics({ defaultMetrics: false });
  const b = createMetrics({ defaultMetrics: false });
  for (let i = 0; i < 3; i++) a.request('GET', '/r', 200, 0.001);
  for (let i = 0; i < 4; i++) b.request('GET', '/r', 200, 0.002);
  a.decision('allow', 'allowed', 1e-6);
  b.decision('allow', 'allowed', 1e-6);
  a.setReadySource(() => true);
  b.setReadySource(() => false);
  a.setConfigHash('a'.repeat(64));
  b.setConfigHash('a'.repeat(64));
  const text = await aggregateMetrics([await a.registry.getMetricsAsJSON(), await b.registry.getMetricsAsJSON()]).metrics();
  t.match(line(text, 'scopegate_request_duration_seconds_count{'), / 7$/, 'request counts summed (3 + 4)');
  t.match(line(text, 'scopegate_decisions_total{outcome="allow"'), / 2$/, 'decisions summed');
  t.match(line(text, 'scopegate_request_duration_seconds_bucket{le="0.001"'), / 3$/, 'histogram buckets summed per le');
  t.equal(line(text, 'scopegate_ready '), 'scopegate_ready 0', 'ready is the minimum: one worker not ready makes 0');
  t.equal(line(text, 'scopegate_config_info{'), `scopegate_config_info{hash="${'a'.repeat(12)}"} 1`, 'config_info stays 1, not 2');
  t.match(line(text, 'scopegate_build_info{'), / 1$/, 'build_info stays 1');
});
