/**
 * The primary's /metrics with `workers: N`: every worker's registry (and the
 * primary's own) merged by prom-client's cluster aggregation
 * (AggregatorRegistry.aggregate). Counters and histograms are summed, which is
 * what a scrape of one process with all the traffic would show. A few gauges
 * describe state rather than amounts; summing those would say nothing true,
 * so they are merged as written below.
 */
import { AggregatorRegistry, type Aggregator, type Registry } from 'prom-client';
import type { WorkerMetrics } from './cluster-messages.js';

const AGGREGATE_BY: Readonly<Record<string, Aggregator>> = {
  // 1 only while every worker is ready: the same answer as the primary's /readyz.
  scopegate_ready: 'min',
  // Always 1 per label set; after a reload that some workers have not applied, both hashes show.
  scopegate_config_info: 'max',
  scopegate_build_info: 'max',
  // The worst worker: the fewest keys loaded, the oldest key set.
  scopegate_jwks_keys: 'min',
  scopegate_jwks_age_seconds: 'max',
};

/** One registry whose exposition is the sum (or the merge above) of every process's metrics. */
export function aggregateMetrics(perProcess: readonly WorkerMetrics[]): Registry {
  const marked = perProcess.map((metrics) => metrics.map((m) => (m.name in AGGREGATE_BY ? { ...m, aggregator: AGGREGATE_BY[m.name]! } : m)));
  return AggregatorRegistry.aggregate(marked);
}
