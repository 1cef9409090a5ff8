/**
 * A worker's side of `workers: N` (README, "Workers"): it runs the whole
 * single-process scopegate (its own generation, reload watch, JWKS keyring,
 * token cache, drain) minus the admin listener, and tells the primary what the
 * primary's admin port needs: that it listens, whether it is ready, and its
 * metrics on request. The primary's drain and reload arrive as messages.
 */
import type { RunningScopegate } from '../server.js';
import { isPrimaryMessage, type WorkerMessage } from './cluster-messages.js';

/**
 * Readiness is re-read this often and sent only when it changes: a probe sees
 * a worker's state at most this late (kubelet probes every 10 s by default),
 * and an idle worker sends nothing.
 */
const READINESS_POLL_MS = 200;

function send(message: WorkerMessage): void {
  // After the primary is gone there is nobody to tell; the disconnect handler drains.
  if (process.connected) process.send?.(message);
}

export function reportToPrimary(running: RunningScopegate): void {
  send({ type: 'scopegate:started', url: running.url, authzUrl: running.authzUrl });
  let last = '';
  const report = (): void => {
    const r = running.readiness();
    const key = `${r.ready} ${r.reason ?? ''}`;
    if (key === last) return;
    last = key;
    send({ type: 'scopegate:readiness', ready: r.ready, ...(r.reason === undefined ? {} : { reason: r.reason }) });
  };
  report();
  const poll = setInterval(report, READINESS_POLL_MS);
  poll.unref();
  void running.done.then(() => clearInterval(poll));

  process.on('message', (message: unknown) => {
    if (!isPrimaryMessage(message)) return;
    if (message.type === 'scopegate:drain') {
      void running.drain(message.reason);
      report();
    } else if (message.type === 'scopegate:reload') {
      void running.reload(message.trigger);
    } else {
      const { requestId } = message;
      running.metrics.registry.getMetricsAsJSON().then(
        (metrics) => send({ type: 'scopegate:metrics', requestId, metrics }),
        (error: unknown) => send({ type: 'scopegate:metrics', requestId, error: error instanceof Error ? error.message : String(error) }),
      );
    }
  });
  // No handler for the primary's death (SIGKILL, OOM): node:cluster itself ends a worker whose IPC channel
  // closes unexpectedly, at once, so no orphan keeps serving (or holding the port) without a primary.
}
