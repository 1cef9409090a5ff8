/**
 * Composition root: the only module that knows every piece
 * (docs/architecture.md, Modules). Builds the first generation, the proxy and
 * admin listeners, reload and lifecycle, and wires them together.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import type { AuthHooks } from './auth/types.js';
import type { Config, ListenAddress } from './config/schema.js';
import { requiredKeysReady } from './admin/readiness.js';
import { createAdminServer } from './admin/server.js';
import { createRecentDenials, observingDenials } from './admin/recent-denials.js';
import { buildStatus } from './admin/status.js';
import { buildGeneration, createGenerationVerifier, type Generation } from './server/generation.js';
import { addressUrl, createLifecycle, listening, type ListenError } from './server/lifecycle.js';
import { createAuthzListener } from './server/authz-listener.js';
import { applyListenerLimits, createProxyListener, type ListenerDeps } from './server/listener.js';
import { createReloader, type ReloadResult } from './server/reload.js';
import { createTlsCertificates } from './server/tls.js';
import { keyDetailsOf } from './auth/verify.js';
import { createRequestRecorder } from './telemetry/access.js';
import { createLogger, type Logger } from './telemetry/logger.js';
import { createMetrics, type ListenerLabel, type Metrics } from './telemetry/metrics.js';

export type { ReloadResult } from './server/reload.js';

export interface ScopegateOptions {
  /** Install SIGTERM/SIGINT drain and SIGHUP reload handlers (serve does; tests and the demo do not). */
  readonly installSignalHandlers?: boolean;
  /** Reload when the config file changes (serve does). Needs config.source.file to be a real file. */
  readonly watchConfig?: boolean;
  readonly logger?: Logger;
  /**
   * One of `workers: N` processes (server/cluster-worker.ts): no admin listener
   * (the primary serves it), and the start line says `worker started`.
   */
  readonly worker?: boolean;
}

export interface RunningScopegate {
  /** http://host:port (https:// with `tls`) of the proxy listener; '' when the config is authz-only (no `listen`). */
  readonly url: string;
  /** http://host:port of the authz listener, when `authz_listen` is set. */
  readonly authzUrl: string | undefined;
  /** http://host:port of the admin listener; '' in a worker (the primary has it). */
  readonly adminUrl: string;
  /** What /readyz answers (a worker reports it to the primary). */
  readiness(): { readonly ready: boolean; readonly reason?: string };
  /** This process's metrics (a worker's are summed by the primary). */
  readonly metrics: Metrics;
  /** Resolves after a drain completes or times out, with the exit code the process should use. */
  readonly done: Promise<number>;
  /** Begin a graceful drain: /readyz turns 503, stop accepting, finish in-flight, close. */
  drain(reason: string): Promise<void>;
  /** Immediate stop (tests, demo). */
  close(): Promise<void>;
  /** Re-read config.source.file and apply it if valid and changed (what SIGHUP and the file watch do). */
  reload(trigger: string): Promise<ReloadResult>;
}

export async function startScopegate(config: Config, options: ScopegateOptions = {}): Promise<RunningScopegate> {
  const startedAt = Date.now();
  const { level, access, bufferBytes } = config.logging;
  const logger = options.logger ?? createLogger({ level, access, bufferBytes });
  const listenerLabels: ListenerLabel[] = [];
  if (config.listen !== undefined) listenerLabels.push('proxy');
  if (config.authzListen !== undefined) listenerLabels.push('authz');
  const metrics = createMetrics({ listeners: listenerLabels });
  const authHooks: AuthHooks = {
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
    onIntrospection(result, seconds, detail) {
      metrics.introspection(result, seconds);
      // `detail` is a fixed reason (timeout, HTTP 401, …): never a token or the secret.
      if (result === 'error') logger.warn({ cause: 'introspection', reason: detail }, 'token introspection failed');
    },
  };
  // Fixed for the process's life (Node copies it into each connection's parser): a reload cannot change it.
  const maxHeaderCount = config.limits.maxHeaderCount;
  let generation: Generation = buildGeneration(config, createGenerationVerifier(config, authHooks), { maxHeaderCount });
  let draining = false;
  const current = (): Generation => generation;
  // Built per config: a reload may change which issuers are optional.
  let keysReadyFor = { config: generation.config, check: requiredKeysReady(generation.config) };
  const keysReady = (): boolean => {
    if (keysReadyFor.config !== generation.config) keysReadyFor = { config: generation.config, check: requiredKeysReady(generation.config) };
    return keysReadyFor.check(generation.verifier.issuerStates());
  };

  metrics.setIssuerStateSource(() => generation.verifier.issuerStates());
  metrics.setTokenCacheSource(() => generation.verifier.cacheStats());
  metrics.setReplayCacheSource(() => generation.planner.dpop?.replayCacheSize());
  metrics.setConfigHash(config.source.hash);
  metrics.setReadySource(() => !draining && keysReady());

  // The admin page's recent denials and counts, fed where every finished request is recorded.
  const denials = createRecentDenials(config.admin.recentDenials, config.logging.fields);
  const recordRequest = observingDenials(createRequestRecorder(metrics, logger, config.logging.fields), denials);
  const listenerDeps: ListenerDeps = { current, metrics, logger, recordRequest };
  // Either or both: an authz-only config has no proxy listener (README, "Decisions for nginx, Caddy, Envoy and Traefik").
  // TLS on `listen` (README, TLS): the pair is re-read when its files change and on SIGHUP.
  const tls = config.tls === undefined || config.listen === undefined ? undefined : createTlsCertificates(config.tls, logger);
  const server = config.listen === undefined ? undefined : createProxyListener(config.limits, listenerDeps, tls?.options);
  if (tls !== undefined && server !== undefined) tls.attach(server as unknown as TlsServer); // with options, createProxyListener made an https.Server: a tls.Server
  const authz = config.authzListen === undefined ? undefined : createAuthzListener(config.limits, listenerDeps);
  const clientFacing = [server, authz].filter((s): s is Server => s !== undefined);
  const readiness = (): { readonly ready: boolean; readonly reason?: string } => {
    if (draining) return { ready: false, reason: 'draining' };
    if (!keysReady()) return { ready: false, reason: 'signing keys not loaded for every required issuer' };
    return { ready: true };
  };
  let installed = { number: 1, loadedAt: startedAt };
  const listenerUrls: { name: string; url: string }[] = [];
  // A worker of `workers: N` has no admin listener: the primary serves it (server/cluster.ts).
  const admin = options.worker === true ? undefined : createAdminServer({
    metrics,
    isReady: readiness,
    status: () =>
      buildStatus({
        startedAt,
        config: () => generation.config,
        routes: () => generation.planner.routes,
        issuerStates: () => generation.verifier.issuerStates(),
        keyDetails: () => keyDetailsOf(generation.verifier.jwt),
        generation: () => installed,
        readiness,
        listeners: () => listenerUrls,
        denials,
      }),
  });
  const reloader = createReloader({
    current,
    install(next) {
      generation = next;
      installed = { number: installed.number + 1, loadedAt: Date.now() };
      for (const s of clientFacing) applyListenerLimits(s, next.config.limits);
    },
    draining: () => draining,
    maxHeaderCount,
    authHooks,
    metrics,
    logger,
  });
  const lifecycle = createLifecycle({
    servers: clientFacing,
    logger,
    drainTimeoutMs: () => generation.config.limits.drainTimeoutMs,
    onStopping: () => (draining = true),
    async closeRest() {
      reloader.close();
      tls?.close();
      const adminClosed = new Promise<void>((r) => (admin === undefined ? r() : admin.close(() => r())));
      // Scrapers keep connections alive; without this, close() would wait for them.
      admin?.closeAllConnections();
      await Promise.all([adminClosed, generation.forwarder.close(), generation.verifier.close()]);
    },
  });

  // Keys first, but do not block listening on them: /readyz says when they are in.
  const keysStarted = generation.verifier.start();
  const candidates: [Server | undefined, ListenAddress | undefined, ListenError['setting']][] = [
    [admin, config.adminListen, 'admin_listen'],
    [server, config.listen, 'listen'],
    [authz, config.authzListen, 'authz_listen'],
  ];
  const bindings = candidates.filter((b): b is [Server, ListenAddress, ListenError['setting']] => b[0] !== undefined && b[1] !== undefined);
  try {
    await Promise.all(bindings.map(([s, address, setting]) => listenOn(s, address, setting)));
  } catch (error) {
    // A port in use (or not permitted): release whatever did bind, so the process can exit with the error.
    for (const [s] of bindings) s.close();
    await Promise.all([generation.verifier.close(), generation.forwarder.close()]);
    throw error;
  }
  const url = server === undefined ? '' : addressUrl(server.address() as AddressInfo, tls === undefined ? 'http' : 'https');
  const authzUrl = authz === undefined ? undefined : addressUrl(authz.address() as AddressInfo);
  const adminUrl = admin === undefined ? '' : addressUrl(admin.address() as AddressInfo);
  for (const [name, u] of [['proxy', url], ['authz', authzUrl ?? ''], ['admin', adminUrl]] as const) if (u !== '') listenerUrls.push({ name, url: u });
  logger.info(
    { listen: url === '' ? undefined : url, authz_listen: authzUrl, admin: adminUrl === '' ? undefined : adminUrl, upstream: config.upstream?.url, routes: config.routes.length, issuers: config.auth.issuers.map((i) => i.issuer), config: config.source.file, config_sha256: config.source.hash },
    options.worker === true ? 'worker started' : 'scopegate started',
  );
  void keysStarted.then(() => {
    for (const state of generation.verifier.issuerStates()) {
      if (state.loaded) logger.info({ issuer: state.issuer, keys: state.keyCount }, 'signing keys loaded');
      else logger.warn({ issuer: state.issuer }, 'signing keys not loaded yet; tokens from this issuer get 503 until they are');
    }
  });

  if (options.watchConfig === true) reloader.watch(config.source.file);
  if (options.watchConfig === true) tls?.watch();
  // SIGHUP re-reads the certificate pair too; the config reload's result is what the caller gets.
  const reload = tls === undefined ? reloader.reload : (trigger: string): Promise<ReloadResult> => (tls.reload(trigger), reloader.reload(trigger));
  if (options.installSignalHandlers === true) lifecycle.installSignalHandlers(reload);
  return { url, authzUrl, adminUrl, readiness, metrics, done: lifecycle.done, drain: lifecycle.drain, close: lifecycle.close, reload };
}

/** A port that is taken becomes a ListenError naming the setting and the address (one line, no stack). */
function listenOn(server: Server, address: ListenAddress, setting: ListenError['setting']): Promise<void> {
  server.listen(address.port, address.host);
  return listening(server, setting, address);
}
