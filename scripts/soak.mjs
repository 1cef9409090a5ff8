#!/usr/bin/env node
/**
 * `npm run soak [-- --seconds N] [--connections C] [--distinct D] [--only drained|undrained]`:
 * the soak and fault suite (README, Soak and fault suite). The real built sidecar under
 * steady mixed load (allowed, 401, 403; thousands of distinct tokens) while the IdP
 * rotates its key, the config is reloaded and the upstream restarts; then the same with
 * the sidecar's stdout not read. Prints statuses, p50/p99 and RSS at the quarter marks,
 * one PASS/FAIL line per assertion, and exits 1 when any fails. Not part of `npm test`.
 */
import { parseArgs } from 'node:util';
import { report, RSS_GROWTH_LIMIT_MIB } from './soak/report.mjs';
import { runScenario } from './soak/scenario.mjs';

const SCENARIOS = [
  { name: 'drained', drained: true, what: 'stdout read line by line' },
  { name: 'undrained', drained: false, what: 'stdout a pipe nobody reads after the startup line' },
];

function options() {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '60' },
      connections: { type: 'string', default: '16' },
      distinct: { type: 'string', default: '4000' },
      only: { type: 'string' },
    },
  });
  const num = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${values[name]}`);
    return n;
  };
  const only = values.only;
  if (only !== undefined && !SCENARIOS.some((s) => s.name === only)) throw new Error(`--only must be ${SCENARIOS.map((s) => s.name).join(' or ')}`);
  return { seconds: num('seconds', 10), connections: num('connections', 1), distinct: num('distinct', 100), only };
}

async function main() {
  const o = options();
  console.log(`scopegate soak: ${o.seconds} s per scenario, node ${process.version}; RSS flat means ≤ ${RSS_GROWTH_LIMIT_MIB} MiB growth after the first quarter`);
  let failed = 0;
  const rates = {};
  for (const s of SCENARIOS.filter((x) => o.only === undefined || x.name === o.only)) {
    console.log(`\n${s.name}: ${s.what}`);
    const result = await runScenario({ name: s.name, drained: s.drained, seconds: o.seconds, connections: o.connections, distinct: o.distinct });
    const r = report(result);
    console.log(r.lines.join('\n'));
    failed += r.failed;
    rates[s.name] = r.rate;
  }
  if (rates.drained !== undefined && rates.undrained !== undefined) {
    console.log(`\nthroughput with stdout unread / read: ${(rates.undrained / rates.drained).toFixed(2)} (indicative on a shared machine)`);
  }
  console.log(failed === 0 ? '\nsoak: every assertion passed' : `\nsoak: ${failed} assertion(s) FAILED`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`soak: ${err?.stack ?? err}`);
    process.exitCode = 1;
  },
);
