/**
 * YAML text → validated, deeply frozen Config (README, "The config file").
 *
 * The parts: yaml-reader.ts (positions, issues, "did you mean"), readers.ts and
 * values.ts (value readers), fields.ts and sections.ts (one table row per
 * option), routes.ts, catalogue.ts, lint.ts (checks across values). This file
 * runs them in order. All issues of a file are collected in one pass; nothing
 * here throws on bad input except loadConfigFile, which exists for callers
 * that want an exception.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { Node } from 'yaml';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { readCatalogue } from './catalogue.js';
import { checkIssuerShapes } from './claims.js';
import { readFields, withDefaults } from './fields.js';
import { checkCatalogue, checkIdentityHeaders, checkSenderConstrained, checkTimeouts, checkUniqueIssuers } from './lint.js';
import { readRoutes } from './routes.js';
import type { Config } from './schema.js';
import { AUTHZ_ONLY_TOP, TOP } from './sections.js';
import { createReporter, findKeyNode, findValue, isNothing, parseYaml, type Reporter } from './yaml-reader.js';

export { parseListen } from './values.js';

export interface LoadResult {
  /** Undefined when any issue has severity 'error'. */
  readonly config: Config | undefined;
  readonly issues: ConfigIssue[];
}

/** Parse and validate config text. Never throws on bad input. `file` is used in issues and as source.file (resolved). */
export function loadConfigText(text: string, file: string): LoadResult {
  const hash = createHash('sha256').update(text, 'utf8').digest('hex');
  return validateText(text, file, hash);
}

/** Read, parse and validate a config file. Never throws on bad input; an unreadable file is an issue at line 0. */
export function readConfigFile(file: string): { config?: Config; issues: ConfigIssue[] } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : `cannot read file (${code ?? String(err)})`;
    return { issues: [{ file, line: 0, col: 0, path: '', message: why, severity: 'error' }] };
  }
  let text: string;
  try {
    // fatal: a config with mangled bytes should fail loudly, not load with U+FFFD in a scope name.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { issues: [{ file, line: 0, col: 0, path: '', message: 'file is not valid UTF-8', severity: 'error' }] };
  }
  const hash = createHash('sha256').update(bytes).digest('hex');
  const { config, issues } = validateText(text, file, hash);
  return config === undefined ? { issues } : { config, issues };
}

/** Read and validate a config file; throws ConfigError carrying every error found. Warnings do not throw. */
export function loadConfigFile(file: string): Config {
  const { config, issues } = readConfigFile(file);
  if (config === undefined) throw new ConfigError(issues.filter((i) => i.severity === 'error'));
  return config;
}

function validateText(text: string, file: string, hash: string): LoadResult {
  const issues: ConfigIssue[] = [];
  const { doc, lineCounter, broken } = parseYaml(text, file, issues);
  const r = createReporter(file, lineCounter, issues);
  let config: Config | undefined;
  // A syntax error leaves a tree that no longer says what the author meant; validating it would only add noise.
  if (!broken) {
    const root = doc.contents as Node | null;
    if (root == null || isNothing(root)) {
      r.error(root, '', 'config is empty: expected a mapping with at least upstream, auth and routes');
    } else {
      config = build(root, r, file, hash);
    }
  }
  issues.sort((a, b) => a.line - b.line || a.col - b.col);
  const hasError = issues.some((i) => i.severity === 'error');
  return { config: hasError ? undefined : config && deepFreeze(config), issues };
}

/**
 * The sections first (one table pass, in file order), then what is keyed by
 * data (routes, the catalogue) and the checks across values. This order is the
 * order of issues that share a position, so it is kept as it is.
 */
function build(root: Node, r: Reporter, file: string, hash: string): Config | undefined {
  const rows = isAuthzOnly(root) ? AUTHZ_ONLY_TOP : TOP;
  const values = readFields(root, '', r, rows);
  if (values === undefined) return undefined;
  const { version: _version, scopes: _scopes, routes: _routes, resource: resourceOptions, ...sections } = withDefaults(rows, values);
  const routesNode = findValue(root, 'routes');
  const routes = findKeyNode(root, 'routes') !== undefined ? readRoutes(routesNode, 'routes', r, file) : undefined;

  const authNode = findValue(root, 'auth');
  checkUniqueIssuers(findValue(authNode, 'issuers'), r);
  checkIssuerShapes(findValue(authNode, 'issuers'), r);
  // JWT issuers, an introspection endpoint, or both: with neither, no token could ever be accepted.
  if (sections.auth !== undefined && findKeyNode(authNode, 'issuers') === undefined && findKeyNode(authNode, 'introspection') === undefined) {
    r.error(authNode, 'auth', 'missing required key "issuers" (or "introspection", for opaque tokens)');
  }
  checkIdentityHeaders(sections.identityHeaders, findValue(root, 'identity_headers'), r);

  const catalogueNode = findValue(root, 'scopes');
  const catalogue = findKeyNode(root, 'scopes') !== undefined ? readCatalogue(catalogueNode, 'scopes', r, file) : undefined;
  if (routes !== undefined) checkCatalogue(routes, routesNode, catalogue, catalogueNode, r);
  checkSenderConstrained(sections.auth, routes ?? [], authNode, routesNode, r);
  checkTimeouts(sections.limits, findValue(root, 'limits'), r);
  // TLS is served on `listen`: an authz-only config has none (its proxy in front terminates TLS).
  if (sections.tls !== undefined && sections.listen === undefined) r.error(findKeyNode(root, 'tls'), 'tls', 'applies to listen, which an authz-only config does not have');

  // The introspection endpoint's issuer, when named, is an authorization server too.
  const introspectionIssuer = sections.auth?.introspection?.issuer;
  const issuers = [...new Set([...(sections.auth?.issuers ?? []).map((i) => i.issuer), ...(introspectionIssuer === undefined ? [] : [introspectionIssuer])])];
  const resource =
    resourceOptions?.identifier === undefined
      ? undefined
      : { ...resourceOptions, authorizationServers: resourceOptions.authorizationServers ?? issuers };
  return { source: { file: resolvePath(file), hash }, ...sections, routes: routes ?? [], catalogue, resource };
}

/** `authz_listen` without `listen` and `upstream`: a decision service only (README, "Decisions for nginx, Caddy, Envoy and Traefik"). */
function isAuthzOnly(root: Node): boolean {
  return findKeyNode(root, 'authz_listen') !== undefined && findKeyNode(root, 'listen') === undefined && findKeyNode(root, 'upstream') === undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
