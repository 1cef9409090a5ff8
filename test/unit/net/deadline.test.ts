/**
 * net/deadline.ts: the deadline fires under forced garbage collections (where Node's
 * `AbortSignal.any([AbortSignal.timeout()])` may not: nodejs/node#57736), follows its
 * parent, leaves no listener or armed timer behind, and never keeps the process alive.
 */
import { execFileSync } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { DeadlineExceededError, startDeadline, withDeadline } from '../../../src/net/deadline.js';
import { gcPressure } from '../../helpers/gc.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Settles after `ms` with 'pending' if `p` has not settled by then. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'pending'>((r) => (timer = setTimeout(() => r('pending'), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

t.test('an operation that never settles ends at the deadline, under a full GC every 5 ms', async (t) => {
  const stop = gcPressure(5);
  t.teardown(stop);
  const parent = new AbortController();
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    // The operation keeps nothing alive: only the deadline's own timer can end it.
    const outcome = await within(
      withDeadline(100, parent.signal, () => new Promise<never>(() => {})).catch((err: unknown) => err),
      3000,
    );
    const took = Date.now() - t0;
    t.ok(outcome instanceof DeadlineExceededError, `run ${i}: rejected with DeadlineExceededError`);
    t.equal((outcome as DeadlineExceededError).code, 'ERR_DEADLINE_EXCEEDED');
    t.ok(took >= 95 && took < 1500, `run ${i}: after ${took} ms`);
  }
  t.equal(getEventListeners(parent.signal, 'abort').length, 0, 'no listener left on the long-lived parent');
});

t.test('control: the GC pressure is real (weakly held objects die; Node 20 loses AbortSignal.timeout in AbortSignal.any)', async (t) => {
  const stop = gcPressure(5);
  t.teardown(stop);
  const weak = new WeakRef({ payload: 'only weakly held' });
  await sleep(50);
  t.equal(weak.deref(), undefined, 'a full collection ran and cleared a WeakRef');
  // What the deadline replaces, measured under the same pressure (nodejs/node#57736).
  const parent = new AbortController();
  let lost = 0;
  for (let i = 0; i < 3; i++) {
    const signal = AbortSignal.any([AbortSignal.timeout(100), parent.signal]);
    const fired = new Promise<string>((r) => signal.addEventListener('abort', () => r('fired'), { once: true }));
    if ((await within(fired, 1000)) === 'pending') lost++;
  }
  t.comment(`AbortSignal.any([AbortSignal.timeout(100)]) lost ${lost} of 3 timers on Node ${process.version}`);
});

t.test('the parent aborting ends the operation with its reason; a parent already aborted ends it at once', async (t) => {
  const parent = new AbortController();
  const running = withDeadline(10_000, parent.signal, (signal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('saw abort')))));
  parent.abort(new Error('closing'));
  await t.rejects(running, { message: 'closing' });
  await t.rejects(withDeadline(10_000, parent.signal, () => sleep(50)), { message: 'closing' });
});

t.test('a settled operation returns its value, clears the timer and detaches from the parent', async (t) => {
  const parent = new AbortController();
  let seen: AbortSignal | undefined;
  const value = await withDeadline(100, parent.signal, async (signal) => {
    seen = signal;
    return 42;
  });
  t.equal(value, 42);
  t.equal(getEventListeners(parent.signal, 'abort').length, 0);
  await sleep(150);
  t.equal(seen?.aborted, false, 'the cleared deadline never fired');
  await t.rejects(withDeadline(100, undefined, async () => Promise.reject(new Error('own failure'))), { message: 'own failure' });
  await t.rejects(
    withDeadline(100, parent.signal, () => {
      throw new Error('synchronous');
    }),
    { message: 'synchronous' },
  );
  t.equal(getEventListeners(parent.signal, 'abort').length, 0, 'detached after a synchronous throw too');
});

t.test('startDeadline: expired() tells the timeout from a parent abort; clear() disarms', async (t) => {
  const d = startDeadline(30);
  await sleep(80);
  t.ok(d.signal.aborted && d.expired());
  t.ok(d.signal.reason instanceof DeadlineExceededError);
  const parent = new AbortController();
  const p = startDeadline(1000, parent.signal);
  parent.abort();
  t.ok(p.signal.aborted && !p.expired(), 'parent abort is not a timeout');
  p.clear();
  const c = startDeadline(30);
  c.clear();
  await sleep(80);
  t.notOk(c.signal.aborted, 'cleared: never fires');
});

t.test('an armed deadline never keeps the process alive (the timer is unref’d)', async (t) => {
  const module = fileURLToPath(new URL('../../../dist/net/deadline.js', import.meta.url));
  const t0 = Date.now();
  execFileSync(process.execPath, ['--input-type=module', '-e', `import { startDeadline } from ${JSON.stringify(module)}; startDeadline(60_000);`], { timeout: 20_000 });
  t.ok(Date.now() - t0 < 20_000, 'exited without waiting for the 60 s deadline');
});
