/**
 * One finished request, recorded once: the request-duration histogram, the
 * upstream histogram when the request was forwarded, and the access line.
 * Every response the proxy writes (denials, forwards, token info, the metadata
 * document, raw-socket answers) ends here, so the metrics and the access log
 * count the same requests with the same labels.
 */
import type { VerifiedToken } from '../auth/types.js';
import type { LogIdentityField } from '../config/schema.js';
import type { DecisionReason, Deny } from '../policy/decision.js';
import { denyFragment, identityFragment, loggedPath } from './diagnosis.js';
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
  /** The request id, when something was logged about this request before it finished (shadow mode); else a new one. */
  readonly id?: string;
  /** The raw request target, as sent (the access line keeps its path, cut short). */
  readonly target?: string | undefined;
  /** The verified token, when there was one. */
  readonly token?: VerifiedToken | undefined;
  /** The deny answered, or the one shadow mode forwarded anyway. */
  readonly deny?: Deny | undefined;
}

export type RecordRequest = (record: RequestRecord) => void;

let requestCounter = 0;
/** Cheap unique-enough request ids: process start (base36) + counter; no crypto on the hot path. */
const REQUEST_ID_PREFIX = `${Date.now().toString(36)}-`;

/** A new request id. */
export function nextRequestId(): string {
  return REQUEST_ID_PREFIX + (++requestCounter).toString(36);
}

/** Identity fields logged when the config does not say (logging.fields); `sub` is personal data. */
const DEFAULT_IDENTITY_FIELDS: readonly LogIdentityField[] = ['client_id', 'jti'];

export function createRequestRecorder(metrics: Metrics, logger: Logger, identityFields: readonly LogIdentityField[] = DEFAULT_IDENTITY_FIELDS): RecordRequest {
  const fields: ReadonlySet<LogIdentityField> = new Set(identityFields);
  return function recordRequest(r: RequestRecord): void {
    const listener = r.listener ?? 'proxy';
    metrics.request(r.method, r.route, r.status, r.totalMs / 1000, listener);
    if (r.upstreamMs !== undefined && r.route !== undefined) metrics.upstream(r.route, r.upstreamMs / 1000);
    const identity = r.token === undefined ? '' : identityFragment(r.token, fields);
    accessLog(logger, {
      path: r.target === undefined ? undefined : loggedPath(r.target),
      extra: r.deny === undefined ? identity : identity + denyFragment(r.deny, r.token),
      id: r.id ?? nextRequestId(),
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
