/** `scopegate check`: validate a config and print the compiled route table as an operator reads it. */
import { checkOnline, formatFindings } from '../config/online-check.js';
import type { Config } from '../config/schema.js';
import { compilePolicies } from '../policy/decide.js';
import { twinPairs } from '../policy/twins.js';
import { configPath, EXIT_FAILED, EXIT_OK, EXIT_USAGE, loadOrReport, type CommandIo } from './io.js';
import { fileArgument, parseCommon } from './usage.js';

/** A route table sorted by path then method, one line per method: METHOD  TEMPLATE  REQUIREMENT. */
export function formatRouteTable(config: Config): string {
  const { policies } = compilePolicies(config);
  const rows: [string, string, string][] = [];
  for (const route of policies) {
    for (const method of route.methods) rows.push([method, route.template, route.requirement.text]);
  }
  rows.sort((a, b) => (a[1] === b[1] ? a[0].localeCompare(b[0]) : a[1] < b[1] ? -1 : 1));
  const widths = [6, 8];
  for (const row of rows) {
    widths[0] = Math.max(widths[0] as number, row[0].length);
    widths[1] = Math.max(widths[1] as number, row[1].length);
  }
  const line = (r: [string, string, string]): string => `${r[0].padEnd(widths[0] as number)}  ${r[1].padEnd(widths[1] as number)}  ${r[2]}`;
  return [line(['METHOD', 'PATH', 'REQUIRES']), ...rows.map(line)].join('\n');
}

/**
 * The trailing-slash twin pairs whose requirements differ, one line each, or '' when none
 * (README, routes_trailing_slash): under `merge` a request to the path needs both.
 */
export function formatTwinPairs(config: Config): string {
  const { policies, matcher } = compilePolicies(config);
  const pairs = twinPairs(policies, matcher);
  if (pairs.length === 0) return '';
  const effect = config.routesTrailingSlash === 'merge' ? 'both requirements apply' : 'routes_trailing_slash: distinct, only the first applies';
  const lines = pairs.map((p) => `${p.method.padEnd(6)}  ${p.path}  ${p.matched.template} (${p.matched.requirement.text}) + twin ${p.twin.template} (${p.twin.requirement.text})`);
  return [`Trailing-slash twins with different requirements (${effect}):`, ...lines].join('\n');
}

/** Every scope some route requires (the catalogue's required ones included), once each, sorted. */
export function requiredScopes(config: Config): readonly string[] {
  const all = new Set<string>();
  for (const route of compilePolicies(config).policies) for (const s of route.requirement.scopes) all.add(s);
  return [...all].sort();
}

/**
 * `scopegate check [--config FILE | FILE] [--online]`: validate, print the route table. Exit 1 when invalid;
 * with --online also when an issuer's IdP disagrees with the config (config/online-check.ts).
 */
export async function run(argv: readonly string[], io: CommandIo = {}): Promise<number> {
  const out = io.stdout ?? process.stdout;
  const err = io.stderr ?? process.stderr;
  const args = parseCommon(argv);
  const named = fileArgument(args, err);
  if (named === undefined) return EXIT_USAGE;
  const file = configPath(named.file);
  const config = loadOrReport(file, err);
  if (config === undefined) {
    err.write(`${file}: invalid, not loaded\n`);
    return EXIT_FAILED;
  }
  out.write(`${formatRouteTable(config)}\n`);
  if (config.listen === undefined && config.authzListen !== undefined) {
    out.write(`authz only: decisions on ${config.authzListen.host}:${config.authzListen.port} (/authz/forward, /authz/envoy/...); no listen, no upstream: the proxy in front forwards\n`);
  }
  const twins = formatTwinPairs(config);
  if (twins !== '') out.write(`${twins}\n`);
  out.write(`${file}: ok, ${config.routes.length} routes, ${config.auth.issuers.length} issuer(s), config sha256 ${config.source.hash.slice(0, 12)}\n`);
  // Without --online, check reads only the file: nothing is fetched.
  if (args.values.online !== true) return EXIT_OK;
  const report = formatFindings(await checkOnline(config, requiredScopes(config)));
  out.write(`${report.text}\n`);
  return report.errors > 0 ? EXIT_FAILED : EXIT_OK;
}
