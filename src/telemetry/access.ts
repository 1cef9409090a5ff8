/**
 * One finished request, recorded once: the request-duration histogram, the
 * upstream histogram when the request was forwarded, and the access line.
 * Every response the proxy writes (denials, forwards, token info, the metadata
 * document, raw-socket answers) ends here, so the metrics and the access log
 * count the same requests with the same labels.
 */
import type { DecisionReason } from '../policy/decision.js';
import { accessLog, type Logger } from './logger.js';
import type { ListenerLabel, Metrics } from './metrics.js';

export interface RequestRecord {
  readonly method: string;
  /** Route template, or undefined when no route matched (the `unmatched` label). */
  readonly route: string | undefined;
  readonly status: number;
  readonly reason: DecisionReason;
  /** Machine code of a deny or a forwarding failure. */
  readonly code: string | undefined;
  /** The dispatch's own time, in seconds (0 when nothing was decided). */
  readonly decisionSeconds: number;
  /** Time to the upstream's response, when the request was forwarded. */
  readonly upstreamMs: number | undefined;
  readonly totalMs: number;
  /** Which listener answered (default `proxy`): the metrics label and the access line's `listener` field. */
  readonly listener?: ListenerLabel;
}

export type RecordRequest = (record: RequestRecord) => void;

let requestCounter = 0;
/** Cheap unique-enough request ids: process start (base36) + counter; no crypto on the hot path. */
const REQUEST_ID_PREFIX = `${Date.now().toString(36)}-`;

export function createRequestRecorder(metrics: Metrics, logger: Logger): RecordRequest {
  return function recordRequest(r: RequestRecord): void {
    const listener = r.listener ?? 'proxy';
    metrics.request(r.method, r.route, r.status, r.totalMs / 1000, listener);
    if (r.upstreamMs !== undefined && r.route !== undefined) metrics.upstream(r.route, r.upstreamMs / 1000);
    accessLog(logger, {
      id: REQUEST_ID_PREFIX + (++requestCounter).toString(36),
      method: r.method,
      route: r.route,
      status: r.status,
      reason: r.reason,
      code: r.code,
      decision_us: Math.round(r.decisionSeconds * 1e6),
      upstream_ms: r.upstreamMs,
      total_ms: r.totalMs,
      listener,
    });
  };
}
