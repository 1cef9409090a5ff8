/**
 * The last denials, for the admin page and `scopegate status` (README, "Admin
 * page"): a fixed-size ring fed from the one place every finished request is
 * recorded, and a count per decision reason since start.
 *
 * What a record holds is chosen like an access line's fields (README,
 * Operations): the raw path without its query and cut short, the deny's
 * reason, code and cause, and the token's identity only as `logging.fields`
 * allows. Never a token, never a header value.
 */
import type { LogIdentityField } from '../config/schema.js';
import type { RecordRequest, RequestRecord } from '../telemetry/access.js';
import { loggedPath, missingScopes } from '../telemetry/diagnosis.js';
import { tokenCause } from '../telemetry/token-cause.js';

/** One kept denial, in the field names of `/status` (docs/status.schema.json); `time` in epoch ms until shown. */
export interface DenialEntry {
  readonly time: number;
  readonly method: string;
  /** Route template, or null when no route matched. */
  readonly route: string | null;
  /** The raw path as sent, query removed, cut like the access log's (null for answers written before a target was read). */
  readonly path: string | null;
  readonly status: number;
  readonly reason: string;
  /** Machine code of the deny (ERR_…), or null. */
  readonly code: string | null;
  /** Why a token was refused (expired, bad_signature, …), or null for other denials. */
  readonly cause: string | null;
  /** 403: required scopes the token did not carry. */
  readonly missing_scopes: readonly string[] | null;
  readonly client_id: string | null;
  /** Only when `logging.fields` lists `sub`. */
  readonly sub: string | null;
}

export interface RecentDenials {
  /** Call with every finished request; keeps it when it was a denial, counts it by reason either way. */
  observe(record: RequestRecord): void;
  /** The kept denials, newest first. */
  list(): DenialEntry[];
  /** Requests per decision reason since start (allowed included), in first-seen order. */
  counts(): Record<string, number>;
  /** The ring's size (`admin.recent_denials`). */
  readonly capacity: number;
}

/** Reasons that are not denials: the request was answered or forwarded as asked. */
const NOT_DENIED: ReadonlySet<string> = new Set(['allowed', 'cors_preflight']);

/** A claim value shown on the page is cut like a logged one. */
const MAX_CLAIM_CHARS = 256;
const cut = (s: string | undefined): string | null => (s === undefined ? null : s.length > MAX_CLAIM_CHARS ? `${s.slice(0, MAX_CLAIM_CHARS)}…` : s);

function entryOf(r: RequestRecord, showSub: boolean, showClientId: boolean): DenialEntry {
  const { deny, token } = r;
  return {
    time: Date.now(),
    method: r.method,
    route: r.route ?? null,
    path: r.target === undefined ? null : loggedPath(r.target),
    status: r.status,
    reason: r.reason,
    code: r.code ?? null,
    cause: (deny?.cause ?? tokenCause(r.code)) ?? null,
    missing_scopes: deny !== undefined && token !== undefined && deny.code === 'ERR_AUTH_INSUFFICIENT_SCOPE' ? missingScopes(deny, token) : null,
    client_id: showClientId ? cut(token?.clientId) : null,
    sub: showSub ? cut(token?.subject) : null,
  };
}

/** A ring of `capacity` denials (0 keeps none, still counts). */
export function createRecentDenials(capacity: number, fields: readonly LogIdentityField[]): RecentDenials {
  const ring: (DenialEntry | undefined)[] = new Array<DenialEntry | undefined>(capacity).fill(undefined);
  let next = 0;
  const byReason = new Map<string, number>();
  const showSub = fields.includes('sub');
  const showClientId = fields.includes('client_id');
  return {
    capacity,
    observe(r) {
      byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + 1);
      if (capacity === 0 || NOT_DENIED.has(r.reason)) return;
      ring[next] = entryOf(r, showSub, showClientId);
      next = next + 1 === capacity ? 0 : next + 1;
    },
    list() {
      const out: DenialEntry[] = [];
      for (let i = 1; i <= capacity; i++) {
        const e = ring[(next - i + capacity) % capacity];
        if (e === undefined) break;
        out.push(e);
      }
      return out;
    },
    counts: () => Object.fromEntries(byReason),
  };
}

/** `record` followed by `denials.observe`: one recorder for the listeners. */
export function observingDenials(record: RecordRequest, denials: RecentDenials): RecordRequest {
  return (r) => {
    record(r);
    denials.observe(r);
  };
}
