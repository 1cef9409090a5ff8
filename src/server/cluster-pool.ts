/**
 * The primary's workers (README, "Workers"): fork N on one set of ports
 * (node:cluster hands the listening sockets out), keep N running, restarting
 * and counting any that dies, answer readiness and metrics over all of them,
 * and fan drain and reload out to every one.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../telemetry/logger.js';
import { isWorkerMessage, type PrimaryMessage, type WorkerMessage, type WorkerMetrics } from './cluster-messages.js';
import { createScrapes } from './cluster-scrape.js';

/** A worker that dies this soon after its fork counts as crash-looping: its replacement waits longer each time. */
const QUICK_DEATH_MS = 5_000;
const RESTART_DELAY_MIN_MS = 100;
const RESTART_DELAY_MAX_MS = 5_000;

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

/** The next replacement waits longer after each death that came soon after a fork: a crash loop is slowed, not spun. */
function restartDelayMs(quickDeaths: number): number {
  return quickDeaths === 0 ? 0 : Math.min(RESTART_DELAY_MAX_MS, RESTART_DELAY_MIN_MS * 2 ** (quickDeaths - 1));
}

/** Ready while all `count` workers run and each says it is ready; else the first reason why not. */
function poolReadiness(members: readonly Member[], count: number): { ready: boolean; reason?: string } {
  const up = members.filter((m) => m.started !== undefined);
  if (up.length < count) return { ready: false, reason: `${up.length} of ${count} workers running` };
  const notReady = up.find((m) => !m.readiness.ready);
  if (notReady !== undefined) return { ready: false, reason: `worker ${notReady.worker.process.pid}: ${notReady.readiness.reason ?? 'not ready'}` };
  return { ready: true };
}

export function createWorkerPool(count: number, events: PoolEvents): WorkerPool {
  const { logger } = events;
  const members = new Map<number, Member>();
  const scrapes = createScrapes();
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
      scrapes.answer(member.worker.id, member.worker.process.pid, message);
    }
  }

  function onExit(member: Member, code: number | null, signal: string | null): void {
    members.delete(member.worker.id);
    scrapes.forget(member.worker.id);
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
    const delay = restartDelayMs(quickDeaths);
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
    readiness: () => (stopping ? { ready: false, reason: 'draining' } : poolReadiness([...members.values()], count)),
    collectMetrics() {
      const asked = [...members.values()].filter((m) => m.started !== undefined && m.worker.isConnected()).map((m) => m.worker.id);
      return scrapes.collect(asked, (id, requestId) => {
        const member = members.get(id);
        if (member !== undefined) send(member, { type: 'scopegate:metrics?', requestId });
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
