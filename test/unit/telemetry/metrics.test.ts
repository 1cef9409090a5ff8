import t from 'tap';
import { createMetrics, methodLabel } from '../../../src/telemetry/metrics.js';

t.test('every metric of the README metrics table is exported with its labels', async (t) => {
  const m = createMetrics({ defaultMetrics: false });
  m.request('GET', '/reports/:id', 200, 0.0042);
  m.request('PROPFIND', undefined, 404, 0.0001);
  m.decision('allow', 'allowed', 0.000007);
  m.decision('deny', 'insufficient_scope', 0.00002);
  m.upstream('/reports/:id', 0.003);
  m.upstreamError('ERR_UPSTREAM_TIMEOUT');
  m.jwksRefresh('https://idp.example.com/', 'success');
  m.setIssuerStateSource(() => [
    { issuer: 'https://idp.example.com/', loaded: true, keyCount: 2, ageSeconds: 12.5 },
    { issuer: 'https://other.example.com/', loaded: false, keyCount: 0, ageSeconds: undefined },
  ]);
  m.setTokenCacheSource(() => ({ hits: 41, misses: 3, size: 3 }));
  const text = await m.text();

  t.match(text, /scopegate_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/reports\/:id",status="200",listener="proxy"\} 1/);
  t.match(text, /scopegate_request_duration_seconds_count\{method="OTHER",route="unmatched",status="404",listener="proxy"\} 1/, 'unknown method → OTHER, no route → unmatched');
  t.match(text, /scopegate_decision_duration_seconds_bucket\{le="0\.000005",outcome="allow"\} 0/, 'µs-scale buckets from 5 µs');
  t.match(text, /scopegate_decision_duration_seconds_bucket\{le="0\.00001",outcome="allow"\} 1/);
  t.match(text, /scopegate_decision_duration_seconds_count\{outcome="deny"\} 1/);
  t.match(text, /scopegate_upstream_duration_seconds_count\{route="\/reports\/:id"\} 1/);
  t.match(text, /scopegate_decisions_total\{outcome="allow",reason="allowed",listener="proxy"\} 1/);
  t.match(text, /scopegate_decisions_total\{outcome="deny",reason="insufficient_scope",listener="proxy"\} 1/);
  t.match(text, /scopegate_decisions_total\{outcome="deny",reason="keys_unavailable",listener="proxy"\} 0/, 'every reason pre-created at 0');
  t.match(text, /scopegate_jwks_refresh_total\{issuer="https:\/\/idp\.example\.com\/",result="success"\} 1/);
  t.match(text, /scopegate_jwks_keys\{issuer="https:\/\/idp\.example\.com\/"\} 2/);
  t.match(text, /scopegate_jwks_keys\{issuer="https:\/\/other\.example\.com\/"\} 0/);
  t.match(text, /scopegate_jwks_age_seconds\{issuer="https:\/\/idp\.example\.com\/"\} 12\.5/);
  t.notMatch(text, /scopegate_jwks_age_seconds\{issuer="https:\/\/other/, 'no age before the first fetch');
  t.match(text, /scopegate_token_cache_hits_total 41/);
  t.match(text, /scopegate_token_cache_misses_total 3/);
  t.match(text, /scopegate_token_cache_entries 3/);
  t.match(text, /scopegate_upstream_errors_total\{code="ERR_UPSTREAM_TIMEOUT"\} 1/);
  t.notMatch(text, /process_cpu_seconds_total/, 'default metrics off when asked');
  t.match(m.contentType, /^text\/plain/);

  // scrape-time collectors follow the source, not a snapshot
  m.setTokenCacheSource(() => ({ hits: 50, misses: 3, size: 4 }));
  t.match(await m.text(), /scopegate_token_cache_hits_total 50/);
});

t.test('pre-bound children accumulate into the same series', async (t) => {
  const m = createMetrics({ defaultMetrics: false });
  for (let i = 0; i < 5; i++) m.request('POST', '/a', 201, 0.001);
  m.request('POST', '/a', 500, 0.001);
  const text = await m.text();
  t.match(text, /scopegate_request_duration_seconds_count\{method="POST",route="\/a",status="201",listener="proxy"\} 5/);
  t.match(text, /scopegate_request_duration_seconds_count\{method="POST",route="\/a",status="500",listener="proxy"\} 1/);
});

t.test('default Node metrics keep their standard names; instances do not clash', async (t) => {
  const a = createMetrics();
  const b = createMetrics();
  const text = await a.text();
  t.match(text, /^process_cpu_user_seconds_total /m);
  t.match(text, /^nodejs_heap_size_used_bytes /m);
  t.notMatch(text, /scopegate_process_/);
  t.match(await b.text(), /scopegate_request_duration_seconds/);
});

t.test('methodLabel', async (t) => {
  for (const m of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) t.equal(methodLabel(m), m);
  for (const m of ['PROPFIND', 'get', 'TRACE', 'CONNECT', '']) t.equal(methodLabel(m), 'OTHER');
});
