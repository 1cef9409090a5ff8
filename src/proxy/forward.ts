/**
 * Forwarding an allowed request to the upstream (DESIGN.md §5) over one undici
 * Pool, streaming both ways.
 *
 * Why `pool.dispatch()` with our own handler rather than `request()` or
 * `stream()`: `request()` wraps the response in a BodyReadable we would then
 * pipe (one more stream hop and its buffering per chunk); `stream()` needs a
 * factory, registers `finished()` listeners and parses the headers into an
 * object we would turn back into a list. A dispatch handler writes each chunk
 * straight into the ServerResponse, pauses the upstream socket when
 * `res.write()` says so (resumes on 'drain'), reads the raw header list as
 * received (order, case and repeated Set-Cookie kept), and sees in one place
 * whether a failure happened before the response started (we can still answer
 * 502/504) or after (we can only cut the connection).
 *
 * The request body is the IncomingMessage itself, handed to undici as a
 * Readable: undici writes it with back-pressure (pauses `req` while the
 * upstream socket is full), so memory stays flat whatever the upload size.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import type { UpstreamConfig } from '../config/schema.js';
import { upstreamErrorStatus, type UpstreamErrorCode } from '../errors.js';
import type { Allow } from '../policy/decision.js';
import { filterResponseHeaders, requestHasBody } from './headers.js';
import { sendError } from './respond.js';

/** Status recorded (never sent) when the client went away first; nginx's convention, so dashboards read it. */
export const CLIENT_CLOSED_STATUS = 499;

export type ForwardErrorCode = UpstreamErrorCode | 'ERR_CLIENT_ABORTED';

export interface ForwardOutcome {
  /** Status the client received: the upstream's, or 400/502/504 we wrote, or 499 if the client left first. */
  readonly status: number;
  /** Milliseconds from dispatch to the last response byte (or to the failure). */
  readonly upstreamMs: number;
  /** Set when the exchange failed; undefined on success. */
  readonly error?: ForwardErrorCode;
  /** The library's own code (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT, HPE_…), for logs. */
  readonly cause?: string;
}

export interface ForwarderOptions {
  /** Extra undici Pool options (bench tuning, TLS). Config-derived options win over none of these: they are applied first. */
  readonly pool?: Pool.Options;
}

export interface Forwarder {
  forward(req: IncomingMessage, res: ServerResponse, allow: Allow, headers: string[]): Promise<ForwardOutcome>;
  /** Let in-flight requests finish, then close upstream sockets. */
  close(): Promise<void>;
}

/** Client went away: abort reason we pass to undici so the error path can tell it apart. */
class ClientAbortedError extends Error {
  readonly code = 'ERR_CLIENT_ABORTED';
}

/**
 * undici and Node errors → our codes, by `code` only (DESIGN.md §2: never by message).
 * Exported for tests.
 */
export function classifyUpstreamError(err: unknown): { code: ForwardErrorCode; cause: string } {
  const cause = typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'UNKNOWN';
  switch (cause) {
    case 'ERR_CLIENT_ABORTED':
    case 'UND_ERR_ABORTED':
      return { code: 'ERR_CLIENT_ABORTED', cause };
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return { code: 'ERR_UPSTREAM_TIMEOUT', cause };
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'EPIPE':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ETIMEDOUT':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
      return { code: 'ERR_UPSTREAM_UNREACHABLE', cause };
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_INVALID_ARG':
    case 'UND_ERR_NOT_SUPPORTED':
      return { code: 'ERR_UPSTREAM_REQUEST_INVALID', cause };
    default:
      // HPE_* parser errors, response length mismatches, anything unforeseen:
      // the upstream said something we cannot relay. 502, never 500.
      return { code: 'ERR_UPSTREAM_PROTOCOL', cause };
  }
}

const ERROR_BODY: Record<UpstreamErrorCode, { error: string; description: string }> = {
  ERR_UPSTREAM_UNREACHABLE: { error: 'bad_gateway', description: 'upstream unreachable' },
  ERR_UPSTREAM_TIMEOUT: { error: 'gateway_timeout', description: 'upstream did not respond in time' },
  ERR_UPSTREAM_PROTOCOL: { error: 'bad_gateway', description: 'invalid response from upstream' },
  ERR_UPSTREAM_RESET: { error: 'bad_gateway', description: 'upstream failed mid-response' },
  ERR_UPSTREAM_REQUEST_INVALID: { error: 'invalid_request', description: 'request cannot be forwarded' },
};

export function createForwarder(upstream: UpstreamConfig, opts: ForwarderOptions = {}): Forwarder {
  const pool = new Pool(upstream.url, {
    ...opts.pool,
    connections: upstream.connections,
    connectTimeout: upstream.connectTimeoutMs,
    headersTimeout: upstream.timeoutMs,
    bodyTimeout: upstream.timeoutMs,
    keepAliveTimeout: upstream.keepAliveTimeoutMs,
    // The upstream's own keep-alive hint may be longer than ours; never trust a
    // hint beyond our configured idle time (a stale socket costs a 502).
    keepAliveMaxTimeout: upstream.keepAliveTimeoutMs,
  });

  function forward(req: IncomingMessage, res: ServerResponse, allow: Allow, headers: string[]): Promise<ForwardOutcome> {
    // The client may have left while decide() awaited a key fetch: its 'close'
    // already fired, so nothing below would notice. Never start that request.
    if (res.destroyed || req.socket?.destroyed === true) {
      return Promise.resolve({ status: CLIENT_CLOSED_STATUS, upstreamMs: 0, error: 'ERR_CLIENT_ABORTED', cause: 'ERR_CLIENT_ABORTED' });
    }
    return new Promise<ForwardOutcome>((resolve) => {
      const start = performance.now();
      let controller: Dispatcher.DispatchController | undefined;
      let clientGone = false;
      let status = 0;
      let settled = false;

      const settle = (outcome: ForwardOutcome): void => {
        if (settled) return;
        settled = true;
        res.removeListener('close', onClientClose);
        resolve(outcome);
      };

      // 'close' on the response fires on normal completion too; only an
      // unfinished response means the client left.
      function onClientClose(): void {
        if (res.writableFinished) return;
        clientGone = true;
        if (controller !== undefined) {
          controller.abort(new ClientAbortedError('client closed the connection'));
          return;
        }
        // Still queued in the pool: undici offers no way to dequeue, so
        // onRequestStart aborts it when a connection frees up. The outcome is
        // settled now so logs and metrics do not wait for that.
        settle({ status: CLIENT_CLOSED_STATUS, upstreamMs: performance.now() - start, error: 'ERR_CLIENT_ABORTED', cause: 'ERR_CLIENT_ABORTED' });
      }
      res.on('close', onClientClose);

      const onDrain = (): void => controller?.resume();

      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(ctrl) {
          controller = ctrl;
          // Queued in the pool while the client left: never start it.
          if (clientGone) ctrl.abort(new ClientAbortedError('client closed the connection'));
        },
        onResponseStart(ctrl, statusCode) {
          // 1xx (103 Early Hints): not relayed; the final response follows.
          if (statusCode < 200) return;
          if (clientGone) {
            ctrl.abort(new ClientAbortedError('client closed the connection'));
            return;
          }
          const raw = ctrl.rawHeaders;
          const list = Array.isArray(raw) ? filterResponseHeaders(raw) : [];
          try {
            res.writeHead(statusCode, list);
          } catch (err) {
            // Node refused the upstream's status line or a header: nothing sent yet, so a 502.
            ctrl.abort(Object.assign(new Error('unrelayable upstream response', { cause: err }), { code: 'ERR_UPSTREAM_PROTOCOL' }));
            return;
          }
          status = statusCode;
          res.on('drain', onDrain);
        },
        onResponseData(ctrl, chunk) {
          if (!res.write(chunk)) ctrl.pause();
        },
        onResponseEnd() {
          res.removeListener('drain', onDrain);
          res.end();
          settle({ status, upstreamMs: performance.now() - start });
        },
        onResponseError(_ctrl, err) {
          fail(err);
        },
      };

      function fail(err: unknown): void {
        res.removeListener('drain', onDrain);
        const upstreamMs = performance.now() - start;
        const { code, cause } = classifyUpstreamError(err);
        if (clientGone || code === 'ERR_CLIENT_ABORTED' || req.socket?.destroyed === true) {
          if (!res.destroyed) res.destroy();
          settle({ status: CLIENT_CLOSED_STATUS, upstreamMs, error: 'ERR_CLIENT_ABORTED', cause });
          return;
        }
        if (res.headersSent) {
          // The status is on the wire; cutting the connection is the only honest signal left.
          res.destroy();
          settle({ status, upstreamMs, error: code === 'ERR_UPSTREAM_TIMEOUT' ? code : 'ERR_UPSTREAM_RESET', cause });
          return;
        }
        const body = ERROR_BODY[code];
        const sent = upstreamErrorStatus(code);
        sendError(res, sent, body.error, body.description);
        settle({ status: sent, upstreamMs, error: code, cause });
      }

      try {
        pool.dispatch(
          {
            method: req.method as Dispatcher.HttpMethod,
            path: allow.path + allow.query,
            headers,
            body: requestHasBody(req.headers) ? req : null,
          },
          handler,
        );
      } catch (err) {
        // dispatch() reports most failures through onResponseError; a synchronous
        // throw (pool closed, invalid argument) lands here.
        fail(err);
      }
    });
  }

  return {
    forward,
    close: () => pool.close(),
  };
}
