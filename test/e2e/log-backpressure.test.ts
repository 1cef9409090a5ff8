/**
 * The data plane never waits for its logs: the real `scopegate serve` process
 * with its stdout a pipe nobody reads. Requests keep flowing at the drained
 * rate, the admin endpoints answer at once, whole lines are dropped and
 * counted, memory stays bounded, and logging resumes with the reader.
 *
 * (With synchronous logging this stalled within a second of the pipe filling:
 * throughput fell to nothing and /healthz did not answer.)
 */
import t from 'tap';
import { Pool } from 'undici';
import { send } from '../helpers/http.js';
import { startStack } from '../helpers/stack.js';

const ISSUER = 'https://idp.e2e.test/';
/**
 * A long route template makes each access line ~1.1 KB (YAML caps a key at 1024 characters) (the line carries the template), so the
 * pipe (~200 KB) and the buffer fill within a few hundred requests even on a slow, shared machine.
 */
const PREFIX = `/reports-${'r'.repeat(900)}`;
const ROUTES = [`GET ${PREFIX}/:id: reports:read`];

/** Concurrent keep-alive connections driving load: enough to keep the sidecar busy on 2 cores. */
const CONNECTIONS = 16;
const DRAINED_MS = 2500;
/** The sidecar's log buffer for this test: 128 KiB instead of the default 4 MiB; the mechanism is the same. */
const BUFFER_BYTES = 128 * 1024;
const MAX_STALLED_MS = 14_000;
/** Keep the load on this long after the first drop, probing the admin port meanwhile. */
const AFTER_DROP_MS = 2000;
const PROBE_BUDGET_MS = 500;
const RSS_GROWTH_MAX_MB = 64;

interface Progress {
  ok: number;
  failed: number;
}

/**
 * Drives GETs on CONNECTIONS connections until `until()` says stop, alternately
 * allowed (forwarded: 200) and without a token (answered by the sidecar: 401);
 * counts the expected answers and anything else.
 */
async function drive(pool: Pool, token: string, until: () => boolean, progress: Progress = { ok: 0, failed: 0 }): Promise<Progress & { ms: number }> {
  let n = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (!until()) {
      try {
        const allowed = n % 2 === 0;
        const res = await pool.request({ method: 'GET', path: `${PREFIX}/${n++}`, headers: allowed ? { authorization: `Bearer ${token}` } : {} });
        await res.body.dump();
        if (res.statusCode === (allowed ? 200 : 401)) progress.ok += 1;
        else progress.failed += 1;
      } catch {
        progress.failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  return { ...progress, ms: performance.now() - started };
}

/** GET on the admin port, timed; a reply later than the budget counts as no reply. */
async function probe(adminUrl: string, path: string): Promise<{ status: number; ms: number; body: string }> {
  const started = performance.now();
  try {
    const res = await send(adminUrl, path, { signal: AbortSignal.timeout(PROBE_BUDGET_MS * 4) });
    return { status: res.status, ms: performance.now() - started, body: res.body };
  } catch {
    return { status: 0, ms: performance.now() - started, body: '' };
  }
}

const droppedTotal = (metrics: string): number => Number(/^scopegate_log_lines_dropped_total (\d+)/m.exec(metrics)?.[1] ?? NaN);

t.test('stdout not read: requests, probes and metrics carry on; lines are dropped, counted, and resume', async (t) => {
  const { sidecar, token: tokenFor } = await startStack(t, { issuer: ISSUER, routes: ROUTES, extra: `logging:\n  buffer_bytes: ${BUFFER_BYTES}` });
  const token = tokenFor('reports:read');
  const pool = new Pool(sidecar.url, { connections: CONNECTIONS, headersTimeout: 3000, bodyTimeout: 3000 });
  t.teardown(() => pool.close());
  const stdout = sidecar.proc.stdout!;
  t.teardown(() => void stdout.resume()); // never leave the sidecar's pipe stalled behind a failed assertion

  // Warm up (JIT, the token cache, connections), then the drained rate.
  let deadline = performance.now() + 500;
  await drive(pool, token, () => performance.now() > deadline);
  deadline = performance.now() + DRAINED_MS;
  const drained = await drive(pool, token, () => performance.now() > deadline);
  const drainedRate = (drained.ok / drained.ms) * 1000;
  t.equal(drained.failed, 0, 'no failures while stdout is read');
  const before = await probe(sidecar.adminUrl, '/metrics');
  t.equal(droppedTotal(before.body), 0, 'nothing dropped while stdout is read');

  // Nobody reads stdout from here: the parent's buffer, then the pipe, then the sidecar's buffer fill up.
  stdout.pause();
  const rssBefore = sidecar.rss();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, sidecar.rss())), 100);
  let firstDropAt = 0;
  let stop = false;
  let window: { start: number; ok: number } | undefined;
  const probes: { path: string; status: number; ms: number }[] = [];
  let dropped = 0;
  const prober = (async () => {
    while (!stop) {
      const [healthz, readyz, metrics] = await Promise.all(['/healthz', '/readyz', '/metrics'].map((path) => probe(sidecar.adminUrl, path)));
      // Probes count from when the pipe is certainly full (the measured window below).
      if (window !== undefined) probes.push({ path: '/healthz', ...healthz! }, { path: '/readyz', ...readyz! }, { path: '/metrics', ...metrics! });
      dropped = droppedTotal(metrics!.body);
      if (dropped > 0 && firstDropAt === 0) firstDropAt = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  // The rate and probes that count are those with the pipe certainly full: from the first drop
  // on (or, if none ever comes, over the phase's last AFTER_DROP_MS).
  const stalledStart = performance.now();
  const progress: Progress = { ok: 0, failed: 0 };
  const stalled = await drive(
    pool,
    token,
    () => {
      const now = performance.now();
      const windowStart = firstDropAt > 0 ? firstDropAt : stalledStart + MAX_STALLED_MS - AFTER_DROP_MS;
      if (window === undefined && now >= windowStart) window = { start: now, ok: progress.ok };
      stop = now - stalledStart > MAX_STALLED_MS || (firstDropAt > 0 && now - firstDropAt > AFTER_DROP_MS);
      return stop;
    },
    progress,
  );
  const stalledEnd = performance.now();
  await prober;
  clearInterval(sampler);
  const stalledRate = window === undefined ? 0 : ((stalled.ok - window.ok) / (stalledEnd - window.start)) * 1000;

  t.comment(`drained ${drainedRate.toFixed(0)} req/s; stdout not read ${stalledRate.toFixed(0)} req/s once lines were dropped; ${dropped} lines dropped`);
  t.ok(dropped > 0, `scopegate_log_lines_dropped_total > 0 (${dropped})`);
  t.equal(stalled.failed, 0, 'no request failed while stdout was not read');
  t.ok(stalledRate >= 0.7 * drainedRate, `rate with stdout not read ${stalledRate.toFixed(0)} ≥ 0.7 × ${drainedRate.toFixed(0)} req/s`);
  for (const path of ['/healthz', '/readyz', '/metrics']) {
    const mine = probes.filter((p) => p.path === path);
    const slowest = Math.max(...mine.map((p) => p.ms));
    t.ok(mine.length > 0 && mine.every((p) => p.status === 200) && slowest < PROBE_BUDGET_MS, `${path}: 200 within ${PROBE_BUDGET_MS} ms every time, ${mine.length} probes (slowest ${slowest.toFixed(0)} ms)`);
  }
  const growthMb = (rssPeak - rssBefore) / 1048576;
  t.ok(growthMb <= RSS_GROWTH_MAX_MB, `RSS grew ${growthMb.toFixed(1)} MB ≤ ${RSS_GROWTH_MAX_MB} MB`);

  // The reader comes back: the buffered lines, a notice of the loss, then new access lines.
  const seenBefore = sidecar.stdout.length;
  stdout.resume();
  const notices = await sidecar.waitForLogs('log lines dropped: the log reader did not keep up', 1, 10_000).catch(() => []);
  const reported = notices.reduce((sum, l) => sum + Number(l['dropped_lines']), 0);
  t.ok(reported > 0, `a notice says how many lines were lost (${reported})`);
  for (let i = 0; i < 5; i++) t.equal((await send(sidecar.url, '/after-resume')).status, 404);
  const deadlineResume = Date.now() + 10_000;
  let resumed: Record<string, unknown>[] = [];
  while (resumed.length < 5 && Date.now() < deadlineResume) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    resumed = sidecar.logs('request').filter((l) => l['status'] === 404 && l['route'] === 'unmatched');
  }
  t.equal(resumed.length, 5, 'access lines appear again after the reader resumes');
  t.ok(sidecar.stdout.length > seenBefore, 'output flows again');
  const torn = sidecar.stdout.filter((l) => {
    try {
      JSON.parse(l);
      return false;
    } catch {
      return true;
    }
  });
  t.same(torn, [], 'no partial line ever reached the reader');
});
