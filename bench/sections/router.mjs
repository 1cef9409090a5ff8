/**
 * 1. Router: GitHub's REST API route table, ~1,000 requests (static, param-heavy, misses),
 * every adapter checked against the expected answers before it is timed.
 */
import { createReferenceMatcher } from '../../dist/routes/reference.js';
import { routerAdapters } from '../adapters/router/index.mjs';
import { buildWorkload, loadGithubRoutes } from '../lib/github-routes.mjs';
import { alternate, makeLoop } from '../lib/measure.mjs';
import { mdTable, num, ratio, target } from '../lib/report.mjs';

const answerKey = (o) => (o === null ? 'miss' : `${o.template} ${JSON.stringify(Object.entries(o.params).sort())}`);

export async function runRouter({ quick, log }) {
  const table = loadGithubRoutes();
  const ref = createReferenceMatcher(table.routes.map((r) => ({ template: r.template, methods: [r.method], data: 0 })));
  const workload = buildWorkload(table.routes, 1000, 42, (m, p) => ref.match(m, p).kind !== 'found');
  const kinds = { static: 0, param: 0, miss: 0 };
  for (const q of workload) kinds[q.kind]++;
  const failures = [];
  const methods = workload.map((q) => q.method);
  const paths = workload.map((q) => q.path);

  const contenders = [];
  const notes = new Map();
  for (const adapter of routerAdapters) {
    let built;
    try {
      built = adapter.build(table.routes);
    } catch (err) {
      failures.push(`router ${adapter.name}: build failed: ${err.message}`);
      continue;
    }
    let wrong = 0;
    let example = '';
    for (const q of workload) {
      const got = answerKey(built.normalize(built.find(q.method, q.path)));
      if (got !== answerKey(q.expect)) {
        wrong++;
        example ||= `${q.method} ${q.path}: expected ${answerKey(q.expect)}, got ${got}`;
      }
    }
    log(`  router correctness: ${adapter.name.padEnd(20)} ${wrong === 0 ? 'ok' : `${wrong} wrong answers`} (${workload.length} requests)`);
    if (wrong > 0) {
      failures.push(`router ${adapter.name}: ${wrong}/${workload.length} wrong, e.g. ${example}`);
      continue;
    }
    if (adapter.note) notes.set(adapter.name, adapter.note);
    contenders.push({ name: adapter.name, loop: makeLoop(built.find, methods, paths), opsPerIter: workload.length, slow: adapter.slow === true });
  }

  const opts = quick ? { rounds: 3, roundMs: 15, warmupMs: 30 } : { rounds: 7, roundMs: 150, warmupMs: 300 };
  // The linear reference matcher is ~1000× slower: a short separate pass keeps it out of the alternation budget.
  const fast = alternate(contenders.filter((c) => !c.slow), opts);
  const slow = alternate(contenders.filter((c) => c.slow), { rounds: 3, roundMs: quick ? 15 : 100, warmupMs: quick ? 15 : 100 });
  const results = new Map([...fast, ...slow]);
  const base = results.get('scopegate compiled');
  const rows = [...results].map(([name, r]) => [
    name,
    num(r.opsPerSec),
    num(r.nsPerOp, 1),
    ratio(base ? r.nsPerOp / base.nsPerOp : NaN),
    notes.get(name) ?? '',
  ]);
  const s = table.stats;
  const header =
    `Route table: GitHub REST API (@octokit/openapi ${table.specVersion}), ${s.specRoutes} METHOD+path routes in ${s.specPaths} paths; ` +
    `${s.renamedParams} param names with '-' renamed, ${s.mergedSegments} two-param segment ({base}...{head}) made one param, ` +
    `${s.droppedConflicts} route dropped as indistinguishable by scopegate (${table.conflicts.join('; ')}) → ${s.routes} routes.\n` +
    `Workload: ${workload.length} requests (${kinds.static} static, ${kinds.param} with params, ${kinds.miss} misses incl. unserved methods); median of ${opts.rounds} alternating rounds.`;
  const md = mdTable(['router', 'lookups/s', 'ns/op', 'time vs scopegate compiled', 'note'], rows);

  const sg = results.get('scopegate compiled');
  const mem = results.get('memoirist');
  const fmw = results.get('find-my-way');
  const targets = [];
  if (sg && mem) targets.push(target('router ≥ 1.0× memoirist (lookups/s)', sg.opsPerSec >= mem.opsPerSec, ratio(sg.opsPerSec / mem.opsPerSec)));
  if (sg && fmw) targets.push(target('router ≥ 2.5× find-my-way (lookups/s)', sg.opsPerSec >= 2.5 * fmw.opsPerSec, ratio(sg.opsPerSec / fmw.opsPerSec)));
  return {
    title: '1. Router',
    text: `${header}\n\n${md}`,
    targets,
    failures,
    data: { stats: s, conflicts: table.conflicts, kinds, results: Object.fromEntries([...results].map(([k, v]) => [k, { nsPerOp: v.nsPerOp, opsPerSec: v.opsPerSec }])) },
  };
}
