/**
 * Composition root and lifecycle: the only module that knows every piece.
 * Builds verifier → decider → forwarder, listens, answers or forwards each
 * request, serves the admin endpoints, and drains on SIGTERM.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Config } from './config/schema.js';
import { createTokenVerifier } from './auth/verify.js';
import type { TokenVerifier } from './auth/types.js';
import { createDecider, type Decider } from './policy/decide.js';
import type { Decision } from './policy/decision.js';
import { createForwarder } from './proxy/forward.js';
import { createHeaderPolicy, type HeaderPolicy } from './proxy/headers.js';
import { sendDeny, sendError } from './proxy/respond.js';
import { createMetrics, type Metrics } from './telemetry/metrics.js';
import { accessLog, createLogger, type Logger } from './telemetry/logger.js';
import { createAdminServer } from './admin/server.js';

export interface ScopegateOptions {
  /** Install SIGTERM/SIGINT drain handlers (serve does; tests and the demo do not). */
  readonly installSignalHandlers?: boolean;
  readonly logger?: Logger;
}

export interface RunningScopegate {
  /** http://host:port of the proxy listener. */
  readonly url: string;
  /** http://host:port of the admin listener. */
  readonly adminUrl: string;
  /** Resolves after a drain completes or times out, with the exit code the process should use. */
  readonly done: Promise<number>;
  /** Begin a graceful drain: /readyz turns 503, stop accepting, finish in-flight, close. */
  drain(reason: string): Promise<void>;
  /** Immediate stop (tests, demo). */
  close(): Promise<void>;
}

/** The pieces a request needs, swapped as one on config reload. */
interface Generation {
  readonly config: Config;
  readonly decider: Decider;
  readonly headers: HeaderPolicy;
}

/** Idle keep-alive sockets are closed this often while draining, so clients reconnect elsewhere promptly. */
const DRAIN_IDLE_SWEEP_MS = 100;

let requestCounter = 0;
/** Cheap unique-enough request ids: process start (base36) + counter; no crypto on the hot path. */
const REQUEST_ID_PREFIX = `${Date.now().toString(36)}-`;

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T>)?.then === 'function';
}

export async function startScopegate(config: Config, options: ScopegateOptions = {}): Promise<RunningScopegate> {
  const logger = options.logger ?? createLogger();
  const metrics: Metrics = createMetrics();
  const verifier: TokenVerifier = createTokenVerifier(config.auth, {
    onJwksFetch(issuer, result, detail) {
      metrics.jwksRefresh(issuer, result);
      if (result !== 'success') logger.warn({ issuer, result, detail }, 'jwks fetch failed');
    },
  });
  metrics.setIssuerStateSource(() => verifier.issuerStates());
  metrics.setTokenCacheSource(() => verifier.cacheStats());

  let generation: Generation = {
    config,
    decider: createDecider(config, verifier),
    headers: createHeaderPolicy(config.identityHeaders),
  };
  const forwarder = createForwarder(config.upstream);
  const realm = config.auth.realm;
  let draining = false;

  function finish(req: IncomingMessage, res: ServerResponse, decision: Decision, started: number, gen: Generation): void {
    const decided = performance.now();
    const decisionSeconds = (decided - started) / 1000;
    const method = req.method ?? '';
    if (!decision.allow) {
      metrics.decision('deny', decision.reason, decisionSeconds);
      sendDeny(res, decision, realm);
      const total = performance.now() - started;
      metrics.request(method, decision.route, decision.status, total / 1000);
      accessLog(logger, {
        id: REQUEST_ID_PREFIX + (++requestCounter).toString(36),
        method,
        route: decision.route,
        status: decision.status,
        reason: decision.reason,
        code: decision.code,
        decision_us: Math.round(decisionSeconds * 1e6),
        upstream_ms: undefined,
        total_ms: total,
      });
      return;
    }
    metrics.decision('allow', 'allowed', decisionSeconds);
    const headers = gen.headers.buildUpstreamHeaders(req.rawHeaders, {
      token: decision.token,
      clientIp: req.socket.remoteAddress,
      proto: 'http',
    });
    forwarder.forward(req, res, decision, headers).then((outcome) => {
      const total = performance.now() - started;
      metrics.request(method, decision.route, outcome.status, total / 1000);
      if (outcome.upstreamMs !== undefined) metrics.upstream(decision.route, outcome.upstreamMs / 1000);
      if (outcome.error !== undefined) metrics.upstreamError(outcome.error);
      accessLog(logger, {
        id: REQUEST_ID_PREFIX + (++requestCounter).toString(36),
        method,
        route: decision.route,
        status: outcome.status,
        reason: 'allowed',
        code: outcome.error,
        decision_us: Math.round(decisionSeconds * 1e6),
        upstream_ms: outcome.upstreamMs,
        total_ms: total,
      });
    }, (error: unknown) => {
      // forward() is meant never to reject; if it does, fail the one request, not the process.
      logger.error({ err: error, route: decision.route }, 'forward failed unexpectedly');
      if (!res.headersSent) sendError(res, 502, 'bad_gateway', 'the upstream request failed');
      else res.destroy();
    });
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const gen = generation;
    let decision: Decision | Promise<Decision>;
    try {
      decision = gen.decider.decide(req.method ?? '', req.url ?? '', req.rawHeaders);
    } catch (error) {
      // decide() returns denials as values; a throw is a bug. Fail closed, keep serving.
      logger.error({ err: error }, 'decide threw');
      sendError(res, 500, 'server_error', 'internal error while authorizing the request');
      return;
    }
    if (isPromise(decision)) {
      decision.then(
        (d) => finish(req, res, d, started, gen),
        (error: unknown) => {
          logger.error({ err: error }, 'decide rejected');
          sendError(res, 500, 'server_error', 'internal error while authorizing the request');
        },
      );
    } else {
      finish(req, res, decision, started, gen);
    }
  }

  const limits = config.limits;
  const server: Server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Reject rather than guess on ambiguous framing (CL+TE, bare LF, obs-fold): llhttp strict mode.
      insecureHTTPParser: false,
      requireHostHeader: true,
      joinDuplicateHeaders: false,
    },
    onRequest,
  );
  server.maxHeadersCount = limits.maxHeaderCount;
  // CONNECT is never forwarded: answer it instead of letting Node drop the socket silently.
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    const body = '{"error":"method_not_allowed","error_description":"CONNECT is not supported"}';
    socket.end(`HTTP/1.1 405 Method Not Allowed\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    const body = JSON.stringify({ error: 'invalid_request', error_description: tooLarge ? 'request headers too large' : 'malformed HTTP request' });
    socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
  });

  const admin = createAdminServer({
    metrics,
    isReady: () => {
      if (draining) return { ready: false, reason: 'draining' };
      if (!verifier.ready()) return { ready: false, reason: 'signing keys not loaded for every issuer' };
      return { ready: true };
    },
  });

  // Keys first, but do not block listening on them: /readyz says when they are in.
  const keysStarted = verifier.start();
  server.listen(config.listen.port, config.listen.host);
  admin.listen(config.adminListen.port, config.adminListen.host);
  await Promise.all([once(server, 'listening'), once(admin, 'listening')]);
  const address = server.address() as AddressInfo;
  const adminAddress = admin.address() as AddressInfo;
  const url = `http://${address.address}:${address.port}`;
  const adminUrl = `http://${adminAddress.address}:${adminAddress.port}`;
  logger.info(
    { listen: url, admin: adminUrl, upstream: config.upstream.url, routes: config.routes.length, issuers: config.auth.issuers.map((i) => i.issuer), config: config.source.file, config_sha256: config.source.hash },
    'scopegate started',
  );
  void keysStarted.then(() => {
    for (const state of verifier.issuerStates()) {
      if (state.loaded) logger.info({ issuer: state.issuer, keys: state.keyCount }, 'signing keys loaded');
      else logger.warn({ issuer: state.issuer }, 'signing keys not loaded yet; tokens from this issuer get 503 until they are');
    }
  });

  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  let drainPromise: Promise<void> | undefined;

  async function closeEverything(): Promise<void> {
    await Promise.all([
      new Promise<void>((r) => admin.close(() => r())),
      forwarder.close(),
      verifier.close(),
    ]);
    admin.closeAllConnections();
  }

  function drain(reason: string): Promise<void> {
    if (drainPromise) return drainPromise;
    draining = true;
    logger.info({ reason, in_flight_timeout_ms: limits.drainTimeoutMs }, 'draining');
    drainPromise = (async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), DRAIN_IDLE_SWEEP_MS);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        server.closeAllConnections();
      }, limits.drainTimeoutMs);
      await closed;
      clearInterval(sweep);
      clearTimeout(timer);
      await closeEverything();
      logger.info({ timed_out: timedOut }, 'drained, exiting');
      resolveDone(0);
    })();
    return drainPromise;
  }

  async function close(): Promise<void> {
    draining = true;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await closeEverything();
    resolveDone(0);
  }

  if (options.installSignalHandlers === true) {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      void drain(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  return { url, adminUrl, done, drain, close };
}

/** `scopegate serve`: run until drained by a signal; resolves with the exit code. */
export async function runServe(config: Config): Promise<number> {
  const running = await startScopegate(config, { installSignalHandlers: true });
  return running.done;
}
