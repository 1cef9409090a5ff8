/**
 * Drain and stop (README, Operations): on SIGTERM or SIGINT, /readyz turns 503,
 * the listener stops accepting, in-flight requests finish (up to
 * limits.drain_timeout_ms) and everything else is closed; a second signal exits
 * at once. SIGHUP reloads. The client-facing listeners (the proxy's, the authz
 * one, or both) are drained together.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../telemetry/logger.js';

/** Idle keep-alive sockets are closed this often while draining, so clients reconnect elsewhere promptly. */
const DRAIN_IDLE_SWEEP_MS = 100;

/** A listener that could not bind: which setting, which address, and the system's code (EADDRINUSE, EACCES). */
export class ListenError extends Error {
  constructor(
    readonly setting: 'listen' | 'admin_listen' | 'authz_listen',
    readonly address: string,
    readonly code: string,
  ) {
    super(`cannot listen on ${address} (${setting}): ${code === 'EADDRINUSE' ? 'the address is already in use' : code === 'EACCES' ? 'permission denied' : code}`);
    this.name = 'ListenError';
  }
}

/** Resolves once `server` listens; a bind failure rejects with a ListenError naming the setting. */
export async function listening(server: Server, setting: ListenError['setting'], at: { readonly host: string; readonly port: number }): Promise<void> {
  try {
    await once(server, 'listening');
  } catch (error) {
    const address = at.host.includes(':') ? `[${at.host}]:${at.port}` : `${at.host}:${at.port}`;
    throw new ListenError(setting, address, (error as NodeJS.ErrnoException).code ?? 'unknown error');
  }
}

/** http://host:port of a bound listener, as the start line and RunningScopegate give it. */
export function addressUrl(address: AddressInfo, scheme: 'http' | 'https' = 'http'): string {
  return `${scheme}://${address.address}:${address.port}`;
}

export interface LifecycleDeps {
  /** The client-facing listeners: the proxy listener, the authz listener, or both. */
  readonly servers: readonly Server[];
  readonly logger: Logger;
  /** Read when the drain starts: the current generation's limits.drain_timeout_ms. */
  readonly drainTimeoutMs: () => number;
  /** Called first, before anything closes (readiness turns 503, reloads stop). */
  readonly onStopping: () => void;
  /** Close everything but the client-facing listeners (admin listener, pools, key refresh). */
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
  const { servers, logger } = deps;
  const closeAll = (): Promise<void[]> => Promise.all(servers.map((server) => new Promise<void>((r) => server.close(() => r()))));
  const forEach = (f: (server: Server) => void): void => servers.forEach(f);
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  let drainPromise: Promise<void> | undefined;

  function drain(reason: string): Promise<void> {
    if (drainPromise) return drainPromise;
    deps.onStopping();
    const drainTimeoutMs = deps.drainTimeoutMs();
    logger.info({ reason, in_flight_timeout_ms: drainTimeoutMs }, 'draining');
    drainPromise = (async () => {
      const closed = closeAll();
      forEach((server) => server.closeIdleConnections());
      const sweep = setInterval(() => forEach((server) => server.closeIdleConnections()), DRAIN_IDLE_SWEEP_MS);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        forEach((server) => server.closeAllConnections());
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
    forEach((server) => server.closeAllConnections());
    await closeAll();
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
