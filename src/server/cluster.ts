/**
 * The primary process of `workers: N` (README, "Workers"). It serves no
 * client traffic: it forks N workers that each run the whole single-process
 * scopegate on the same ports (node:cluster), and it owns what must be one per
 * pod: the admin listener (/readyz over every worker, /metrics summed over
 * every worker) and the signals (SIGTERM/SIGINT drain all, SIGHUP reloads all).
 */
import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Counter, Registry } from 'prom-client';
import { createAdminServer } from '../admin/server.js';
import type { Config } from '../config/schema.js';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { createLogRelay } from './cluster-logs.js';
import { aggregateMetrics } from './cluster-metrics.js';
import { createWorkerPool, type WorkerPool } from './cluster-pool.js';
import { addressUrl, listening } from './lifecycle.js';

/** The workers run the same CLI (`serve --config FILE`), whatever started the primary (the CLI, a test, a bundler). */
const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));

/**
 * After the drain timeout every worker has closed its listeners; it then gives
 * its log output up to a second (commands/serve.ts) before it exits. Past this
 * margin a worker is stuck, and is killed.
 */
const WORKER_EXIT_MARGIN_MS = 3_000;

export interface RunningPrimary {
  /** Resolves after every worker has exited, with the exit code the process should use. */
  readonly done: Promise<number>;
}

/** Starts the admin listener and N workers; rejects with a ListenError when the admin port cannot be bound. */
export async function startPrimary(config: Config, count: number): Promise<RunningPrimary> {
  const { level, access, bufferBytes } = config.logging;
  const logger = createLogger({ level, access, bufferBytes });
  const registry = new Registry();
  const restarts = new Counter({ name: 'scopegate_worker_restarts_total', help: 'Workers that exited while serving and were replaced (workers: N > 1).', registers: [registry] });
  // silent: each worker's stdout and stderr are pipes the relay reads.
  cluster.setupPrimary({ exec: CLI, args: ['serve', '--config', config.source.file], silent: true });
  const pool = createWorkerPool(count, { logger, onRestart: () => restarts.inc(), onFork: createLogRelay(bufferBytes, registry) });
  const admin = createAdminServer({
    metrics: {
      contentType: registry.contentType,
      text: async () => aggregateMetrics([...(await pool.collectMetrics()), await registry.getMetricsAsJSON()]).metrics(),
    },
    isReady: () => pool.readiness(),
  });
  admin.listen(config.adminListen.port, config.adminListen.host);
  await listening(admin, 'admin_listen', config.adminListen);

  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  const closeAdmin = (): Promise<void> => {
    admin.closeAllConnections();
    return new Promise((resolve) => admin.close(() => resolve()));
  };
  let started;
  try {
    started = await pool.start();
  } catch (error) {
    // The worker has written why (a port taken, an introspection secret missing) to stderr itself.
    logger.error({ err: error }, 'a worker failed to start; stopping');
    await closeAdmin();
    resolveDone(1);
    return { done };
  }
  const adminUrl = addressUrl(admin.address() as AddressInfo);
  logger.info({ listen: started.url === '' ? undefined : started.url, authz_listen: started.authzUrl, admin: adminUrl, workers: count, worker_pids: pool.pids(), config: config.source.file, config_sha256: config.source.hash }, 'scopegate started');
  if (config.auth.dpop !== undefined) logger.warn({ workers: count }, 'each worker keeps its own DPoP replay cache: a proof replayed to another worker is not detected (README, "Workers")');
  installPrimarySignals(pool, logger, config.limits.drainTimeoutMs + WORKER_EXIT_MARGIN_MS, async () => {
    await closeAdmin();
    logger.info({}, 'drained, exiting');
    resolveDone(0);
  });
  return { done };
}

function installPrimarySignals(pool: WorkerPool, logger: Logger, drainTimeoutMs: number, afterDrain: () => Promise<void>): void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      pool.kill();
      process.exit(1);
    }
    logger.info({ reason: signal, workers: pool.pids().length }, 'draining');
    void pool.drain(signal, drainTimeoutMs).then(afterDrain);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => {
    logger.info({ workers: pool.pids().length }, 'SIGHUP: reloading every worker');
    pool.reload('SIGHUP');
  });
}
