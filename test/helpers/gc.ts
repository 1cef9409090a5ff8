/**
 * Forced full garbage collections in the test process, with or without
 * `--expose-gc`: tests of timers that must survive a collection (nodejs/node#57736)
 * need collections to really happen while they wait.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The `gc()` function V8 exposes with --expose-gc (enabled here at run time if the flag was not given). */
export const gc: () => void = (() => {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/** Collect every `ms` until the returned function is called. */
export function gcPressure(ms = 5): () => void {
  const timer = setInterval(gc, ms);
  timer.unref();
  return () => clearInterval(timer);
}
