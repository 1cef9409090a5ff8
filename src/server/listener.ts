/**
 * The proxy listener: request → plan() → act (docs/architecture.md, Request
 * path). It reads the current generation once per request, asks plan() what
 * to do, and does it: answer (deny, metadata document, token info) or forward.
 * Requests Node cannot hand over (malformed, header overflow, timeout, CONNECT)
 * are answered on the raw socket. Every path ends in one recordRequest().
 */
import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { SecureContextOptions, TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { Config } from '../config/schema.js';
import type { Allow, DecisionReason } from '../policy/decision.js';
import { LEGACY_TRANSFER_ENCODING } from '../policy/denials.js';
import type { Action } from '../policy/plan.js';
import { requestHasBody } from '../proxy/headers.js';
import { createTunnels, type UpgradeAction } from '../proxy/upgrade.js';
import { setCorsHeaders, type PreflightAction } from '../respond/cors.js';
import { clientErrorAnswer, CONNECT_ANSWER, sendError, writeSocketAnswer, type SocketAnswer } from '../respond/error.js';
import { nextRequestId, type RecordRequest } from '../telemetry/access.js';
import { loggedPath } from '../telemetry/diagnosis.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { tokenCause } from '../telemetry/token-cause.js';
import type { Generation } from './generation.js';
import { handleParseFailure, trackResponse } from './in-flight.js';

export interface ListenerDeps {
  /** The generation a request arrives on; it uses that one to the end, across a reload. */
  readonly current: () => Generation;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly recordRequest: RecordRequest;
}

/** X-Forwarded-Proto of a request: https when it arrived over this listener's TLS. */
function protoOf(req: IncomingMessage): 'http' | 'https' {
  return (req.socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http';
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T>)?.then === 'function';
}

/** Half the shortest client timeout, at most a second: timeouts fire within that of their value. */
function connectionsCheckingInterval(limits: Config['limits']): number {
  const timeouts = [limits.headersTimeoutMs, limits.requestTimeoutMs].filter((ms) => ms > 0);
  return Math.max(50, Math.min(1000, ...timeouts.map((ms) => Math.floor(ms / 2))));
}

/** The limits a reload may change on a running listener. */
export function applyListenerLimits(server: Server, limits: Config['limits']): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
}

/** Returns the http.Server (an https.Server with `tls`), not yet listening. */
export function createProxyListener(limits: Config['limits'], deps: ListenerDeps, tls?: SecureContextOptions): Server {
  const { metrics, logger, recordRequest } = deps;
  const tunnels = createTunnels((delta) => metrics.upgradedConnections(delta));
  /** The client's bytes after a handshake's headers, by request (the 'upgrade' event hands them over). */
  const upgradeHeads = new WeakMap<IncomingMessage, Buffer>();

  /** Forward an allowed request; records it when the upstream exchange settles. */
  function forward(req: IncomingMessage, res: ServerResponse, allow: Allow, started: number, decisionSeconds: number, gen: Generation, id: string | undefined, as?: DecisionReason): void {
    // `Expect: 100-continue` (see checkContinue below): only now that the request is allowed may the client send its body.
    // HTTP/1.1 only: a 1.0 client's Expect is ignored (RFC 9110 §10.1.1); Node answers 417 to any other 1.1 expectation.
    if (req.headers.expect !== undefined && req.httpVersionMinor === 1 && !res.headersSent) res.writeContinue();
    const headers = gen.headers.buildUpstreamHeaders(req.rawHeaders, { token: allow.token, clientIp: req.socket.remoteAddress, proto: protoOf(req) });
    const reason = as ?? (allow.wouldDeny === undefined ? 'allowed' : allow.wouldDeny.reason);
    gen.forwarder.forward(req, res, allow, headers, gen.planner.cors?.owns === true).then(
      (outcome) => {
        const totalMs = performance.now() - started;
        recordRequest({
          method: req.method ?? '',
          route: allow.route,
          status: outcome.status,
          reason,
          code: outcome.error,
          decisionSeconds,
          upstreamMs: outcome.upstreamMs,
          totalMs,
          id,
          target: req.url,
          token: allow.token,
          deny: allow.wouldDeny,
        });
        if (outcome.error !== undefined) metrics.upstreamError(outcome.error);
      },
      (error: unknown) => {
        // forward() is meant never to reject; if it does, fail the one request, not the process.
        logger.error({ err: error, route: allow.route }, 'forward failed unexpectedly');
        if (!res.headersSent) sendError(res, 502, 'bad_gateway', 'the upstream request failed');
        else res.destroy();
      },
    );
  }

  /** An allowed request: counted (allow or shadow deny), then answered by scopegate or forwarded. */
  function allowed(req: IncomingMessage, res: ServerResponse, allow: Allow, started: number, decisionSeconds: number, gen: Generation): void {
    const method = req.method ?? '';
    const wouldDeny = allow.wouldDeny;
    if (allow.deprecatedScopes !== undefined) for (const scope of allow.deprecatedScopes) metrics.deprecatedScopeUse(scope);
    let id: string | undefined;
    if (wouldDeny === undefined) {
      metrics.decision('allow', 'allowed', decisionSeconds);
    } else {
      // No `cause` label here: shadow series keep their two labels (the access line names the cause).
      metrics.decision('shadow_deny', wouldDeny.reason, decisionSeconds);
      // The request id and raw path tie this line to the access line and show unmapped paths.
      id = nextRequestId();
      const path = loggedPath(req.url ?? '');
      logger.info({ id, method, route: allow.route, path, would_deny: wouldDeny.reason, status_if_enforced: wouldDeny.status, code: wouldDeny.code }, 'shadow deny');
    }
    if (allow.kind === 'forward') {
      forward(req, res, allow, started, decisionSeconds, gen, id);
      return;
    }
    const status = gen.answers.answer(res, allow, method === 'HEAD');
    const totalMs = performance.now() - started;
    recordRequest({ method, route: allow.route, status, reason: 'allowed', code: undefined, decisionSeconds, upstreamMs: undefined, totalMs, target: req.url, token: allow.token });
  }

  /** A CORS preflight: answered 204 by scopegate, or forwarded without a token (forward_preflight). */
  function preflight(req: IncomingMessage, res: ServerResponse, action: PreflightAction, started: number, decisionSeconds: number, gen: Generation): void {
    metrics.decision('allow', 'cors_preflight', decisionSeconds);
    if (action.forward !== undefined) {
      forward(req, res, action.forward, started, decisionSeconds, gen, undefined, 'cors_preflight');
      return;
    }
    res.writeHead(204, action.headers as string[]);
    res.end();
    recordRequest({ method: 'OPTIONS', route: action.route, status: 204, reason: 'cors_preflight', code: undefined, decisionSeconds, upstreamMs: undefined, totalMs: performance.now() - started });
  }

  /** A WebSocket handshake plan() allowed: to the upstream, then piped (proxy/upgrade.ts). */
  function upgrade(req: IncomingMessage, res: ServerResponse, action: UpgradeAction, started: number, decisionSeconds: number, gen: Generation): void {
    const head = upgradeHeads.get(req);
    const upstream = gen.config.upstream;
    // Arrived as an ordinary request (the 'upgrade' listener was not yet attached after a reload): an ordinary GET.
    if (head === undefined || upstream === undefined) return allowed(req, res, action.allow, started, decisionSeconds, gen);
    metrics.decision('allow', 'allowed', decisionSeconds);
    const headers = gen.headers.buildUpstreamHeaders(req.rawHeaders, { token: action.allow.token, clientIp: req.socket.remoteAddress, proto: protoOf(req) });
    void tunnels.open(req, res, head, action.allow, headers, upstream).then((o) => {
      recordRequest({ method: 'GET', route: action.route, status: o.status, reason: 'allowed', code: o.error, decisionSeconds, upstreamMs: o.upstreamMs, totalMs: performance.now() - started });
      if (o.error !== undefined) metrics.upstreamError(o.error);
    });
  }

  /** Do what plan() decided. */
  function act(req: IncomingMessage, res: ServerResponse, action: Action, started: number, gen: Generation): void {
    const decisionSeconds = (performance.now() - started) / 1000;
    const method = req.method ?? '';
    // With cors.allowed_origins, every response to an allowed Origin carries its CORS headers, denials included.
    const cors = gen.planner.cors?.responseHeaders(req.headers.origin);
    if (cors !== undefined) setCorsHeaders(res, cors);
    switch (action.kind) {
      case 'discovery': {
        const status = gen.answers.answer(res, action, method === 'HEAD');
        const totalMs = performance.now() - started;
        recordRequest({ method, route: action.route, status, reason: 'allowed', code: undefined, decisionSeconds: 0, upstreamMs: undefined, totalMs, target: req.url });
        return;
      }
      case 'deny': {
        metrics.decision('deny', action.reason, decisionSeconds, 'proxy', action.cause ?? tokenCause(action.code));
        gen.answers.answer(res, action, method === 'HEAD');
        const totalMs = performance.now() - started;
        const { token } = action;
        recordRequest({ method, route: action.route, status: action.status, reason: action.reason, code: action.code, decisionSeconds, upstreamMs: undefined, totalMs, target: req.url, token, deny: action });
        return;
      }
      case 'preflight':
        preflight(req, res, action, started, decisionSeconds, gen);
        return;
      case 'upgrade':
        upgrade(req, res, action, started, decisionSeconds, gen);
        return;
      default:
        allowed(req, res, action, started, decisionSeconds, gen);
    }
  }

  /**
   * Never throws: whatever goes wrong while responding fails this one request (500,
   * or a cut connection once headers are out), never the process — an uncaught
   * exception would take every client down with it.
   */
  function finish(req: IncomingMessage, res: ServerResponse, action: Action, started: number, gen: Generation): void {
    try {
      act(req, res, action, started, gen);
    } catch (error) {
      logger.error({ err: error, route: action.route ?? 'unmatched' }, 'responding failed');
      if (!res.headersSent) sendError(res, 500, 'server_error', 'internal error while answering the request');
      else res.destroy();
    }
  }

  /**
   * Node hands a request with `Upgrade` to the 'upgrade' event, detached from the
   * HTTP parser, whenever the event has a listener: so it has one only while the
   * config has a `websocket: true` route, and elsewhere `Upgrade` stays an
   * ordinary hop-by-hop header. Checked when a request sees a new generation.
   */
  let upgradesFor: Generation | undefined;
  function syncUpgradeListener(gen: Generation): void {
    upgradesFor = gen;
    const wanted = gen.config.routes.some((r) => r.websocket === true);
    const attached = server.listenerCount('upgrade') > 0;
    if (wanted && !attached) server.on('upgrade', onUpgrade);
    else if (!wanted && attached) server.removeListener('upgrade', onUpgrade);
  }

  /** A request with `Upgrade`: answered on a response of our own over its socket, closed after unless it becomes a tunnel. */
  function onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const res = new ServerResponse(req);
    res.assignSocket(socket);
    res.shouldKeepAlive = false;
    res.on('finish', () => socket.destroySoon());
    // Its body, if any, arrived in `head` and is no longer readable from req: such a request cannot be forwarded.
    if (requestHasBody(req.headers)) {
      sendError(res, 400, 'invalid_request', 'a request with both Upgrade and a body is not accepted');
      metrics.decision('deny', 'bad_request', 0);
      recordRequest({ method: req.method ?? '', route: undefined, status: 400, reason: 'bad_request', code: 'ERR_REQUEST_UPGRADE', decisionSeconds: 0, upstreamMs: undefined, totalMs: 0 });
      return;
    }
    upgradeHeads.set(req, head);
    onRequest(req, res);
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const gen = deps.current();
    if (gen !== upgradesFor) syncUpgradeListener(gen);
    trackResponse(req, res);
    if (req.httpVersionMinor === 0 && req.headers['transfer-encoding'] !== undefined) {
      // RFC 9112 §6.1: a 1.0 message with Transfer-Encoding has faulty framing; answer it and
      // close, so no byte after it (the body llhttp may have read as chunks, a smuggled request) is used.
      res.shouldKeepAlive = false;
      finish(req, res, LEGACY_TRANSFER_ENCODING, started, gen);
      return;
    }
    let action: Action | Promise<Action>;
    try {
      action = gen.planner.plan(req);
    } catch (error) {
      // plan() returns denials as values; a throw is a bug. Fail closed, keep serving.
      logger.error({ err: error }, 'decide threw');
      sendError(res, 500, 'server_error', 'internal error while authorizing the request');
      return;
    }
    if (!isPromise(action)) {
      finish(req, res, action, started, gen);
      return;
    }
    action.then(
      (a) => finish(req, res, a, started, gen),
      (error: unknown) => {
        logger.error({ err: error }, 'decide rejected');
        sendError(res, 500, 'server_error', 'internal error while authorizing the request');
      },
    );
  }

  /** Answers written on the raw socket (no request object to respond on) still get a metric and an access line. */
  function answerOnSocket(socket: Socket, method: string, answer: SocketAnswer): void {
    writeSocketAnswer(socket, answer);
    metrics.decision('deny', 'bad_request', 0);
    recordRequest({ method, route: undefined, status: answer.status, reason: 'bad_request', code: answer.code, decisionSeconds: 0, upstreamMs: undefined, totalMs: 0 });
  }

  const server = createGuardedServer(limits, onRequest, answerOnSocket, tls);
  // Open tunnels are not HTTP connections Node tracks: a drain that times out (or a shutdown) ends them too.
  const closeAllConnections = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    closeAllConnections();
    tunnels.closeAll();
  };
  syncUpgradeListener(deps.current());
  return server;
}

/**
 * The http.Server both listeners share (the proxy's and the authz one): strict
 * parsing, the configured limits, and every request Node cannot hand over
 * (CONNECT, a parse error, a timeout) answered on the raw socket through
 * `answerOnSocket`, so it is still counted and logged. With `tls`, the same
 * server over TLS (node:https; README, TLS).
 */
export function createGuardedServer(
  limits: Config['limits'],
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  answerOnSocket: (socket: Socket, method: string, answer: SocketAnswer) => void,
  tls?: SecureContextOptions,
): Server {
  const options = {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Reject rather than guess on ambiguous framing (CL+TE, bare LF, obs-fold): llhttp strict mode.
    insecureHTTPParser: false,
    // Checked by plan() instead: Node's own rejection is a body-less 400, ours is the usual JSON deny.
    requireHostHeader: false,
    // Node sweeps for expired headers/request timeouts only this often (default 30 s, which
    // would let a slowloris connection live 30 s past headers_timeout_ms).
    connectionsCheckingInterval: connectionsCheckingInterval(limits),
    joinDuplicateHeaders: false,
  };
  // A client gets as long for its TLS handshake as for its headers (Node's default is 120 s).
  const server: Server = tls === undefined ? createServer(options, onRequest) : createTlsServer({ ...options, ...tls, handshakeTimeout: limits.headersTimeoutMs }, onRequest);
  // One more than the limit, so plan() sees a request that exceeds it (and answers 431)
  // instead of Node silently dropping headers past a 32-header batch boundary.
  // Fixed for the process's life (Node copies it into each connection's parser): a reload cannot change it.
  server.maxHeadersCount = limits.maxHeaderCount + 1;
  server.maxConnections = limits.maxConnections;
  // Node answers `Expect: 100-continue` itself before 'request' unless this event
  // is handled: the client would then upload a body that a deny throws away.
  // Here the decision comes first; forward() sends 100 Continue only on an allow.
  server.on('checkContinue', onRequest);
  server.on('connect', (_req: IncomingMessage, socket: Socket) => answerOnSocket(socket, 'CONNECT', CONNECT_ANSWER));
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    // A response in progress on this connection is never written into: closed instead (in-flight.ts).
    if (handleParseFailure(socket) === 'closing') return;
    // The method is unknown (the request line may be what failed to parse): labelled OTHER.
    answerOnSocket(socket, '', clientErrorAnswer(error.code));
  });
  return server;
}
