/**
 * One soak scenario: the built sidecar between the soak's IdP and upstream, under
 * steady mixed load for `seconds`, with the faults of a working day in the middle:
 * at 40% the IdP rotates its signing key (at 45% the old key leaves the set), at
 * 55% the config file is rewritten (a route is added; the file watch reloads it),
 * at 70% the upstream restarts (down for UPSTREAM_DOWN_MS). /healthz and /readyz
 * are probed throughout and RSS is sampled. Returns what was observed; the
 * verdicts are report.mjs's.
 */
import { request } from 'undici';
import { startIdp } from './idp.mjs';
import { runLoad } from './load.mjs';
import { RELOADED_PATH, soakConfig, startSidecar } from './sidecar.mjs';
import { startUpstream } from './upstream.mjs';

const UPSTREAM_DOWN_MS = 1000;
/** After the reader of an unread stdout comes back, a new access line must arrive within this long. */
const RESUME_WAIT_MS = 10_000;
const RESUME_POLL_MS = 200;
const RSS_SAMPLE_MS = 250;
const PROBE_MS = 500;
/** The reload must be applied within this long of the file being rewritten (debounce + compile). */
const RELOAD_WAIT_MS = 10_000;
/**
 * The log buffer with stdout unread: 64 KiB rather than the 4 MiB default, so that even a
 * 20-second run on a slow machine (~100 requests/s) reaches the point where lines are
 * dropped; the mechanism does not depend on the size. With stdout read: the default.
 */
const UNDRAINED_BUFFER_BYTES = 64 * 1024;

const sleepUntil = (at) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));

async function waitFor(predicate, ms) {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (await predicate()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** GET path on the proxy listener, with a token when given: the status only. */
async function statusOf(sidecar, path, token) {
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const res = await request(`${sidecar.url}${path}`, { headers, headersTimeout: 5000, bodyTimeout: 5000 });
  await res.body.dump();
  return res.statusCode;
}

/**
 * The faults, in order, at their fractions of the run. Mutates `events` as they happen.
 * @param {{ t0: number, ms: number, idp: any, sidecar: any, upstream: any, config: (reloaded: boolean) => string, events: Record<string, any> }} o
 */
async function timeline({ t0, ms, idp, sidecar, upstream, config, events }) {
  const at = (fraction) => t0 + fraction * ms;
  await sleepUntil(at(0.4));
  events.rotation = { at: performance.now() - t0, jwksFetchesBefore: idp.fetches };
  idp.rotate();
  await sleepUntil(at(0.45));
  idp.retire();
  events.rotation.jwksFetchesAfter = idp.fetches;

  await sleepUntil(at(0.55));
  const rewrittenAt = performance.now();
  sidecar.rewriteConfig(config(true));
  const applied = await waitFor(async () => (await sidecar.metric('scopegate_config_reloads_total', '{result="success"}')) >= 1, RELOAD_WAIT_MS);
  events.reload = { at: rewrittenAt - t0, appliedMs: applied ? performance.now() - rewrittenAt : undefined };
  if (applied) events.reload.newRouteStatus = await statusOf(sidecar, RELOADED_PATH, idp.tokens().allowed[0]);

  await sleepUntil(at(0.7));
  const { downAt, upAt } = await upstream.restart(UPSTREAM_DOWN_MS);
  events.restart = { downAt, upAt, down: downAt - t0, up: upAt - t0 };
}

/**
 * @param {{ name: string, drained: boolean, seconds: number, connections: number, distinct: number }} o
 */
export async function runScenario(o) {
  const idp = await startIdp({ distinct: o.distinct });
  const upstream = await startUpstream();
  const config = (reloaded) => soakConfig({ jwksUri: idp.jwksUri, upstream: upstream.url, bufferBytes: o.drained ? undefined : UNDRAINED_BUFFER_BYTES, reloaded });
  const sidecar = await startSidecar(config(false), { drained: o.drained });
  const closeAll = async () => {
    const exit = await sidecar.stop();
    await upstream.close();
    await idp.close();
    return exit;
  };
  try {
    if (!(await waitFor(async () => (await sidecar.admin('/readyz')).status === 200, 20_000))) throw new Error(`not ready: ${sidecar.stderr()}`);
    const before = { newRouteStatus: await statusOf(sidecar, RELOADED_PATH, idp.tokens().allowed[0]), rss: sidecar.rss() };

    const ms = o.seconds * 1000;
    const t0 = performance.now();
    const end = t0 + ms;
    const events = {};
    const rss = [];
    const probes = [];
    const sampler = setInterval(() => rss.push({ at: performance.now() - t0, bytes: sidecar.rss() }), RSS_SAMPLE_MS);
    const prober = setInterval(() => {
      for (const path of ['/healthz', '/readyz']) {
        const started = performance.now();
        sidecar.admin(path).then(
          (r) => probes.push({ path, status: r.status, ms: r.ms }),
          (err) => probes.push({ path, status: 0, ms: performance.now() - started, error: String(err?.code ?? err) }),
        );
      }
    }, PROBE_MS);
    const faults = timeline({ t0, ms, idp, sidecar, upstream, config, events });
    const load = await runLoad({ url: sidecar.url, connections: o.connections, tokens: idp.tokens, reloadedLive: () => events.reload?.appliedMs !== undefined, until: () => performance.now() >= end });
    clearInterval(sampler);
    clearInterval(prober);
    await faults;

    const final = { readyz: (await sidecar.admin('/readyz')).status, healthz: (await sidecar.admin('/healthz')).status, dropped: await sidecar.metric('scopegate_log_lines_dropped_total') };
    if (!o.drained) {
      // The reader comes back: logging must resume. Lines written while the buffer is still full are
      // dropped, so a request is sent every RESUME_POLL_MS until one's access line arrives.
      sidecar.resumeStdout();
      const marker = `/soak/after-resume-${Date.now()}`;
      const line = sidecar.waitForLine(marker, RESUME_WAIT_MS);
      let settled = false;
      void line.then(() => (settled = true));
      while (!settled) {
        await statusOf(sidecar, marker);
        await new Promise((resolve) => setTimeout(resolve, RESUME_POLL_MS));
      }
      final.resumed = await line;
    }
    const exit = await closeAll();
    return { ...o, t0, ms, load, rss, probes, events, before, final, exit, upstreamRequests: upstream.requests };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
