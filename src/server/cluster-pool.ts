/**
 * The primary's workers (README, "Workers"): fork N on one set of ports
 * (node:cluster hands the listening sockets out), keep N running, restarting
 * and counting any that dies, answer readiness and metrics over all of them,
 * and fan drain and reload out to every one.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../telemetry/logger.js';
import { isWorkerMessage, type PrimaryMessage, type WorkerMessage, type WorkerMetrics } from './cluster-messages.js';

/** A worker that dies this soon after its fork counts as crash-looping: its replacement waits longer each time. */
const QUICK_DEATH_MS = 5_000;
const RESTART_DELAY_MIN_MS = 100;
const RESTART_DELAY_MAX_MS = 5_000;
/** A worker busy for this long without answering a scrape is reported as a failed scrape, not waited for. */
const METRICS_TIMEOUT_MS = 3_000;

interface Member {
  readonly worker: Worker;
  readonly forkedAt: number;
  started?: Extract<WorkerMessage, { type: 'scopegate:started' }>;
  readiness: { ready: boolean; reason?: string };
}

export interface PoolEvents {
  readonly logger: Logger;
  /** A worker died while the pool was running and was replaced. */
  readonly onRestart: () => void;
  /** Each new worker, before it runs (e.g. to read its output). */
  readonly onFork: (worker: Worker) => void;
}

export interface WorkerPool {
  /** Resolves once every worker listens, with the first one's addresses; rejects if one dies first. */
  start(): Promise<Extract<WorkerMessage, { type: 'scopegate:started' }>>;
  pids(): number[];
  readiness(): { ready: boolean; reason?: string };
  /** Every running worker's metrics; rejects if one does not answer in time. */
  collectMetrics(): Promise<WorkerMetrics[]>;
  reload(trigger: string): void;
  /** Tell every worker to drain; resolves when all have exited (stragglers are killed after `timeoutMs`). */
  drain(reason: string, timeoutMs: number): Promise<void>;
  /** Kill every worker now. */
  kill(): void;
}

export function createWorkerPool(count: number, events: PoolEvents): WorkerPool {
  const { logger } = events;
  const members = new Map<number, Member>();
  const metricsRequests = new Map<number, { pending: Set<number>; results: WorkerMetrics[]; settle: (error?: Error) => void }>();
  let nextRequestId = 0;
  let running = false;
  let stopping = false;
  let quickDeaths = 0;
  let onAllExited: (() => void) | undefined;
  let onStartFailed: ((error: Error) => void) | undefined;
  let onAllStarted: (() => void) | undefined;

  const send = (member: Member, message: PrimaryMessage): void => {
    if (member.worker.isConnected()) member.worker.send(message);
  };

  function killAll(): void {
    stopping = true;
    for (const m of members.values()) m.worker.process.kill('SIGKILL');
  }

  function fork(): void {
    const worker = cluster.fork();
    events.onFork(worker);
    const member: Member = { worker, forkedAt: Date.now(), readiness: { ready: false, reason: 'starting' } };
    members.set(worker.id, member);
    worker.on('message', (message: unknown) => onMessage(member, message));
    worker.on('exit', (code, signal) => onExit(member, code, signal));
  }

  function onMessage(member: Member, message: unknown): void {
    if (!isWorkerMessage(message)) return;
    if (message.type === 'scopegate:started') {
      member.started = message;
      if ([...members.values()].every((m) => m.started !== undefined)) onAllStarted?.();
    } else if (message.type === 'scopegate:readiness') {
      member.readiness = { ready: message.ready, ...(message.reason === undefined ? {} : { reason: message.reason }) };
    } else {
      const request = metricsRequests.get(message.requestId);
      if (request === undefined) return;
      if (message.error !== undefined || message.metrics === undefined) return request.settle(new Error(`worker ${member.worker.process.pid}: ${message.error ?? 'no metrics'}`));
      request.results.push(message.metrics);
      request.pending.delete(member.worker.id);
      if (request.pending.size === 0) request.settle();
    }
  }

  function onExit(member: Member, code: number | null, signal: string | null): void {
    members.delete(member.worker.id);
    for (const request of metricsRequests.values()) {
      // Its share of this scrape is gone with it: finish without it rather than time out.
      if (request.pending.delete(member.worker.id) && request.pending.size === 0) request.settle();
    }
    const pid = member.worker.process.pid;
    if (stopping) {
      if (members.size === 0) onAllExited?.();
      return;
    }
    if (!running) {
      onStartFailed?.(new Error(`worker ${pid} exited during start (${signal ?? `code ${code}`})`));
      return;
    }
    events.onRestart();
    quickDeaths = Date.now() - member.forkedAt < QUICK_DEATH_MS ? quickDeaths + 1 : 0;
    const delay = quickDeaths === 0 ? 0 : Math.min(RESTART_DELAY_MAX_MS, RESTART_DELAY_MIN_MS * 2 ** (quickDeaths - 1));
    logger.warn({ worker_pid: pid, code, signal, restart_in_ms: delay }, 'worker exited; starting a replacement');
    setTimeout(() => {
      if (!stopping) fork();
    }, delay).unref();
  }

  return {
    start() {
      return new Promise((resolve, reject) => {
        onStartFailed = (error) => {
          stopping = true;
          for (const m of members.values()) m.worker.process.kill('SIGKILL');
          reject(error);
        };
        onAllStarted = () => {
          running = true;
          onAllStarted = undefined;
          resolve([...members.values()][0]!.started!);
        };
        for (let i = 0; i < count; i++) fork();
      });
    },
    pids: () => [...members.values()].flatMap((m) => (m.worker.process.pid === undefined ? [] : [m.worker.process.pid])),
    readiness() {
      if (stopping) return { ready: false, reason: 'draining' };
      const up = [...members.values()].filter((m) => m.started !== undefined);
      if (up.length < count) return { ready: false, reason: `${up.length} of ${count} workers running` };
      const notReady = up.find((m) => !m.readiness.ready);
      if (notReady !== undefined) return { ready: false, reason: `worker ${notReady.worker.process.pid}: ${notReady.readiness.reason ?? 'not ready'}` };
      return { ready: true };
    },
    collectMetrics() {
      const asked = [...members.values()].filter((m) => m.started !== undefined && m.worker.isConnected());
      const requestId = nextRequestId++;
      return new Promise((resolve, reject) => {
        const results: WorkerMetrics[] = [];
        const timer = setTimeout(() => settle(new Error(`a worker did not answer within ${METRICS_TIMEOUT_MS} ms`)), METRICS_TIMEOUT_MS);
        const settle = (error?: Error): void => {
          clearTimeout(timer);
          metricsRequests.delete(requestId);
          if (error === undefined) resolve(results);
          else reject(error);
        };
        metricsRequests.set(requestId, { pending: new Set(asked.map((m) => m.worker.id)), results, settle });
        if (asked.length === 0) return settle();
        for (const m of asked) send(m, { type: 'scopegate:metrics?', requestId });
      });
    },
    reload(trigger) {
      for (const m of members.values()) send(m, { type: 'scopegate:reload', trigger });
    },
    drain(reason, timeoutMs) {
      stopping = true;
      if (members.size === 0) return Promise.resolve();
      const exited = new Promise<void>((resolve) => (onAllExited = resolve));
      for (const m of members.values()) send(m, { type: 'scopegate:drain', reason });
      const timer = setTimeout(() => {
        logger.warn({ workers: members.size }, 'workers still running after the drain timeout: killing them');
        killAll();
      }, timeoutMs);
      return exited.finally(() => clearTimeout(timer));
    },
    kill: killAll,
  };
}
