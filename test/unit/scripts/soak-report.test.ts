/**
 * The soak's verdicts (scripts/soak/report.mjs) on made-up runs: each assertion
 * fails when it should, and a 502 is forgiven only for a forwarded request inside
 * the upstream's restart window.
 */
import t from 'tap';

interface Answer {
  kind: string;
  status: number;
  ms: number;
  at: number;
}
interface Report {
  lines: string[];
  failed: number;
}
// A script module without type declarations: imported by URL, typed here by what the test uses.
const { report } = (await import(new URL('../../../scripts/soak/report.mjs', import.meta.url).href)) as { report: (r: unknown) => Report };

const MIB = 1024 * 1024;
const MS = 20_000;

function run(o: { answers?: Answer[]; errors?: unknown[]; rssGrowthMiB?: number; resumed?: boolean } = {}): Record<string, unknown> {
  const answers = o.answers ?? [
    { kind: 'allowed', status: 200, ms: 2, at: 1000 },
    { kind: 'forbidden', status: 403, ms: 2, at: 1001 },
    { kind: 'expired', status: 401, ms: 2, at: 1002 },
  ];
  const rss = Array.from({ length: 80 }, (_, i) => ({ at: (i + 1) * 250, bytes: 100 * MIB + (i >= 60 ? (o.rssGrowthMiB ?? 0) * MIB : 0) }));
  return {
    name: 'made-up',
    drained: false,
    seconds: MS / 1000,
    connections: 1,
    distinct: 100,
    ms: MS,
    load: { answers, errors: o.errors ?? [], ms: MS },
    rss,
    probes: [{ path: '/healthz', status: 200, ms: 1 }],
    events: { rotation: { at: 8000, jwksFetchesBefore: 1, jwksFetchesAfter: 2 }, reload: { at: 11000, appliedMs: 300, newRouteStatus: 200 }, restart: { downAt: 14_000, upAt: 15_000, down: 14_000, up: 15_000 } },
    before: { newRouteStatus: 404, rss: 90 * MIB },
    final: { readyz: 200, healthz: 200, dropped: 12, resumed: o.resumed ?? true },
    exit: { code: 0, signal: null },
  };
}

t.test('a clean run passes every assertion', async (t) => {
  const r = report(run());
  t.equal(r.failed, 0, r.lines.join('\n'));
  t.match(r.lines.join('\n'), /RSS \(MiB\) +start 90\.0; 25% 100\.0, 50% 100\.0, 75% 100\.0, 100% 100\.0/);
});

t.test('a 502 is forgiven only on a forwarded request inside the restart window', async (t) => {
  const inWindow = { kind: 'allowed', status: 502, ms: 3, at: 14_500 };
  const inGrace = { kind: 'public', status: 502, ms: 3, at: 16_500 };
  t.equal(report(run({ answers: [inWindow, inGrace] })).failed, 0);
  for (const bad of [
    { kind: 'allowed', status: 502, ms: 3, at: 5000 }, // before the restart
    { kind: 'allowed', status: 502, ms: 3, at: 17_500 }, // after the grace
    { kind: 'forbidden', status: 502, ms: 3, at: 14_500 }, // not forwarded: must be 403 whatever the upstream does
    { kind: 'allowed', status: 401, ms: 3, at: 14_500 }, // not a restart status
  ]) {
    const r = report(run({ answers: [inWindow, bad] }));
    t.equal(r.failed, 1, `${bad.kind} → ${bad.status} at ${bad.at}`);
    t.match(r.lines.join('\n'), /FAIL no unexpected status outside the upstream's restart window \(1: /);
  }
});

t.test('client errors, RSS growth and logging that does not resume fail', async (t) => {
  t.match(report(run({ errors: [{ kind: 'allowed', error: 'UND_ERR_SOCKET', at: 1 }] })).lines.join('\n'), /FAIL no client errors \(1\)/);
  t.equal(report(run({ rssGrowthMiB: 31 })).failed, 0, '31 MiB is within the limit');
  t.match(report(run({ rssGrowthMiB: 40 })).lines.join('\n'), /FAIL RSS flat after warm-up/);
  t.match(report(run({ resumed: false })).lines.join('\n'), /FAIL logging resumes when the reader does/);
});
