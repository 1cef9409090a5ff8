/**
 * Composition root and lifecycle: the only module that knows every piece.
 * Builds verifier → decider → forwarder, listens, answers or forwards each
 * request, serves the admin endpoints, and drains on SIGTERM.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Config } from './config/schema.js';
import { createTokenVerifier, type TokenVerifierInternals } from './auth/verify.js';
import type { JwksHooks } from './auth/jwks.js';
import { readConfigFile } from './config/load.js';
import { formatConfigIssue } from './errors.js';
import { MISSING_HOST, TOO_MANY_HEADERS, createDecider, type Decider } from './policy/decide.js';
import type { Decision } from './policy/decision.js';
import { createForwarder, type Forwarder } from './proxy/forward.js';
import { createHeaderPolicy, type HeaderPolicy } from './proxy/headers.js';
import { sendDeny, sendError } from './proxy/respond.js';
import { createMetrics, type Metrics } from './telemetry/metrics.js';
import { accessLog, createLogger, type Logger } from './telemetry/logger.js';
import { createAdminServer } from './admin/server.js';
import { createDiscovery, createTokenInfo, isDiscoveryRequest, sendDiscovery, type Discovery, type TokenInfo } from './builtin.js';

export interface ScopegateOptions {
  /** Install SIGTERM/SIGINT drain and SIGHUP reload handlers (serve does; tests and the demo do not). */
  readonly installSignalHandlers?: boolean;
  /** Reload when the config file changes (serve does). Needs config.source.file to be a real file. */
  readonly watchConfig?: boolean;
  readonly logger?: Logger;
}

export type ReloadResult = 'applied' | 'unchanged' | 'invalid';

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
  /** Re-read config.source.file and apply it if valid and changed (what SIGHUP and the file watch do). */
  reload(trigger: string): Promise<ReloadResult>;
}

/**
 * The pieces a request needs, swapped as one on config reload. A request reads
 * `generation` once when it arrives and uses that object to the end, so
 * in-flight requests finish on the config they started with.
 */
interface Generation {
  readonly config: Config;
  readonly verifier: TokenVerifierInternals;
  readonly decider: Decider;
  readonly headers: HeaderPolicy;
  readonly forwarder: Forwarder;
  /** RFC 9728 metadata, when the config has a `resource:` section. */
  readonly discovery: Discovery | undefined;
  readonly tokenInfo: TokenInfo;
}

/** File-change events come in bursts (a ConfigMap update is several renames); one reload per burst. */
const RELOAD_DEBOUNCE_MS = 200;

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
  const authHooks: JwksHooks = {
    onJwksFetch(issuer, result, detail) {
      metrics.jwksRefresh(issuer, result);
      if (result !== 'success') logger.warn({ issuer, result, detail }, 'jwks fetch failed');
    },
    onKeySkipped(issuer, kid, reason) {
      logger.warn({ issuer, kid, reason }, 'jwks key skipped');
    },
    onKeyRefused(issuer, reason, count) {
      metrics.jwksKeysRefused(issuer, reason, count);
    },
  };

  const initialVerifier = createTokenVerifier(config.auth, authHooks);
  let generation: Generation = {
    config,
    verifier: initialVerifier,
    decider: createDecider(config, initialVerifier),
    headers: createHeaderPolicy(config.identityHeaders),
    forwarder: createForwarder(config.upstream),
    discovery: createDiscovery(config),
    tokenInfo: createTokenInfo(config),
  };
  metrics.setIssuerStateSource(() => generation.verifier.issuerStates());
  metrics.setTokenCacheSource(() => generation.verifier.cacheStats());
  metrics.setConfigHash(config.source.hash);
  let draining = false;

  /**
   * Answer or forward one decided request. Never throws: whatever goes wrong while
   * responding fails this one request (500, or a cut connection once headers are out),
   * never the process — an uncaught exception would take every client down with it.
   */
  function finish(req: IncomingMessage, res: ServerResponse, decision: Decision, started: number, gen: Generation): void {
    try {
      respond(req, res, decision, started, gen);
    } catch (error) {
      logger.error({ err: error, route: decision.allow ? decision.route : decision.route ?? 'unmatched' }, 'responding failed');
      if (!res.headersSent) sendError(res, 500, 'server_error', 'internal error while answering the request');
      else res.destroy();
    }
  }

  function respond(req: IncomingMessage, res: ServerResponse, decision: Decision, started: number, gen: Generation): void {
    const decided = performance.now();
    const decisionSeconds = (decided - started) / 1000;
    const method = req.method ?? '';
    if (!decision.allow) {
      metrics.decision('deny', decision.reason, decisionSeconds);
      sendDeny(res, decision, gen.config.auth.realm, gen.discovery?.url);
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
    const wouldDeny = decision.wouldDeny;
    if (decision.deprecatedScopes !== undefined) for (const scope of decision.deprecatedScopes) metrics.deprecatedScopeUse(scope);
    if (wouldDeny === undefined) {
      metrics.decision('allow', 'allowed', decisionSeconds);
    } else {
      metrics.decision('shadow_deny', wouldDeny.reason, decisionSeconds);
      logger.info(
        { method, route: decision.route, would_deny: wouldDeny.reason, status_if_enforced: wouldDeny.status, code: wouldDeny.code },
        'shadow deny',
      );
    }
    if (decision.respond === 'token_info') {
      // Config loading forbids `auth: none` here, so a token is always present; fail closed if not.
      if (decision.token === undefined) throw new Error('token_info route allowed without a token');
      gen.tokenInfo.send(res, decision.token, method === 'HEAD');
      const total = performance.now() - started;
      metrics.request(method, decision.route, 200, total / 1000);
      accessLog(logger, {
        id: REQUEST_ID_PREFIX + (++requestCounter).toString(36),
        method,
        route: decision.route,
        status: 200,
        reason: 'allowed',
        code: undefined,
        decision_us: Math.round(decisionSeconds * 1e6),
        upstream_ms: undefined,
        total_ms: total,
      });
      return;
    }
    // `Expect: 100-continue` (see checkContinue below): only now that the request is allowed may the client send its body.
    if (req.headers.expect !== undefined && !res.headersSent) res.writeContinue();
    const headers = gen.headers.buildUpstreamHeaders(req.rawHeaders, {
      token: decision.token,
      clientIp: req.socket.remoteAddress,
      proto: 'http',
    });
    gen.forwarder.forward(req, res, decision, headers).then((outcome) => {
      const total = performance.now() - started;
      metrics.request(method, decision.route, outcome.status, total / 1000);
      if (outcome.upstreamMs !== undefined) metrics.upstream(decision.route, outcome.upstreamMs / 1000);
      if (outcome.error !== undefined) metrics.upstreamError(outcome.error);
      accessLog(logger, {
        id: REQUEST_ID_PREFIX + (++requestCounter).toString(36),
        method,
        route: decision.route,
        status: outcome.status,
        reason: wouldDeny === undefined ? 'allowed' : wouldDeny.reason,
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
    const discovery = gen.discovery;
    if (discovery !== undefined && (req.method === 'GET' || req.method === 'HEAD') && isDiscoveryRequest(discovery, req.url ?? '')) {
      sendDiscovery(res, discovery, req.method === 'HEAD');
      const total = performance.now() - started;
      metrics.request(req.method, discovery.path, 200, total / 1000);
      accessLog(logger, { id: REQUEST_ID_PREFIX + (++requestCounter).toString(36), method: req.method, route: discovery.path, status: 200, reason: 'allowed', code: undefined, decision_us: 0, upstream_ms: undefined, total_ms: total });
      return;
    }
    let decision: Decision | Promise<Decision>;
    if (req.headers.host === undefined && req.httpVersionMinor === 1 && req.httpVersionMajor === 1) {
      finish(req, res, MISSING_HOST, started, gen);
      return;
    }
    // Node's maxHeadersCount only truncates req.headers; headers past it would still reach
    // the upstream from rawHeaders, unchecked (a second Host, a Content-Length). Refuse instead.
    if (req.rawHeaders.length > 2 * headerCountLimit) {
      finish(req, res, TOO_MANY_HEADERS, started, gen);
      return;
    }
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
      // Checked in onRequest instead: Node's own rejection is a body-less 400, ours is the usual JSON deny.
      requireHostHeader: false,
      // Node sweeps for expired headers/request timeouts only this often (default 30 s, which
      // would let a slowloris connection live 30 s past headers_timeout_ms).
      connectionsCheckingInterval: connectionsCheckingInterval(limits),
      joinDuplicateHeaders: false,
    },
    onRequest,
  );
  // One more than the limit, so onRequest sees a request that exceeds it (and answers 431)
  // instead of Node silently dropping headers past a 32-header batch boundary.
  // Fixed for the process's life (Node copies it into each connection's parser): a reload cannot change it.
  const headerCountLimit = limits.maxHeaderCount;
  server.maxHeadersCount = headerCountLimit + 1;
  server.maxConnections = limits.maxConnections;
  // Node answers `Expect: 100-continue` itself before 'request' unless this event
  // is handled: the client would then upload a body that a deny throws away.
  // Here the decision comes first; finish() sends 100 Continue only on an allow.
  server.on('checkContinue', onRequest);
  // CONNECT is never forwarded: answer it instead of letting Node drop the socket silently.
  /** Answers written on the raw socket (no request object to respond on) still get a metric and an access line. */
  function socketAnswer(socket: Socket, method: string, status: number, statusLine: string, error: string, description: string, code: string): void {
    const body = JSON.stringify({ error, error_description: description });
    socket.end(`HTTP/1.1 ${statusLine}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
    metrics.decision('deny', 'bad_request', 0);
    metrics.request(method, undefined, status, 0);
    accessLog(logger, { id: REQUEST_ID_PREFIX + (++requestCounter).toString(36), method, route: undefined, status, reason: 'bad_request', code, decision_us: 0, upstream_ms: undefined, total_ms: 0 });
  }
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    socketAnswer(socket, 'CONNECT', 405, '405 Method Not Allowed', 'method_not_allowed', 'CONNECT is not supported', 'ERR_ROUTE_METHOD_NOT_ALLOWED');
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const [status, statusLine, description] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? ([431, '431 Request Header Fields Too Large', 'request headers too large'] as const)
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? ([408, '408 Request Timeout', 'request timeout'] as const)
          : ([400, '400 Bad Request', 'malformed HTTP request'] as const);
    // The method is unknown (the request line may be what failed to parse): labelled OTHER.
    socketAnswer(socket, '', status, statusLine, 'invalid_request', description, error.code ?? 'ERR_HTTP_PARSE');
  });

  const admin = createAdminServer({
    metrics,
    isReady: () => {
      if (draining) return { ready: false, reason: 'draining' };
      if (!generation.verifier.ready()) return { ready: false, reason: 'signing keys not loaded for every issuer' };
      return { ready: true };
    },
  });

  metrics.setReadySource(() => !draining && generation.verifier.ready());

  // Keys first, but do not block listening on them: /readyz says when they are in.
  const keysStarted = generation.verifier.start();
  server.listen(config.listen.port, config.listen.host);
  admin.listen(config.adminListen.port, config.adminListen.host);
  try {
    await Promise.all([once(server, 'listening'), once(admin, 'listening')]);
  } catch (error) {
    // A port in use (or not permitted): release whatever did bind, so the process can exit with the error.
    server.close();
    admin.close();
    await Promise.all([generation.verifier.close(), generation.forwarder.close()]);
    throw error;
  }
  const address = server.address() as AddressInfo;
  const adminAddress = admin.address() as AddressInfo;
  const url = `http://${address.address}:${address.port}`;
  const adminUrl = `http://${adminAddress.address}:${adminAddress.port}`;
  logger.info(
    { listen: url, admin: adminUrl, upstream: config.upstream.url, routes: config.routes.length, issuers: config.auth.issuers.map((i) => i.issuer), config: config.source.file, config_sha256: config.source.hash },
    'scopegate started',
  );
  void keysStarted.then(() => {
    for (const state of generation.verifier.issuerStates()) {
      if (state.loaded) logger.info({ issuer: state.issuer, keys: state.keyCount }, 'signing keys loaded');
      else logger.warn({ issuer: state.issuer }, 'signing keys not loaded yet; tokens from this issuer get 503 until they are');
    }
  });

  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  let drainPromise: Promise<void> | undefined;

  async function closeEverything(): Promise<void> {
    watcher?.close();
    clearTimeout(reloadTimer);
    const adminClosed = new Promise<void>((r) => admin.close(() => r()));
    // Scrapers keep connections alive; without this, close() would wait for them.
    admin.closeAllConnections();
    await Promise.all([adminClosed, generation.forwarder.close(), generation.verifier.close()]);
  }

  // ---- hot reload ----
  let reloading: Promise<ReloadResult> = Promise.resolve('unchanged');

  async function applyReload(trigger: string): Promise<ReloadResult> {
    const current = generation;
    const file = current.config.source.file;
    const { config: next, issues } = readConfigFile(file);
    if (next === undefined) {
      metrics.configReload('failure');
      logger.error(
        { trigger, config: file, errors: issues.filter((i) => i.severity === 'error').map(formatConfigIssue) },
        'config reload rejected; still serving the last good config',
      );
      return 'invalid';
    }
    if (next.source.hash === current.config.source.hash) return 'unchanged';
    for (const issue of issues) logger.warn({ config: file, warning: formatConfigIssue(issue) }, 'config warning');
    const restartOnly = restartRequiredChanges(current.config, next);
    if (restartOnly.length > 0) logger.warn({ settings: restartOnly }, 'these settings change only on restart; keeping the running values');

    let decider: Decider;
    const verifier = createTokenVerifier(next.auth, authHooks, { reuse: current.verifier });
    try {
      decider = createDecider(next, verifier);
    } catch (error) {
      // The loader validated the routes, so this is a bug; keep the old config rather than serve none.
      await verifier.retire(current.verifier);
      metrics.configReload('failure');
      logger.error({ err: error, trigger }, 'config reload failed to compile; still serving the last good config');
      return 'invalid';
    }
    // New issuers' keys are fetched before the swap, so their first tokens do not wait on a fetch.
    // A new issuer whose JWKS is down still swaps in (the config is valid): /readyz then says
    // 503 and its tokens get 503, exactly as at startup, until its keys load.
    await verifier.start();
    if (draining) {
      // A drain began while keys loaded: the old generation is being closed; do not install a new one.
      await verifier.retire(current.verifier);
      return 'unchanged';
    }
    const upstreamChanged = JSON.stringify(next.upstream) !== JSON.stringify(current.config.upstream);
    generation = {
      config: next,
      verifier,
      decider,
      headers: createHeaderPolicy(next.identityHeaders),
      forwarder: upstreamChanged ? createForwarder(next.upstream) : current.forwarder,
      discovery: createDiscovery(next),
      tokenInfo: createTokenInfo(next),
    };
    applyServerLimits(next);
    metrics.setConfigHash(next.source.hash);
    metrics.configReload('success');
    logger.info({ trigger, config: file, config_sha256: next.source.hash, routes: next.routes.length, upstream_changed: upstreamChanged }, 'config reloaded');
    // The old generation's in-flight requests still hold it: close() on the old pool lets them finish.
    await current.verifier.retire(verifier);
    // Requests of the old generation may still be deciding (awaiting a key fetch) and dispatch
    // later: keep its pool open for one drain period, then close it (close() lets in-flight finish).
    if (upstreamChanged) setTimeout(() => void current.forwarder.close(), current.config.limits.drainTimeoutMs).unref();
    return 'applied';
  }

  function reload(trigger: string): Promise<ReloadResult> {
    // Serialize: a reload that starts while another runs reads the file after it. Never
    // rejects: a failure keeps the last good config, like an invalid file does.
    reloading = reloading
      .then(() => (draining ? 'unchanged' : applyReload(trigger)))
      .catch((error: unknown): ReloadResult => {
        metrics.configReload('failure');
        logger.error({ err: error, trigger }, 'config reload failed; still serving the last good config');
        return 'invalid';
      });
    return reloading;
  }

  function applyServerLimits(next: Config): void {
    server.headersTimeout = next.limits.headersTimeoutMs;
    server.requestTimeout = next.limits.requestTimeoutMs;
    server.keepAliveTimeout = next.limits.keepAliveTimeoutMs;
    server.maxConnections = next.limits.maxConnections;
  }

  // Kubernetes updates a ConfigMap mount by swapping a `..data` symlink in the
  // directory, so watch the directory (not the file, whose inode never changes
  // under a symlink swap), debounce the burst, and let the content hash decide.
  let watcher: FSWatcher | undefined;
  let reloadTimer: NodeJS.Timeout | undefined;
  if (options.watchConfig === true) {
    const file = config.source.file;
    try {
      watcher = watch(dirname(file), { persistent: false }, (_event, name) => {
        // Editors and Kubernetes touch sibling names (`..data`, `.swp`); any change may matter, the hash decides.
        void name;
        clearTimeout(reloadTimer);
        reloadTimer = setTimeout(() => void reload('file change'), RELOAD_DEBOUNCE_MS);
        reloadTimer.unref();
      });
      watcher.on('error', (error) => logger.warn({ err: error, config: file }, 'config watch failed; SIGHUP still reloads'));
      logger.info({ directory: dirname(file), file: basename(file) }, 'watching config for changes');
    } catch (error) {
      logger.warn({ err: error, config: file }, 'cannot watch the config directory; SIGHUP still reloads');
    }
  }

  function drain(reason: string): Promise<void> {
    if (drainPromise) return drainPromise;
    draining = true;
    const drainTimeoutMs = generation.config.limits.drainTimeoutMs;
    logger.info({ reason, in_flight_timeout_ms: drainTimeoutMs }, 'draining');
    drainPromise = (async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), DRAIN_IDLE_SWEEP_MS);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        server.closeAllConnections();
      }, drainTimeoutMs);
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
    process.on('SIGHUP', () => void reload('SIGHUP'));
  }

  return { url, adminUrl, done, drain, close, reload };
}

/** Half the shortest client timeout, at most a second: timeouts fire within that of their value. */
function connectionsCheckingInterval(limits: Config['limits']): number {
  const timeouts = [limits.headersTimeoutMs, limits.requestTimeoutMs].filter((ms) => ms > 0);
  return Math.max(50, Math.min(1000, ...timeouts.map((ms) => Math.floor(ms / 2))));
}

/** Settings a running process cannot change: sockets already bound, Node parser limits fixed at creation. */
function restartRequiredChanges(current: Config, next: Config): string[] {
  const changed: string[] = [];
  if (JSON.stringify(current.listen) !== JSON.stringify(next.listen)) changed.push('listen');
  if (JSON.stringify(current.adminListen) !== JSON.stringify(next.adminListen)) changed.push('admin_listen');
  if (current.limits.maxHeaderBytes !== next.limits.maxHeaderBytes) changed.push('limits.max_header_bytes');
  // Node copies maxHeadersCount into each connection's parser when it is accepted.
  if (current.limits.maxHeaderCount !== next.limits.maxHeaderCount) changed.push('limits.max_header_count');
  return changed;
}

/** `scopegate serve`: run until drained by a signal; resolves with the exit code. */
export async function runServe(config: Config): Promise<number> {
  const running = await startScopegate(config, { installSignalHandlers: true, watchConfig: true });
  return running.done;
}
