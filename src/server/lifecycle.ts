/**
 * Drain and stop (README, Operations): on SIGTERM or SIGINT, /readyz turns 503,
 * the listener stops accepting, in-flight requests finish (up to
 * limits.drain_timeout_ms) and everything else is closed; a second signal exits
 * at once. SIGHUP reloads.
 */
import type { Server } from 'node:http';
import type { Logger } from '../telemetry/logger.js';

/** Idle keep-alive sockets are closed this often while draining, so clients reconnect elsewhere promptly. */
const DRAIN_IDLE_SWEEP_MS = 100;

export interface LifecycleDeps {
  readonly server: Server;
  readonly logger: Logger;
  /** Read when the drain starts: the current generation's limits.drain_timeout_ms. */
  readonly drainTimeoutMs: () => number;
  /** Called first, before anything closes (readiness turns 503, reloads stop). */
  readonly onStopping: () => void;
  /** Close everything but the proxy listener (admin listener, pools, key refresh). */
  readonly closeRest: () => Promise<void>;
}

export interface Lifecycle {
  /** Resolves after a drain completes or times out, with the exit code the process should use. */
  readonly done: Promise<number>;
  drain(reason: string): Promise<void>;
  /** Immediate stop (tests, demo). */
  close(): Promise<void>;
  installSignalHandlers(reload: (trigger: string) => unknown): void;
}

export function createLifecycle(deps: LifecycleDeps): Lifecycle {
  const { server, logger } = deps;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  let drainPromise: Promise<void> | undefined;

  function drain(reason: string): Promise<void> {
    if (drainPromise) return drainPromise;
    deps.onStopping();
    const drainTimeoutMs = deps.drainTimeoutMs();
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
      await deps.closeRest();
      logger.info({ timed_out: timedOut }, 'drained, exiting');
      resolveDone(0);
    })();
    return drainPromise;
  }

  async function close(): Promise<void> {
    deps.onStopping();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await deps.closeRest();
    resolveDone(0);
  }

  function installSignalHandlers(reload: (trigger: string) => unknown): void {
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

  return { done, drain, close, installSignalHandlers };
}
