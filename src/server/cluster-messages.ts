/**
 * What the primary and its workers say to each other over the cluster IPC
 * channel (README, "Workers"). Every type starts with `scopegate:` so that
 * other users of the channel (prom-client's own cluster messages, if anything
 * ever sends them) are told apart and ignored.
 */
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** One worker's metrics as prom-client's getMetricsAsJSON() gives them. */
export type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

export type WorkerMessage =
  /** Listening: the addresses it is bound to (the same for every worker). */
  | { readonly type: 'scopegate:started'; readonly url: string; readonly authzUrl: string | undefined }
  /** Sent at start and whenever the answer changes. */
  | { readonly type: 'scopegate:readiness'; readonly ready: boolean; readonly reason?: string }
  | { readonly type: 'scopegate:metrics'; readonly requestId: number; readonly metrics?: WorkerMetrics; readonly error?: string };

export type PrimaryMessage =
  | { readonly type: 'scopegate:drain'; readonly reason: string }
  | { readonly type: 'scopegate:reload'; readonly trigger: string }
  | { readonly type: 'scopegate:metrics?'; readonly requestId: number };

function hasScopegateType(m: unknown): m is { readonly type: string } {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('scopegate:');
}

/** Messages come from our own processes; the check only keeps foreign messages out. */
export const isWorkerMessage = (m: unknown): m is WorkerMessage => hasScopegateType(m);
export const isPrimaryMessage = (m: unknown): m is PrimaryMessage => hasScopegateType(m);
