/**
 * The soak's verdicts and its printout: statuses per kind, p50/p99, RSS at the
 * quarter marks, the faults as they happened, and one PASS/FAIL line per assertion.
 */
import { median, percentile } from '../../bench/lib/measure.mjs';
import { EXPECTED, FORWARDED } from './load.mjs';

/**
 * RSS is flat after warm-up when the median of the last quarter's samples is at most this
 * far above the median of the second quarter's (the first quarter is warm-up: JIT, the
 * token cache filling, connection pools). Medians, because a GC can move one sample by
 * tens of MiB. The rotation adds a second key's tokens to the cache after the midpoint,
 * a few MiB at most.
 */
export const RSS_GROWTH_LIMIT_MIB = 32;
/** After the upstream listens again, forwarded requests may still fail this long (pooled sockets to the old process). */
const RESTART_GRACE_MS = 2000;
/** Statuses a forwarded request may get while the upstream restarts: it is unreachable (502) or slow (504). */
const RESTART_STATUSES = new Set([502, 503, 504]);

const MIB = 1024 * 1024;
const mib = (bytes) => (bytes / MIB).toFixed(1);

function inRestartWindow(answer, restart) {
  if (restart === undefined) return false;
  return answer.at <= restart.upAt + RESTART_GRACE_MS && answer.at + answer.ms >= restart.downAt;
}

/** The RSS sample nearest each quarter mark. */
function quarterMarks(samples, ms) {
  return [0.25, 0.5, 0.75, 1].map((q) => {
    const target = q * ms;
    let best = samples[0];
    for (const s of samples) if (Math.abs(s.at - target) < Math.abs(best.at - target)) best = s;
    return best?.bytes ?? NaN;
  });
}

function statusTable(answers) {
  /** @type {Map<string, Map<number, number>>} */
  const byKind = new Map();
  for (const a of answers) {
    const row = byKind.get(a.kind) ?? new Map();
    row.set(a.status, (row.get(a.status) ?? 0) + 1);
    byKind.set(a.kind, row);
  }
  return [...byKind].map(([kind, row]) => `    ${kind.padEnd(14)} ${[...row].sort((x, y) => x[0] - y[0]).map(([status, count]) => `${status}×${count}`).join('  ')}`);
}

/**
 * @param {any} r what runScenario returned
 * @returns {{ lines: string[], failed: number, rate: number }}
 */
export function report(r) {
  const { answers, errors } = r.load;
  const restart = r.events.restart;
  const unexpected = answers.filter((a) => a.status !== EXPECTED[a.kind] && !(FORWARDED.has(a.kind) && RESTART_STATUSES.has(a.status) && inRestartWindow(a, restart)));
  const tolerated = answers.filter((a) => a.status !== EXPECTED[a.kind]).length - unexpected.length;
  const latencies = answers.map((a) => a.ms);
  const rate = (answers.length / r.load.ms) * 1000;
  const marks = quarterMarks(r.rss, r.ms);
  const window = (from, to) => r.rss.filter((s) => s.at > from * r.ms && s.at <= to * r.ms).map((s) => s.bytes);
  const settled = median(window(0.25, 0.5));
  const last = median(window(0.75, 1));
  const badProbes = r.probes.filter((p) => p.status !== 200);
  const slowestProbe = Math.max(0, ...r.probes.map((p) => p.ms));
  const ev = r.events;

  const lines = [
    `scenario: ${r.name} — ${r.seconds} s, ${r.connections} connections, ${r.distinct} distinct allowed tokens per signing key`,
    `  requests       ${answers.length} (${rate.toFixed(0)}/s), client errors ${errors.length}${errors.length > 0 ? ` (${[...new Set(errors.map((e) => e.error))].slice(0, 5).join(', ')})` : ''}`,
    '  statuses by kind:',
    ...statusTable(answers),
    `  latency        p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms`,
    `  RSS (MiB)      start ${mib(r.before.rss)}; 25% ${mib(marks[0])}, 50% ${mib(marks[1])}, 75% ${mib(marks[2])}, 100% ${mib(marks[3])}; median 2nd quarter ${mib(settled)}, last quarter ${mib(last)}`,
    `  rotation       at ${(ev.rotation.at / 1000).toFixed(1)} s, JWKS fetches ${ev.rotation.jwksFetchesBefore} → ${ev.rotation.jwksFetchesAfter}`,
    `  reload         file rewritten at ${(ev.reload.at / 1000).toFixed(1)} s, applied after ${ev.reload.appliedMs === undefined ? 'NEVER' : `${ev.reload.appliedMs.toFixed(0)} ms`}; ${'/soak/reloaded'} ${r.before.newRouteStatus} before, ${ev.reload.newRouteStatus ?? '-'} after`,
    `  upstream       down ${(restart.down / 1000).toFixed(1)}–${(restart.up / 1000).toFixed(1)} s; ${tolerated} forwarded requests got 502/503/504 in its window (+${RESTART_GRACE_MS} ms grace)`,
    `  probes         ${r.probes.length} of /healthz and /readyz, slowest ${slowestProbe.toFixed(0)} ms`,
    `  log            ${r.final.dropped} lines dropped${r.drained ? '' : `; logging resumed with the reader: ${r.final.resumed ? 'yes' : 'NO'}`}`,
  ];
  const checks = [
    [unexpected.length === 0, `no unexpected status outside the upstream's restart window (${unexpected.length}${unexpected.length > 0 ? `: ${unexpected.slice(0, 5).map((a) => `${a.kind}→${a.status}`).join(', ')}` : ''})`],
    [errors.length === 0, `no client errors (${errors.length})`],
    [badProbes.length === 0, `/healthz and /readyz 200 throughout (${badProbes.length} other)`],
    [last - settled <= RSS_GROWTH_LIMIT_MIB * MIB, `RSS flat after warm-up: last-quarter median − second-quarter median = ${mib(last - settled)} MiB ≤ ${RSS_GROWTH_LIMIT_MIB} MiB`],
    [r.before.newRouteStatus === 404 && ev.reload.newRouteStatus === 200, 'the reload applied: the added route 404 before, 200 after'],
    [ev.rotation.jwksFetchesAfter > ev.rotation.jwksFetchesBefore, 'the rotated key was fetched (unknown kid → one refetch)'],
    [r.final.readyz === 200 && r.final.healthz === 200, `ready at the end (/readyz ${r.final.readyz}, /healthz ${r.final.healthz})`],
    [r.exit.code === 0, `SIGTERM drains and exits 0 (${r.exit.code ?? r.exit.signal})`],
  ];
  if (r.drained) checks.push([r.final.dropped === 0, 'no log line dropped while stdout is read']);
  else checks.push([r.final.dropped > 0, 'stdout unread: lines dropped and counted'], [r.final.resumed === true, 'logging resumes when the reader does']);
  for (const [ok, text] of checks) lines.push(`  ${ok ? 'PASS' : 'FAIL'} ${text}`);
  return { lines, failed: checks.filter(([ok]) => !ok).length, rate };
}
