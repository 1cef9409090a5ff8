/**
 * A deadline for one outbound operation (a JWKS, introspection or metadata fetch)
 * that no peer behaviour can outlive: the operation ends by `ms` whether the peer
 * refuses, accepts and never answers, sends headers and stalls, or trickles a body.
 *
 * Why not `AbortSignal.any([AbortSignal.timeout(ms), …])`: Node's timeout signal is
 * referenced by its own timer only through a WeakRef, and a composite signal holds
 * its sources weakly too, so a full garbage collection can drop the timeout signal
 * before it fires; the fetch waiting on it then waits for ever (nodejs/node#57736).
 * Here the timer is a plain `setTimeout` whose callback holds the controller
 * strongly, and Node's timer list holds the timer while it is armed: it fires.
 * It is `unref`'d (a pending fetch never keeps the process alive) and cleared when
 * the operation settles (a finished fetch leaves nothing armed behind).
 *
 * `withDeadline` also races the operation itself, so a library that ignores its
 * abort signal somewhere (a body stream, a DNS lookup) cannot stretch the deadline.
 */

export const DEADLINE_EXCEEDED = 'ERR_DEADLINE_EXCEEDED';

/** The reason a deadline's signal aborts with when its time is up. */
export class DeadlineExceededError extends Error {
  readonly code = DEADLINE_EXCEEDED;
  constructor(readonly ms: number) {
    super(`no complete answer within ${ms} ms`);
    this.name = 'DeadlineExceededError';
  }
}

export interface Deadline {
  /** Aborts when the time is up (reason: DeadlineExceededError) or when `parent` aborts (its reason). */
  readonly signal: AbortSignal;
  /** True once the time ran out (as opposed to the parent aborting). */
  expired(): boolean;
  /** Disarm the timer and detach from the parent. Idempotent; call it when the operation settles. */
  clear(): void;
}

/**
 * Arm a deadline of `ms` milliseconds, optionally tied to a longer-lived `parent`
 * signal (e.g. "the store is closing"). The listener on `parent` is removed by
 * `clear()`, so one long-lived parent does not collect a listener per fetch.
 */
export function startDeadline(ms: number, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  const onParentAbort = (): void => controller.abort(parent?.reason);
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DeadlineExceededError(ms));
  }, ms);
  timer.unref();
  if (parent?.aborted === true) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    expired: () => timedOut,
    clear() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}

/**
 * Run `operation` under a deadline: it receives the deadline's signal, and the
 * returned promise settles by `ms` at the latest (rejecting with the signal's reason)
 * even if the operation never looks at the signal. The timer is cleared either way.
 */
export async function withDeadline<T>(
  ms: number,
  parent: AbortSignal | undefined,
  operation: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const deadline = startDeadline(ms, parent);
  const { signal } = deadline;
  let onAbort: (() => void) | undefined;
  try {
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    const running = operation(signal);
    // Once the race is lost nobody awaits the operation; its own rejection is expected.
    running.catch(() => {});
    return await Promise.race([running, aborted]);
  } finally {
    deadline.clear();
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}
