/**
 * `scopegate status [--admin URL] [--config FILE]`: what the admin page shows
 * (README, "Admin page"), printed in the terminal from a running sidecar's
 * `/status`. Read-only, like the page.
 */
import { Agent } from 'undici';
import type { StatusDocument } from '../admin/status.js';
import { readConfigFile } from '../config/load.js';
import { DEFAULTS } from '../config/schema.js';
import { fetchBounded, OutboundFetchError } from '../net/fetch.js';
import { configPath, EXIT_FAILED, EXIT_OK, type CommandIo } from './io.js';
import { parseCommon, usageError } from './usage.js';

/** A status document is a few KiB per hundred routes; this bounds a wrong URL's answer. */
const MAX_STATUS_BYTES = 16 * 1024 * 1024;
/** The admin listener answers from memory: a second is plenty, and a hung port is reported quickly. */
const STATUS_TIMEOUT_MS = 5_000;

/** Wildcard binds are reached on loopback from the same host. */
const LOOPBACK_FOR: Readonly<Record<string, string>> = { '0.0.0.0': '127.0.0.1', '::': '::1', '': '127.0.0.1' };

/** --admin, else the config's admin_listen (when the config file reads), else the default address. */
export function adminUrl(flag: string | undefined, configFlag: string | undefined): string {
  if (flag !== undefined) return flag.includes('://') ? flag : `http://${flag}`;
  const { config } = readConfigFile(configPath(configFlag));
  const { host, port } = config?.adminListen ?? DEFAULTS.adminListen;
  const h = LOOPBACK_FOR[host] ?? host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

/** Control characters (a terminal escape in a route or a description) are shown, never sent to the terminal. */
const safe = (value: unknown): string =>
  String(value ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Rows as aligned columns, a header first; the last column is not padded. */
function columns(head: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [head, ...rows].map((r) => r.map(safe));
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

function issuerState(i: StatusDocument['issuers'][number]): string {
  if (!i.loaded) return 'NO KEYS';
  return i.last_error === null ? 'healthy' : 'stale (serving cached keys)';
}

function denialCause(d: StatusDocument['denials']['recent'][number]): string {
  return d.cause ?? (d.missing_scopes === null ? (d.code ?? '') : `missing ${d.missing_scopes.join(' ')}`);
}

/** The document as an operator reads it: one block per section of the admin page. */
export function formatStatus(s: StatusDocument): string {
  const c = s.config;
  const out = [
    `scopegate: ${s.ready.ready ? 'ready' : `NOT READY (${safe(s.ready.reason)})`}, started ${s.started_at}`,
    `config ${safe(c.file)} sha256 ${c.sha256}, loaded ${c.loaded_at}, generation ${c.generation} (${c.reloads} reloads), mode ${c.mode}, scope matching ${c.scope_matching}`,
    `upstream ${safe(s.upstream ?? 'none (authz only)')}`,
    '',
    columns(['LISTENER', 'URL'], s.listeners.map((l) => [l.name, l.url])),
    '',
    columns(['METHODS', 'PATH', 'REQUIRES', 'MODE'], s.routes.map((r) => [r.methods.join(','), r.path, r.requirement, r.mode + (r.respond === null ? '' : `, answers ${r.respond}`)])),
    '',
    s.scopes === null
      ? 'no scope catalogue'
      : columns(['SCOPE', 'DISPLAY NAME', 'REQUIRED', 'DEFAULT OFF', 'DEPRECATED', 'DESCRIPTION'], s.scopes.map((x) => [x.name, x.display_name ?? '', x.required ? 'yes' : '', x.default_off ? 'yes' : '', x.deprecated ? `yes${x.replaced_by === null ? '' : ` → ${x.replaced_by}`}` : '', x.description ?? ''])),
    '',
    columns(['ISSUER', 'STATE', 'KEYS', 'KIDS', 'LAST FETCH', 'NEXT REFRESH', 'LAST ERROR'], s.issuers.map((i) => [i.issuer, issuerState(i), i.keys, i.kids.join(','), i.last_fetch_at ?? 'never', i.next_refresh_at ?? '-', i.last_error ?? ''])),
  ];
  if (s.introspection !== null) out.push(`introspection ${safe(s.introspection.endpoint)} as client ${safe(s.introspection.client_id)}`);
  out.push('', columns(['REASON', 'REQUESTS SINCE START'], Object.entries(s.denials.counts)), '');
  out.push(
    s.denials.recent.length === 0
      ? `no recent denials (keeping up to ${s.denials.capacity})`
      : columns(['TIME', 'STATUS', 'REASON', 'CAUSE', 'METHOD', 'ROUTE', 'CLIENT', 'PATH'], s.denials.recent.map((d) => [d.time, d.status, d.reason, denialCause(d), d.method, d.route ?? '(no route)', d.client_id ?? d.sub ?? '', d.path ?? ''])),
  );
  return `${out.join('\n')}\n`;
}

async function fetchStatus(base: string): Promise<StatusDocument> {
  const agent = new Agent();
  try {
    const res = await fetchBounded(new URL('/status', base).href, { dispatcher: agent, timeoutMs: STATUS_TIMEOUT_MS, maxBytes: MAX_STATUS_BYTES, headers: { accept: 'application/json' } });
    return JSON.parse(res.body.toString('utf8')) as StatusDocument;
  } finally {
    await agent.destroy();
  }
}

export async function run(argv: readonly string[], io: CommandIo = {}): Promise<number> {
  const out = io.stdout ?? process.stdout;
  const err = io.stderr ?? process.stderr;
  const { values, positionals } = parseCommon(argv);
  if (positionals.length > 0) return usageError(err, `unexpected argument: ${positionals[0]}`);
  let base: string;
  try {
    base = new URL(adminUrl(values.admin, values.config)).href;
  } catch {
    return usageError(err, `--admin: not a URL or host:port: ${values.admin}`);
  }
  let doc: StatusDocument;
  try {
    doc = await fetchStatus(base);
  } catch (error) {
    const why = error instanceof OutboundFetchError ? error.message : error instanceof SyntaxError ? 'the answer is not JSON' : String(error);
    err.write(`scopegate status: ${base}status: ${why}\n`);
    return EXIT_FAILED;
  }
  if (doc.status_version !== 1) {
    err.write(`scopegate status: ${base}status: status_version ${safe(doc.status_version)} is not one this scopegate reads\n`);
    return EXIT_FAILED;
  }
  out.write(formatStatus(doc));
  return EXIT_OK;
}
