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
import { HTTP_METHODS } from '../config/schema.js';
import { ScopegateError } from '../errors.js';
import { readSchemes, type CatalogueEntry } from './catalogue.js';
import { emitConfig, PLACEHOLDER_ISSUER } from './emit.js';
import { readOperations, type ImportedRoute } from './operations.js';
import { readServer, type ServerBase } from './paths.js';
import type { RouteRequirement, SecurityContext } from './security.js';
import { isObject, oneLine, stringField, type JsonObject } from './spec.js';

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

/** Routes are written sorted by path, then in this method order. */
const METHOD_ORDER = new Map<string, number>(HTTP_METHODS.map((m, i) => [m, i]));
/** Issuer hints (flow URLs) written in the auth comment before the rest are summarised. */
const MAX_ISSUER_HINTS = 8;

const UNDECLARED_DESCRIPTION = "(not declared in the spec's securitySchemes)";

export type { ImportedRoute };

export function importOpenApi(specText: string, sourceName: string, options: ImportOptions = {}): ImportResult {
  const spec = parseSpec(specText, sourceName);
  const warnings: string[] = [];
  const openapi = spec.openapi;
  if (/^3\.[2-9]/.test(openapi)) warnings.push(`OpenAPI ${oneLine(openapi)}: read as 3.1; operations under "query" and "additionalOperations" are skipped`);

  const { schemes, catalogue, issuerHints } = readSchemes(spec, warnings);
  const server = readServer(spec.servers);
  warnings.push(...server.warnings);
  const basePath = options.serverBasePath === false ? '' : server.basePath;
  const ctx: SecurityContext = { schemes, undeclared: options.undeclared ?? 'token' };
  const routes = readOperations(spec, basePath, ctx, warnings);

  if (routes.length === 0) {
    throw new OpenApiImportError(
      `${sourceName}: no operation could be mapped to a scopegate route${warnings.length > 0 ? `:\n  ${warnings.join('\n  ')}` : ' (the document has no operations)'}`,
    );
  }
  addUndeclaredScopes(routes, catalogue, warnings);

  routes.sort((a, b) => (a.template < b.template ? -1 : a.template > b.template ? 1 : (METHOD_ORDER.get(a.method) ?? 0) - (METHOD_ORDER.get(b.method) ?? 0)));
  const scopes = [...catalogue].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, e]) => ({ name, ...e }));

  const yaml = emitConfig({
    header: headerLines(spec, sourceName, options, { routes: routes.length, scopes: scopes.length, warnings }),
    upstreamUrl: server.origin ?? 'http://127.0.0.1:3000',
    upstreamComment: upstreamComment(server),
    issuerComment: issuerComment(issuerHints),
    scopes,
    routes,
  });
  return { yaml, warnings, routes: routes.length, scopes: scopes.length, entries: routes, catalogue: scopes };
}

/** Scopes routes require that no flow declares: added to the catalogue, said once in a warning. */
function addUndeclaredScopes(routes: readonly ImportedRoute[], catalogue: Map<string, CatalogueEntry>, warnings: string[]): void {
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
}

/** The header comment of the written file: where it came from, counts, and every warning. */
function headerLines(spec: JsonObject & { openapi: string }, sourceName: string, options: ImportOptions, counts: { routes: number; scopes: number; warnings: readonly string[] }): string[] {
  const info = isObject(spec.info) ? spec.info : {};
  const title = stringField(info, 'title');
  const version = stringField(info, 'version');
  const { routes, scopes, warnings } = counts;
  const now = (options.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const about = [title === undefined ? undefined : oneLine(title, 120), version === undefined ? undefined : `version ${oneLine(version, 40)}`]
    .filter((s) => s !== undefined)
    .join(', ');
  return [
    ...(options.schemaRef === undefined ? [] : [`yaml-language-server: $schema=${oneLine(options.schemaRef, 1000)}`, '']),
    `scopegate config generated from ${oneLine(sourceName)}${about === '' ? '' : ` (${about})`}`,
    `by \`scopegate import openapi\` on ${now}: OpenAPI ${oneLine(spec.openapi, 20)}, ${routes} route${routes === 1 ? '' : 's'}, ${scopes} scope${scopes === 1 ? '' : 's'}.`,
    'Before serving traffic with it: fill in auth.issuers, check upstream.url, read every warning below.',
    ...(warnings.length === 0 ? ['', 'No warnings.'] : ['', `Warnings (${warnings.length}):`, ...warnings.map((w) => `  - ${oneLine(w, 400)}`)]),
  ];
}

function upstreamComment(server: ServerBase): string {
  return server.origin !== undefined
    ? `from servers[0].url ${oneLine(server.url ?? '')}; as a sidecar, point this at your API's local address`
    : `placeholder: ${server.url === undefined ? 'the spec has no absolute servers[0].url' : `servers[0].url ${oneLine(server.url)} has no http(s) origin`}; set your API's address`;
}

function issuerComment(issuerHints: readonly string[]): string[] {
  return [
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
