/** recordRequest(): one call, the request metrics and one access line that say the same thing. */
import { Writable } from 'node:stream';
import t from 'tap';
import { createRequestRecorder } from '../../../src/telemetry/access.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  let buf = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      buf += chunk.toString();
      cb();
    },
  });
  return { stream, lines: () => buf.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

t.test('a forwarded request: request and upstream histograms, and its access line', async (t) => {
  const out = capture();
  const metrics = createMetrics({ defaultMetrics: false });
  const record = createRequestRecorder(metrics, createLogger({ destination: out.stream }));
  record({ method: 'GET', route: '/orgs/:id', status: 200, reason: 'allowed', code: undefined, decisionSeconds: 0.0000123, upstreamMs: 3.25, totalMs: 4.5 });
  record({ method: 'PROPFIND', route: undefined, status: 404, reason: 'no_route', code: 'ERR_ROUTE_NOT_FOUND', decisionSeconds: 0.000002, upstreamMs: undefined, totalMs: 0.1 });
  await new Promise((r) => setImmediate(r));
  const text = await metrics.text();
  t.match(text, /scopegate_request_duration_seconds_count\{method="GET",route="\/orgs\/:id",status="200",listener="proxy"\} 1/);
  t.match(text, /scopegate_upstream_duration_seconds_count\{route="\/orgs\/:id"\} 1/);
  t.match(text, /scopegate_request_duration_seconds_count\{method="OTHER",route="unmatched",status="404",listener="proxy"\} 1/);
  t.notMatch(text, /scopegate_upstream_duration_seconds_count\{route="unmatched"\}/, 'no upstream time when nothing was forwarded');
  const [forwarded, denied] = out.lines();
  t.match(forwarded, { msg: 'request', method: 'GET', route: '/orgs/:id', status: 200, reason: 'allowed', decision_us: 12, upstream_ms: 3.25, total_ms: 4.5 });
  t.notOk(forwarded !== undefined && 'code' in forwarded, 'no code on a plain success');
  t.match(denied, { method: 'PROPFIND', route: 'unmatched', status: 404, reason: 'no_route', code: 'ERR_ROUTE_NOT_FOUND', decision_us: 2 });
  t.notOk(denied !== undefined && 'upstream_ms' in denied);
  t.not(forwarded?.['id'], denied?.['id'], 'each request has its own id');
});
