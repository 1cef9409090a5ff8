/**
 * One /metrics scrape with `workers: N`: ask every running worker for its
 * registry over IPC and wait for all of them, for at most SCRAPE_TIMEOUT_MS.
 * A worker that exits mid-scrape is simply left out (its counts went with it).
 */
import type { WorkerMessage, WorkerMetrics } from './cluster-messages.js';

/** A worker busy for this long without answering a scrape is reported as a failed scrape, not waited for. */
const SCRAPE_TIMEOUT_MS = 3_000;

interface Pending {
  readonly waiting: Set<number>;
  readonly results: WorkerMetrics[];
  settle(error?: Error): void;
}

export interface Scrapes {
  /** `ask` sends the request to one worker (by cluster worker id); resolves with every answer. */
  collect(workerIds: readonly number[], ask: (workerId: number, requestId: number) => void): Promise<WorkerMetrics[]>;
  /** A worker's answer. */
  answer(workerId: number, pid: number | undefined, message: Extract<WorkerMessage, { type: 'scopegate:metrics' }>): void;
  /** A worker exited: no answer will come from it. */
  forget(workerId: number): void;
}

export function createScrapes(): Scrapes {
  const pending = new Map<number, Pending>();
  let nextRequestId = 0;
  const received = (request: Pending, workerId: number): void => {
    if (request.waiting.delete(workerId) && request.waiting.size === 0) request.settle();
  };
  return {
    collect(workerIds, ask) {
      const requestId = nextRequestId++;
      return new Promise((resolve, reject) => {
        const results: WorkerMetrics[] = [];
        const timer = setTimeout(() => settle(new Error(`a worker did not answer within ${SCRAPE_TIMEOUT_MS} ms`)), SCRAPE_TIMEOUT_MS);
        const settle = (error?: Error): void => {
          clearTimeout(timer);
          pending.delete(requestId);
          if (error === undefined) resolve(results);
          else reject(error);
        };
        pending.set(requestId, { waiting: new Set(workerIds), results, settle });
        if (workerIds.length === 0) return settle();
        for (const id of workerIds) ask(id, requestId);
      });
    },
    answer(workerId, pid, message) {
      const request = pending.get(message.requestId);
      if (request === undefined) return;
      if (message.error !== undefined || message.metrics === undefined) return request.settle(new Error(`worker ${pid}: ${message.error ?? 'no metrics'}`));
      request.results.push(message.metrics);
      received(request, workerId);
    },
    forget(workerId) {
      for (const request of pending.values()) received(request, workerId);
    },
  };
}
