#!/usr/bin/env node
/**
 * scopegate benchmarks, one run, one report: router, decision, end to end, memory.
 *   npm run bench                 (from the repo root: builds, installs bench deps, runs)
 *   npm run bench -- --quick      smoke mode for CI: tiny counts, 1 s e2e runs; fails only on wrong answers or crashes
 *   node bench/run.mjs --only=router,decision
 * Exit code: 0 ok; 1 a correctness check failed or a section crashed. Missed targets never fail the run.
 */
import { cpus, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { killAll, hasCommand } from './lib/procs.mjs';
import { runRouter } from './sections/router.mjs';
import { runDecision } from './sections/decision.mjs';
import { runE2e } from './sections/e2e.mjs';
import { runMemory } from './sections/memory.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only='));
const only = onlyArg ? new Set(onlyArg.slice(7).split(',')) : undefined;
const log = (s) => process.stderr.write(`${s}\n`);

const sections = [
  ['router', runRouter],
  ['decision', runDecision],
  ['e2e', runE2e],
  ['memory', runMemory],
];

const started = Date.now();
const machine = {
  date: new Date().toISOString(),
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memGiB: (totalmem() / 2 ** 30).toFixed(1),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  wrk: hasCommand('wrk'),
  haproxy: hasCommand('haproxy'),
};
const out = [];
out.push(`# scopegate bench — ${quick ? 'QUICK (smoke, numbers meaningless)' : 'full'} run`);
out.push('');
out.push(`${machine.date} · ${machine.cpu} · ${machine.cores} cores · ${machine.memGiB} GiB · node ${machine.node} · ${machine.platform}`);
out.push(`Command: npm run bench${quick ? ' -- --quick' : ''}. Shared, noisy machine: read the ratios (measured in the same run, alternating), not the absolute numbers.`);

const failures = [];
const targets = [];
const data = { machine, quick };
for (const [name, run] of sections) {
  if (only && !only.has(name)) continue;
  log(`== ${name} ==`);
  const t0 = Date.now();
  try {
    const r = await run({ quick, log });
    out.push('', `## ${r.title}`, '', r.text);
    failures.push(...r.failures);
    targets.push(...r.targets);
    data[name] = r.data;
  } catch (err) {
    failures.push(`${name}: crashed: ${err?.stack ?? err}`);
    out.push('', `## ${name}`, '', `CRASHED: ${err?.message ?? err}`);
  }
  log(`   (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}
if (targets.length > 0) out.push('', '## Targets', '', ...targets, quick ? '(quick mode: numbers are not meaningful, targets are informational only)' : '');
out.push('', `Total bench time: ${((Date.now() - started) / 1000).toFixed(0)} s.`);
if (failures.length > 0) out.push('', '## CORRECTNESS FAILURES', '', ...failures.map((f) => `- ${f}`));
process.stdout.write(`${out.join('\n')}\n`);

try {
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}${quick ? 'quick' : 'latest'}.json`, `${JSON.stringify({ ...data, targets, failures }, null, 2)}\n`);
  writeFileSync(`${dir}${quick ? 'quick' : 'latest'}.md`, `${out.join('\n')}\n`);
} catch {}
killAll();
process.exit(failures.length > 0 ? 1 : 0);
