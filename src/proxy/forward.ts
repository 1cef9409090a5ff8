/**
 * Forwarding an allowed request to the upstream (README, Forwarding) over one undici
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
import { replaceUpstreamCors } from '../respond/cors.js';
import { sendError } from '../respond/error.js';

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
  /** Extra undici Pool options (bench tuning, TLS). Config-derived options are applied after these, so the config wins. */
  readonly pool?: Pool.Options;
}

export interface Forwarder {
  /** `ownsCors` (cors.allowed_origins): the upstream's Access-Control-* headers are dropped for scopegate's own. */
  forward(req: IncomingMessage, res: ServerResponse, allow: Allow, headers: string[], ownsCors?: boolean): Promise<ForwardOutcome>;
  /** Let in-flight requests finish, then close upstream sockets. */
  close(): Promise<void>;
}

/** Client went away: abort reason we pass to undici so the error path can tell it apart. */
class ClientAbortedError extends Error {
  readonly code = 'ERR_CLIENT_ABORTED';
}

/** upstream.timeout_ms elapsed (scopegate's own timer, see Exchange). */
class UpstreamTimeoutError extends Error {
  readonly code = 'ERR_SCOPEGATE_UPSTREAM_TIMEOUT';
}

/**
 * undici and Node errors → our codes, by `code` only (never by message: messages change between versions).
 * Exported for tests.
 */
export function classifyUpstreamError(err: unknown): { code: ForwardErrorCode; cause: string } {
  const cause = typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'UNKNOWN';
  switch (cause) {
    case 'ERR_CLIENT_ABORTED':
    case 'UND_ERR_ABORTED':
      return { code: 'ERR_CLIENT_ABORTED', cause };
    case 'ERR_SCOPEGATE_UPSTREAM_TIMEOUT':
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

  function forward(req: IncomingMessage, res: ServerResponse, allow: Allow, headers: string[], ownsCors = false): Promise<ForwardOutcome> {
    // The client may have left while decide() awaited a key fetch: its 'close'
    // already fired, so nothing below would notice. Never start that request.
    if (res.destroyed || req.socket?.destroyed === true) {
      return Promise.resolve({ status: CLIENT_CLOSED_STATUS, upstreamMs: 0, error: 'ERR_CLIENT_ABORTED', cause: 'ERR_CLIENT_ABORTED' });
    }
    return new Promise<ForwardOutcome>((resolve) => {
      const hasBody = requestHasBody(req.headers);
      const exchange = new Exchange(req, res, resolve, upstream.timeoutMs, !hasBody, ownsCors);
      try {
        pool.dispatch({ method: req.method as Dispatcher.HttpMethod, path: allow.path + allow.query, headers, body: hasBody ? req : null }, exchange);
      } catch (err) {
        // undici reports a closed pool or a bad argument through the handler's error
        // callback; a synchronous throw here would be a bug of ours, answered like one.
        exchange.fail(err);
      }
    });
  }

  return {
    forward,
    close: () => pool.close(),
  };
}

/** Where the shared listeners below find their exchange: one property instead of a closure per request. */
const EXCHANGE = Symbol('scopegate.exchange');
type Tagged<T> = T & { [EXCHANGE]?: Exchange };

/** 'close' on the response fires on normal completion too; only an unfinished response means the client left. */
function onResponseClose(this: Tagged<ServerResponse>): void {
  if (!this.writableFinished) this[EXCHANGE]?.clientClosed();
}
function onResponseDrain(this: Tagged<ServerResponse>): void {
  this[EXCHANGE]?.controller?.resume();
}
/** The request body has been read completely: the upstream's time to answer starts now. */
function onRequestBodyEnd(this: Tagged<IncomingMessage>): void {
  this[EXCHANGE]?.startTimer();
}
function onTimeout(exchange: Exchange): void {
  exchange.timedOut();
}

/**
 * One request's trip to the upstream: the undici dispatch handler and its state
 * in one object (no closures per request).
 *
 * upstream.timeout_ms is enforced here, not only by undici's headersTimeout /
 * bodyTimeout: undici leaves its headers timer unarmed while it considers the
 * request still being written, and a 300 ms timeout was measured firing after
 * ~800 ms or not at all. Our timer starts once the request body has been read
 * (at dispatch for a bodiless request; an upload is never cut for being long),
 * fires if no response head arrives in time, and is refreshed by every body
 * chunk, so it also bounds a stalled response body.
 */
class Exchange implements Dispatcher.DispatchHandler {
  controller: Dispatcher.DispatchController | undefined;
  private readonly start = performance.now();
  private clientGone = false;
  private settled = false;
  private status = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly req: Tagged<IncomingMessage>,
    private readonly res: Tagged<ServerResponse>,
    private readonly resolve: (outcome: ForwardOutcome) => void,
    private readonly timeoutMs: number,
    bodiless: boolean,
    private readonly ownsCors: boolean,
  ) {
    res[EXCHANGE] = this;
    res.on('close', onResponseClose);
    if (bodiless) this.startTimer();
    else {
      req[EXCHANGE] = this;
      req.once('end', onRequestBodyEnd);
    }
  }

  startTimer(): void {
    if (!this.settled && this.timer === undefined) this.timer = setTimeout(onTimeout, this.timeoutMs, this);
  }

  timedOut(): void {
    this.timer = undefined;
    const error = new UpstreamTimeoutError(`no upstream response within ${this.timeoutMs} ms`);
    // Dispatched: abort, and onResponseError answers 504 (or cuts a started response).
    // Still queued in the pool: answer now; onRequestStart aborts it when it is dequeued.
    if (this.controller !== undefined) this.controller.abort(error);
    else this.fail(error);
  }

  clientClosed(): void {
    this.clientGone = true;
    if (this.controller !== undefined) {
      this.controller.abort(new ClientAbortedError('client closed the connection'));
      return;
    }
    // Still queued in the pool: undici offers no way to dequeue, so onRequestStart
    // aborts it when a connection frees up. Settled now so logs and metrics do not wait.
    this.settle({ status: CLIENT_CLOSED_STATUS, upstreamMs: performance.now() - this.start, error: 'ERR_CLIENT_ABORTED', cause: 'ERR_CLIENT_ABORTED' });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Queued in the pool while the client left or the time ran out: never start it.
    if (this.settled) controller.abort(this.clientGone ? new ClientAbortedError('client closed the connection') : new UpstreamTimeoutError('timed out in the queue'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number): void {
    // 1xx (103 Early Hints): not relayed; the final response follows.
    if (statusCode < 200) return;
    if (this.clientGone) {
      controller.abort(new ClientAbortedError('client closed the connection'));
      return;
    }
    const raw = controller.rawHeaders;
    const filtered = Array.isArray(raw) ? filterResponseHeaders(raw) : [];
    const list = this.ownsCors ? replaceUpstreamCors(filtered, this.res) : filtered;
    try {
      this.res.writeHead(statusCode, list);
    } catch (err) {
      // Node refused the upstream's status line or a header: nothing sent yet, so a 502.
      controller.abort(Object.assign(new Error('unrelayable upstream response', { cause: err }), { code: 'ERR_UPSTREAM_PROTOCOL' }));
      return;
    }
    this.status = statusCode;
    this.timer?.refresh();
    this.res.on('drain', onResponseDrain);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.timer?.refresh();
    if (!this.res.write(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.res.end();
    this.settle({ status: this.status, upstreamMs: performance.now() - this.start });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(err);
  }

  fail(err: unknown): void {
    if (this.settled) return;
    const res = this.res;
    const upstreamMs = performance.now() - this.start;
    const { code, cause } = classifyUpstreamError(err);
    if (this.clientGone || code === 'ERR_CLIENT_ABORTED' || this.req.socket?.destroyed === true) {
      if (!res.destroyed) res.destroy();
      this.settle({ status: CLIENT_CLOSED_STATUS, upstreamMs, error: 'ERR_CLIENT_ABORTED', cause });
      return;
    }
    if (res.headersSent) {
      // The status is on the wire; cutting the connection is the only honest signal left.
      res.destroy();
      this.settle({ status: this.status, upstreamMs, error: code === 'ERR_UPSTREAM_TIMEOUT' ? code : 'ERR_UPSTREAM_RESET', cause });
      return;
    }
    const body = ERROR_BODY[code];
    const sent = upstreamErrorStatus(code);
    sendError(res, sent, body.error, body.description);
    this.settle({ status: sent, upstreamMs, error: code, cause });
  }

  private settle(outcome: ForwardOutcome): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.res.removeListener('close', onResponseClose);
    this.res.removeListener('drain', onResponseDrain);
    this.req.removeListener('end', onRequestBodyEnd);
    // Let the exchange (controller, resolve, buffers) go with the request, not with the socket's objects.
    this.res[EXCHANGE] = undefined;
    this.req[EXCHANGE] = undefined;
    this.resolve(outcome);
  }
}
