/**
 * The admin listener (README, Operations): /healthz, /readyz, /metrics, and the
 * read-only admin page `/` with its data at `/status` (README, "Admin page"). Separate
 * from the proxied port so probes and scrapes never pass through (or count
 * against) the policy, and can be bound to a private interface.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { sendError } from '../respond/error.js';
import type { Metrics } from '../telemetry/metrics.js';
import { PAGE_HEADERS, PAGE_HTML } from './page.js';
import type { StatusDocument } from './status.js';

export type Readiness = boolean | { readonly ready: boolean; readonly reason?: string };

export interface AdminServerOptions {
  readonly metrics: Pick<Metrics, 'text' | 'contentType'>;
  /** Called on each /readyz. */
  readonly isReady: () => Readiness;
  /** Called on each /status (and by the page through it). Unset: `/` and `/status` are 404 like any unknown path. */
  readonly status?: () => StatusDocument;
}

const ALLOW = 'GET, HEAD';
const PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);
const STATUS_PATHS: ReadonlySet<string> = new Set(['/', '/status']);

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
    'cache-control': 'no-store',
  });
  res.end(json);
}

/** Returns an http.Server, not yet listening: the caller binds it (and closes it on drain). */
export function createAdminServer(opts: AdminServerOptions): Server {
  const { metrics, isReady, status } = opts;

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (!PATHS.has(path) && !(status !== undefined && STATUS_PATHS.has(path))) {
      sendError(res, 404, 'not_found', 'no such admin endpoint');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, 405, 'method_not_allowed', 'admin endpoints accept GET and HEAD', { allow: ALLOW });
      return;
    }
    if (status !== undefined && STATUS_PATHS.has(path)) {
      sendStatus(res, path, status, req.method === 'HEAD');
      return;
    }
    if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    if (path === '/readyz') {
      let r: Readiness;
      try {
        r = isReady();
      } catch (err) {
        sendJson(res, 503, { status: 'not_ready', reason: `readiness check failed: ${err instanceof Error ? err.message : String(err)}` });
        return;
      }
      const ready = typeof r === 'boolean' ? r : r.ready;
      const reason = typeof r === 'boolean' ? undefined : r.reason;
      sendJson(res, ready ? 200 : 503, ready ? { status: 'ready' } : { status: 'not_ready', reason: reason ?? 'not ready' });
      return;
    }
    metrics.text().then(
      (text) => {
        res.writeHead(200, {
          'content-type': metrics.contentType,
          'content-length': Buffer.byteLength(text),
          'cache-control': 'no-store',
        });
        res.end(text);
      },
      (err: unknown) => {
        sendError(res, 500, 'server_error', `metrics collection failed: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  }

  return createServer(handle);
}

/** `/`: the page (static; it fetches /status itself). `/status`: the document, built now. */
function sendStatus(res: ServerResponse, path: string, status: () => StatusDocument, head: boolean): void {
  if (path === '/') {
    res.writeHead(200, { ...PAGE_HEADERS, 'content-length': Buffer.byteLength(PAGE_HTML) });
    res.end(head ? undefined : PAGE_HTML);
    return;
  }
  let json: string;
  try {
    json = JSON.stringify(status());
  } catch (err) {
    sendError(res, 500, 'server_error', `status collection failed: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(head ? undefined : json);
}
