/**
 * `scopegate import openapi SPEC`: an OpenAPI 3.0 / 3.1 document (YAML or JSON
 * text) → a complete, commented scopegate config that `scopegate check`
 * accepts, plus the warnings a human must read before serving traffic with it.
 *
 * Rules (each has a test in test/unit/openapi/):
 *
 * Routes
 *  - Every operation (paths × get put post delete options head patch) becomes
 *    one route `METHOD /path`, `{param}` → `:param` (names made identifiers;
 *    names never affect matching). `trace` (and OpenAPI 3.2 `query` /
 *    `additionalOperations`) has no scopegate method: skipped with a warning.
 *  - A path that scopegate cannot express exactly is skipped with a warning
 *    naming the operation: a parameter that is not a whole segment
 *    (`/files/{name}.json`), a literal `*` or leading `:`, a path the
 *    canonicalizer refuses. Never approximated: a looser template would
 *    authorize paths the spec never described, and an unmapped path is denied.
 *  - servers[0].url: its path (variables at their defaults) is prepended to
 *    every route (`serverBasePath: false` to disable); its origin, when it is
 *    an absolute http(s) URL, becomes upstream.url (else a placeholder).
 *    Path- and operation-level `servers` overrides are ignored with a warning.
 *  - Two operations scopegate cannot tell apart (same method, same path shape:
 *    `/users/{id}` and `/users/{name}`): the first in document order is kept,
 *    the later one is skipped with a warning.
 *  - Routes are written sorted by path, then method (GET HEAD POST PUT PATCH
 *    DELETE OPTIONS), one method per line.
 *
 * Security: see security.ts (operation `security` overrides the document's;
 * `[]` or an alternative `{}` is public; alternatives → any_of; scopes of one
 * requirement → all_of; non-OAuth schemes → `{ auth: token }` with a warning;
 * an inexpressible OR of ANDs → the first alternative's all_of, stricter).
 *
 * Scope catalogue (`scopes:`): every scope of every flow of every oauth2
 * scheme, with its description (the first non-empty one when flows disagree).
 * A scope a route requires that no flow declares (always the case for
 * openIdConnect, whose scopes live in the discovery document) is added with a
 * description saying so, and a warning. Invalid scope strings (RFC 6749 §3.3)
 * are left out with a warning.
 *
 * Everything copied from the spec into a comment is flattened to one line
 * first, so a hostile title or description cannot inject config.
 */
import { parseDocument } from 'yaml';
import { HTTP_METHODS, type HttpMethod } from '../config/schema.js';
import { unscopedWriteWarning, WRITE_METHODS } from '../config/vocabulary.js';
import { ScopegateError } from '../errors.js';
import { readFlows, type CatalogueEntry } from './catalogue.js';
import { emitConfig, PLACEHOLDER_ISSUER, type EmittedRoute } from './emit.js';
import { readServer, toRouteTemplate, type TemplateResult } from './paths.js';
import { mapSecurity, type RouteRequirement, type SchemeInfo, type SecurityContext } from './security.js';
import { isObject, oneLine, quote, resolveRef, stringField, type JsonObject } from './spec.js';

export interface ImportOptions {
  /** Prepend the path of servers[0].url to every route. Default true. */
  readonly serverBasePath?: boolean;
  /**
   * What an operation gets when neither it nor the document declares `security`.
   * Default 'token' (fail closed); 'none' follows the letter of OpenAPI (public).
   */
  readonly undeclared?: 'token' | 'none';
  /** Time written in the header comment. Default: now. */
  readonly now?: Date;
  /**
   * Where editors find config/scopegate.schema.json from the written file: the first line
   * becomes `# yaml-language-server: $schema=<schemaRef>` (the command computes it). Default: no such line.
   */
  readonly schemaRef?: string;
}

export interface ImportResult {
  /** The config file text. */
  readonly yaml: string;
  /** Human-readable, one fact each; also written in the YAML header. */
  readonly warnings: string[];
  /** Routes written. */
  readonly routes: number;
  /** Catalogue entries written. */
  readonly scopes: number;
  /** The routes written, in file order (what `--merge` compares with a config). */
  readonly entries: readonly ImportedRoute[];
  /** The catalogue written, sorted by name. */
  readonly catalogue: ReadonlyArray<{ readonly name: string } & Readonly<CatalogueEntry>>;
}

/** The document cannot be imported at all (not YAML/JSON, not OpenAPI 3.x, or no operation scopegate can map). */
export class OpenApiImportError extends ScopegateError {
  constructor(message: string) {
    super('ERR_OPENAPI_IMPORT', 500, message);
  }
}

/** OpenAPI operation keys, in the order scopegate writes methods. */
const METHOD_KEYS: ReadonlyArray<readonly [string, HttpMethod]> = HTTP_METHODS.map((m) => [m.toLowerCase(), m] as const);
const METHOD_ORDER = new Map<string, number>(HTTP_METHODS.map((m, i) => [m, i]));
/** Operation keys scopegate has no method for. */
const UNSUPPORTED_METHOD_KEYS = ['trace', 'query'] as const;

/** Operations named in one grouped warning before "and N more". */
const GROUP_SAMPLE = 3;
/** Issuer hints (flow URLs) written in the auth comment before the rest are summarised. */
const MAX_ISSUER_HINTS = 8;

const UNDECLARED_DESCRIPTION = "(not declared in the spec's securitySchemes)";

export interface ImportedRoute extends EmittedRoute {
  readonly method: HttpMethod;
  readonly template: string;
}
type Route = ImportedRoute;

export function importOpenApi(specText: string, sourceName: string, options: ImportOptions = {}): ImportResult {
  const spec = parseSpec(specText, sourceName);
  const warnings: string[] = [];
  const grouped = new Map<string, string[]>();
  const info = isObject(spec.info) ? spec.info : {};
  const title = stringField(info, 'title');
  const version = stringField(info, 'version');

  const openapi = spec.openapi as string;
  if (/^3\.[2-9]/.test(openapi)) warnings.push(`OpenAPI ${oneLine(openapi)}: read as 3.1; operations under "query" and "additionalOperations" are skipped`);

  // ── security schemes and the catalogue ──
  const components = isObject(spec.components) ? spec.components : {};
  const rawSchemes = isObject(components.securitySchemes) ? components.securitySchemes : {};
  const schemes = new Map<string, SchemeInfo>();
  const catalogue = new Map<string, CatalogueEntry>();
  const issuerHints: string[] = [];
  for (const [name, raw] of Object.entries(rawSchemes)) {
    const resolved = resolveRef(spec, raw);
    if ('error' in resolved) {
      warnings.push(`security scheme ${quote(name)}: ${resolved.error}; operations requiring it cannot be enforced`);
      continue;
    }
    const scheme = resolved.value;
    const type = isObject(scheme) ? stringField(scheme, 'type') : undefined;
    if (!isObject(scheme) || type === undefined) {
      warnings.push(`security scheme ${quote(name)} has no "type": operations requiring it cannot be enforced`);
      continue;
    }
    if (type === 'oauth2') {
      schemes.set(name, { oauth: true, label: 'oauth2' });
      readFlows(name, scheme, catalogue, issuerHints, warnings);
    } else if (type === 'openIdConnect') {
      schemes.set(name, { oauth: true, label: 'openIdConnect' });
      const url = stringField(scheme, 'openIdConnectUrl');
      issuerHints.push(`${oneLine(name)} (openIdConnect): ${url === undefined ? 'no openIdConnectUrl' : oneLine(url)}${url === undefined ? '' : ' (its "issuer" and "jwks_uri" are the values to use)'}`);
    } else {
      const detail = type === 'http' ? `http ${oneLine(stringField(scheme, 'scheme') ?? '?')}` : type === 'apiKey' ? `apiKey in ${oneLine(stringField(scheme, 'in') ?? '?')}` : oneLine(type);
      schemes.set(name, { oauth: false, label: detail });
    }
  }

  // ── servers ──
  const server = readServer(spec.servers);
  warnings.push(...server.warnings);
  const basePath = options.serverBasePath === false ? '' : server.basePath;

  const ctx: SecurityContext = { schemes, undeclared: options.undeclared ?? 'token' };
  const globalSecurity: unknown = Object.hasOwn(spec, 'security') ? spec.security : undefined;

  // ── operations ──
  const routes: Route[] = [];
  const byShape = new Map<string, string>();
  const paths = spec.paths;
  if (paths !== undefined && !isObject(paths)) warnings.push('"paths" is not a mapping: no operation read');
  for (const [path, rawItem] of Object.entries(isObject(paths) ? paths : {})) {
    const label = (m: string): string => `${m.toUpperCase()} ${oneLine(path)}`;
    const resolved = resolveRef(spec, rawItem);
    if ('error' in resolved || !isObject(resolved.value)) {
      warnings.push(`path ${quote(path)}: ${'error' in resolved ? resolved.error : 'not a mapping'}; its operations are skipped`);
      continue;
    }
    const item = resolved.value;
    if (item.servers !== undefined) warnings.push(`path ${quote(path)}: its own "servers" override is ignored (scopegate forwards every route to the one upstream)`);
    for (const m of UNSUPPORTED_METHOD_KEYS) {
      if (isObject(item[m])) warnings.push(`${label(m)}: skipped: scopegate has no ${m.toUpperCase()} method (requests with it are answered 405)`);
    }
    if (isObject(item.additionalOperations)) {
      for (const m of Object.keys(item.additionalOperations)) warnings.push(`${oneLine(m)} ${oneLine(path)}: skipped: additionalOperations are not imported`);
    }

    let template: TemplateResult | undefined;
    for (const [opKey, method] of METHOD_KEYS) {
      const op = item[opKey];
      if (op === undefined) continue;
      const where = label(opKey);
      if (!isObject(op)) {
        warnings.push(`${where}: skipped: the operation is not a mapping`);
        continue;
      }
      template ??= toRouteTemplate(basePath, path);
      if ('reason' in template) {
        warnings.push(`${where}: skipped: ${template.reason}`);
        continue;
      }
      if (op.servers !== undefined) warnings.push(`${where}: its own "servers" override is ignored`);

      const effective: unknown = Object.hasOwn(op, 'security') ? op.security : globalSecurity;
      const mapped = mapSecurity(effective, ctx);
      for (const issue of mapped.issues) {
        if (issue.group === undefined) warnings.push(`${where}: ${issue.message}`);
        else addGrouped(grouped, issue.group, where);
      }
      if (mapped.requirement === undefined) continue;

      const shapeKey = `${method} ${template.shape}`;
      const earlier = byShape.get(shapeKey);
      if (earlier !== undefined) {
        warnings.push(`${where}: skipped: scopegate cannot tell it apart from ${earlier} (same method, same path shape; parameter names do not count)`);
        continue;
      }
      byShape.set(shapeKey, where);

      const notes = [...mapped.notes];
      if (op.deprecated === true) notes.push('deprecated in the spec');
      const auth = mapped.requirement.kind;
      if (WRITE_METHODS.has(method) && (auth === 'token' || auth === 'none')) {
        // A write that needs no scope is what least privilege is about: said above the route, and once on stderr.
        notes.push(`WARNING: ${unscopedWriteWarning([method], auth)}`);
        addGrouped(grouped, `write operations that need no scope (${auth === 'token' ? '{ auth: token }: any valid token' : '{ auth: none }: anyone'} can change data)`, where);
      }
      const operationId = stringField(op, 'operationId');
      const trailing = [operationId === undefined ? undefined : oneLine(operationId, 80), mapped.inline].filter((x) => x !== undefined).join('; ');
      routes.push({
        method,
        template: template.template,
        key: `${method} ${template.template}`,
        requirement: mapped.requirement,
        notes,
        trailing: trailing === '' ? undefined : trailing,
      });
    }
  }

  for (const [group, ops] of grouped) {
    const more = ops.length > GROUP_SAMPLE ? ` and ${ops.length - GROUP_SAMPLE} more` : '';
    warnings.push(`${group}: ${ops.slice(0, GROUP_SAMPLE).join(', ')}${more}`);
  }

  if (routes.length === 0) {
    throw new OpenApiImportError(
      `${sourceName}: no operation could be mapped to a scopegate route${warnings.length > 0 ? `:\n  ${warnings.join('\n  ')}` : ' (the document has no operations)'}`,
    );
  }

  // ── scopes routes use that no flow declares ──
  const undeclared: string[] = [];
  for (const r of routes) {
    for (const s of requirementScopes(r.requirement)) {
      if (catalogue.has(s)) continue;
      catalogue.set(s, { description: UNDECLARED_DESCRIPTION, comment: 'added by the importer: a route requires it' });
      undeclared.push(s);
    }
  }
  if (undeclared.length > 0) {
    warnings.push(`scope${undeclared.length === 1 ? '' : 's'} ${undeclared.join(', ')} required by routes but declared by no OAuth 2 flow: added to the catalogue as "${UNDECLARED_DESCRIPTION}"`);
  }

  routes.sort((a, b) => (a.template < b.template ? -1 : a.template > b.template ? 1 : (METHOD_ORDER.get(a.method) ?? 0) - (METHOD_ORDER.get(b.method) ?? 0)));
  const scopes = [...catalogue].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, e]) => ({ name, ...e }));

  const now = (options.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const about = [title === undefined ? undefined : oneLine(title, 120), version === undefined ? undefined : `version ${oneLine(version, 40)}`]
    .filter((s) => s !== undefined)
    .join(', ');
  const header = [
    ...(options.schemaRef === undefined ? [] : [`yaml-language-server: $schema=${oneLine(options.schemaRef, 1000)}`, '']),
    `scopegate config generated from ${oneLine(sourceName)}${about === '' ? '' : ` (${about})`}`,
    `by \`scopegate import openapi\` on ${now}: OpenAPI ${oneLine(openapi, 20)}, ${routes.length} route${routes.length === 1 ? '' : 's'}, ${scopes.length} scope${scopes.length === 1 ? '' : 's'}.`,
    'Before serving traffic with it: fill in auth.issuers, check upstream.url, read every warning below.',
    ...(warnings.length === 0 ? ['', 'No warnings.'] : ['', `Warnings (${warnings.length}):`, ...warnings.map((w) => `  - ${oneLine(w, 400)}`)]),
  ];

  const upstreamComment = server.origin !== undefined
    ? `from servers[0].url ${oneLine(server.url ?? '')}; as a sidecar, point this at your API's local address`
    : `placeholder: ${server.url === undefined ? 'the spec has no absolute servers[0].url' : `servers[0].url ${oneLine(server.url)} has no http(s) origin`}; set your API's address`;

  const issuerComment = [
    'FILL IN: the issuer that signs this API\'s access tokens. These values are placeholders:',
    `issuer is the tokens' exact "iss", jwks_uri its public keys, audiences your API's "aud".`,
    ...(issuerHints.length === 0
      ? ['The spec names no OAuth 2 / OpenID Connect endpoint.']
      : [
          'The spec\'s OAuth endpoints, to help find them:',
          ...issuerHints.slice(0, MAX_ISSUER_HINTS).map((h) => `  ${h}`),
          ...(issuerHints.length > MAX_ISSUER_HINTS ? [`  … and ${issuerHints.length - MAX_ISSUER_HINTS} more`] : []),
        ]),
  ];

  const yaml = emitConfig({
    header,
    upstreamUrl: server.origin ?? 'http://127.0.0.1:3000',
    upstreamComment,
    issuerComment,
    scopes,
    routes,
  });
  return { yaml, warnings, routes: routes.length, scopes: scopes.length, entries: routes, catalogue: scopes };
}

function addGrouped(grouped: Map<string, string[]>, group: string, where: string): void {
  const ops = grouped.get(group) ?? [];
  ops.push(where);
  grouped.set(group, ops);
}

function requirementScopes(r: RouteRequirement): readonly string[] {
  return r.kind === 'all_of' || r.kind === 'any_of' ? r.scopes : [];
}

function parseSpec(text: string, sourceName: string): JsonObject & { openapi: string } {
  // uniqueKeys (the default): a duplicated key makes the document ambiguous, so it is an error, not a silent last-wins.
  const doc = parseDocument(text, { prettyErrors: true });
  const first = doc.errors[0];
  if (first !== undefined) throw new OpenApiImportError(`${sourceName}: not valid YAML or JSON: ${first.message}`);
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (err) {
    // e.g. an alias bomb past the library's maxAliasCount.
    throw new OpenApiImportError(`${sourceName}: cannot read the document: ${(err as Error).message}`);
  }
  if (!isObject(value)) throw new OpenApiImportError(`${sourceName}: not an OpenAPI document (expected a mapping at the top)`);
  if (value.swagger !== undefined && value.openapi === undefined) {
    throw new OpenApiImportError(`${sourceName}: Swagger ${oneLine(String(value.swagger))} is not supported: convert it to OpenAPI 3 first (e.g. with swagger2openapi)`);
  }
  const v = value.openapi;
  if (typeof v !== 'string' || !/^3\.\d+(\.\d+)?(-.*)?$/.test(v)) {
    throw new OpenApiImportError(`${sourceName}: not an OpenAPI 3.x document (openapi: ${v === undefined ? 'missing' : oneLine(JSON.stringify(v) ?? String(v))})`);
  }
  return value as JsonObject & { openapi: string };
}

export { PLACEHOLDER_ISSUER };
